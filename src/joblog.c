#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job.h"
#include "joblog.h"
#include "util.h"

/*
 * The largest job number a log row may have.  The maps hold a bit for every
 * number up to the largest seen, so a corrupt row must not grow them without
 * bound (here at most 512 MiB each) nor, past 2^63, make their growth loop
 * forever.  4 billion jobs at 10,000 a second take five days.
 */
#define RESUME_MAX_SEQ	4294967295ULL

static const char header[] =
    "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\t"
    "Command\n";

struct joblog {
	int		 fd;
	const char	*path;
	struct buf	 row;
};

/* What a joblog says of one job: the last row for its Seq wins. */
struct logged {
	unsigned long long	 seq;
	int			 failed;
	char			*cmd;
};

struct resume {
	enum resume_mode	 mode;
	unsigned char		*done;		/* bit per seq: has a row */
	unsigned char		*ok;		/* bit per seq: last row succeeded */
	unsigned long long	 nbits;
	struct logged		*failed;	/* --retry-failed, by seq */
	size_t			 nfailed;
	size_t			 next;
};

/* Whether the file's last byte is a newline. */
static int
ends_in_newline(int fd, off_t size)
{
	char	 c;

	return pread(fd, &c, 1, size - 1) == 1 && c == '\n';
}

/* Take an exclusive flock(2) on fd; whether it was taken. */
static int
lock_file(int fd)
{
	int	 rv;

	while ((rv = flock(fd, LOCK_EX)) == -1 && errno == EINTR)
		;
	return rv == 0;
}

/*
 * Write the header to a new or empty file and end a row torn by a crash.
 * Under an exclusive flock(2), because two forkpools appending to the same
 * new file otherwise both see it empty and both write a header.
 */
static int
joblog_start(int fd)
{
	struct stat	 st;
	int		 locked, rv = -1;

	if (fstat(fd, &st) == -1)
		return -1;
	/*
	 * Where the file system has no locks, go on unlocked: a second header
	 * is a lesser harm than no job log at all.
	 */
	locked = S_ISREG(st.st_mode) && lock_file(fd);
	if (locked && fstat(fd, &st) == -1)
		goto out;
	if ((st.st_size == 0 || !S_ISREG(st.st_mode)) &&
	    write_all(fd, header, sizeof(header) - 1) == -1)
		goto out;
	/* A row torn by a crash is ended, so that the next row stands whole. */
	if (S_ISREG(st.st_mode) && st.st_size > 0 &&
	    !ends_in_newline(fd, st.st_size) && write_all(fd, "\n", 1) == -1)
		goto out;
	rv = 0;
out:
	if (locked)
		(void)flock(fd, LOCK_UN);
	return rv;
}

/* Open the joblog and write the header unless appending to a non-empty one. */
struct joblog *
joblog_open(const char *path, int append)
{
	struct joblog	*jl;
	int		 fd;

	if (strcmp(path, "-") == 0)
		fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	else
		fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC |
		    (append ? 0 : O_TRUNC), 0666);
	if (fd == -1) {
		warn("--joblog %s", path);
		return NULL;
	}
	if (joblog_start(fd) == -1) {
		warn("--joblog %s", path);
		close(fd);
		return NULL;
	}
	jl = xcalloc(1, sizeof(*jl));
	jl->fd = fd;
	jl->path = path;
	return jl;
}

/* Close the joblog. */
void
joblog_close(struct joblog *jl)
{
	if (jl == NULL)
		return;
	close(jl->fd);
	buf_free(&jl->row);
	free(jl);
}

/*
 * Write j's row in one write(2): GNU parallel's columns, with Exitval -1
 * for a job ended by --timeout and Signal the signal that ended a job.
 */
int
joblog_write(struct joblog *jl, const struct job *j)
{
	char	 fields[160];
	int	 sig = 0, code = j->exit_code;

	if (j->reaped && j->pid > 0 && WIFSIGNALED(j->status)) {
		sig = WTERMSIG(j->status);
		code = 0;
	}
	if (j->timed_out)
		code = -1;
	(void)snprintf(fields, sizeof(fields),
	    "%llu\t:\t%.3f\t%10.3f\t0\t0\t%d\t%d\t", j->seq, j->start_time,
	    (j->end_ms - j->start_ms) / 1000.0, code, sig);
	buf_reset(&jl->row);
	buf_adds(&jl->row, fields);
	job_display(j, &jl->row);
	buf_addc(&jl->row, '\n');
	if (write_all(jl->fd, jl->row.data, jl->row.len) == -1) {
		warn("--joblog %s", jl->path);
		return -1;
	}
	return 0;
}

/* Set or clear bit seq, growing the map. */
static void
set_bit(struct resume *r, unsigned char **map, unsigned long long seq, int on)
{
	unsigned long long	 n;

	if (seq >= r->nbits) {
		n = r->nbits == 0 ? 1024 : r->nbits;
		while (n <= seq)
			n *= 2;
		r->done = xreallocarray(r->done, n / 8, 1);
		r->ok = xreallocarray(r->ok, n / 8, 1);
		memset(r->done + r->nbits / 8, 0, (n - r->nbits) / 8);
		memset(r->ok + r->nbits / 8, 0, (n - r->nbits) / 8);
		r->nbits = n;
	}
	if (on)
		(*map)[seq / 8] |= (unsigned char)(1u << (seq % 8));
	else
		(*map)[seq / 8] &= (unsigned char)~(1u << (seq % 8));
}

/* Whether bit seq is set. */
static int
get_bit(const struct resume *r, const unsigned char *map,
    unsigned long long seq)
{
	return seq < r->nbits && (map[seq / 8] >> (seq % 8)) & 1;
}

/* Remember a failed job's command for --retry-failed (last row wins). */
static void
note_failed(struct resume *r, unsigned long long seq, const char *cmd,
    int failed)
{
	size_t	 i;

	for (i = 0; i < r->nfailed; i++)
		if (r->failed[i].seq == seq)
			break;
	if (i == r->nfailed) {
		if (!failed)
			return;
		r->failed = xreallocarray(r->failed, r->nfailed + 1,
		    sizeof(*r->failed));
		r->failed[r->nfailed++].cmd = NULL;
	}
	free(r->failed[i].cmd);
	r->failed[i].seq = seq;
	r->failed[i].failed = failed;
	r->failed[i].cmd = xstrdup(cmd);
}

static int
by_seq(const void *a, const void *b)
{
	const struct logged	*x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Read a joblog; see joblog.h. */
struct resume *
resume_load(const char *path, enum resume_mode mode)
{
	struct resume		*r;
	FILE			*f;
	char			*line = NULL, *p, *field[9];
	size_t			 cap = 0, i, k;
	ssize_t			 len;
	unsigned long long	 seq;
	int			 failed;

	r = xcalloc(1, sizeof(*r));
	r->mode = mode;
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return r;
		warn("--joblog %s", path);
		free(r);
		return NULL;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		/* Rows start with a Seq; the header and torn rows do not. */
		if (line[0] < '0' || line[0] > '9')
			continue;
		p = line;
		for (k = 0; k < 8; k++) {
			field[k] = strsep(&p, "\t");
			if (p == NULL)
				break;
		}
		if (k < 8)
			continue;
		field[8] = p;
		seq = strtoull(field[0], NULL, 10);
		if (seq == 0)
			continue;
		if (seq > RESUME_MAX_SEQ) {
			warnx("--joblog %s: job number %s is too large", path,
			    field[0]);
			goto fail;
		}
		/* strtol: atoi() is undefined for a number out of range. */
		failed = strtol(field[6], NULL, 10) != 0 ||
		    strtol(field[7], NULL, 10) != 0;
		set_bit(r, &r->done, seq, 1);
		set_bit(r, &r->ok, seq, !failed);
		if (mode == RETRY_FAILED)
			note_failed(r, seq, field[8], failed);
	}
	free(line);
	(void)fclose(f);
	/* Keep only those whose last row failed, in seq order. */
	for (i = k = 0; i < r->nfailed; i++) {
		if (r->failed[i].failed)
			r->failed[k++] = r->failed[i];
		else
			free(r->failed[i].cmd);
	}
	r->nfailed = k;
	/* qsort() must not be given NULL, even for no elements. */
	if (r->nfailed > 1)
		qsort(r->failed, r->nfailed, sizeof(*r->failed), by_seq);
	return r;
fail:
	free(line);
	(void)fclose(f);
	resume_free(r);
	return NULL;
}

/* Release what resume_load() read. */
void
resume_free(struct resume *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nfailed; i++)
		free(r->failed[i].cmd);
	free(r->failed);
	free(r->done);
	free(r->ok);
	free(r);
}

/* Whether job seq is to be skipped. */
int
resume_skip(const struct resume *r, unsigned long long seq)
{
	if (r == NULL)
		return 0;
	if (r->mode == RESUME)
		return get_bit(r, r->done, seq);
	return get_bit(r, r->ok, seq);
}

/* The next failed job for --retry-failed. */
int
resume_next_failed(struct resume *r, unsigned long long *seq,
    const char **cmd)
{
	if (r->next >= r->nfailed)
		return 0;
	*seq = r->failed[r->next].seq;
	*cmd = r->failed[r->next++].cmd;
	return 1;
}
