#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job.h"
#include "joblog.h"
#include "output.h"
#include "sink.h"
#include "source.h"
#include "util.h"

static const char header[] =
    "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\t"
    "Command\n";

/* The columns before Command, and how each is checked when read back. */
#define NUM_SPACES	0x1	/* leading blanks, as printf's %10.3f pads */
#define NUM_MINUS	0x2	/* a leading minus */
#define NUM_FRACTION	0x4	/* a fraction after a dot */
#define NUM_ANY		0x8	/* not a number: any text, empty too (the
				   Host of a job that ran nowhere) */

#define COL_SEQ		0
#define COL_EXITVAL	6
#define COL_SIGNAL	7
#define NCOLS		9

static const struct column {
	const char	*name;
	int		 flags;
} columns[NCOLS - 1] = {
	{ "Seq",	0 },
	{ "Host",	NUM_ANY },
	{ "Starttime",	NUM_FRACTION },
	{ "JobRuntime",	NUM_SPACES | NUM_MINUS | NUM_FRACTION },
	{ "Send",	0 },
	{ "Receive",	0 },
	{ "Exitval",	NUM_MINUS },
	{ "Signal",	0 },
};

struct joblog {
	struct sink	 sink;
	int		 fd;		/* -1: stdout, through output */
	struct output	*output;	/* borrowed */
	const char	*path;
	struct buf	 cmd;
	struct buf	 row;
};

/* What one row says of one job, while the log is read. */
struct logged {
	unsigned long long	 seq;
	size_t			 row;	/* the row's rank: the last one wins */
	size_t			 cmd;	/* offset of the command in cmds */
	int			 failed;
};

/* A failed job for --retry-failed. */
struct failed {
	unsigned long long	 seq;
	const char		*cmd;	/* in resume.cmds */
};

struct resume {
	struct source		 src;		/* --retry-failed */
	const char		*shell;
	enum resume_mode	 mode;
	unsigned long long	*skip;		/* sorted: the jobs to skip */
	size_t			 nskip;
	struct failed		*failed;	/* --retry-failed, by seq */
	size_t			 nfailed;
	size_t			 next;
	struct buf		 cmds;		/* the failed commands, each
						   NUL-terminated */
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

	jl = xcalloc(1, sizeof(*jl));
	jl->path = path;
	jl->fd = -1;
	/* "-": stdout, written through the output (joblog_set_output()). */
	if (strcmp(path, "-") == 0)
		return jl;
	fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC |
		    (append ? 0 : O_TRUNC), 0666);
	if (fd == -1 || joblog_start(fd) == -1) {
		warn("--joblog %s", path);
		if (fd != -1)
			(void)close(fd);
		free(jl);
		return NULL;
	}
	jl->fd = fd;
	return jl;
}

/*
 * A joblog on stdout goes through the output collector, which never
 * blocks: its header now, then a row as each job is printed.
 */
void
joblog_set_output(struct joblog *jl, struct output *out)
{
	if (jl->fd != -1)
		return;
	jl->output = out;
	output_write(out, 0, header, sizeof(header) - 1);
}

/* Close the joblog. */
void
joblog_close(struct joblog *jl)
{
	if (jl == NULL)
		return;
	if (jl->fd != -1)
		(void)close(jl->fd);
	buf_free(&jl->cmd);
	buf_free(&jl->row);
	free(jl);
}

/*
 * Append command s so that it holds no TAB, newline or other control byte,
 * which would end the column or the row: those and the backslash become
 * \t, \n, \r, \\ or \xHH.  A command that holds none of them is written as
 * it is, as GNU parallel writes it.
 */
static void
escape_command(struct buf *b, const char *s, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	char			 e[4];
	unsigned char		 c;
	size_t			 i, plain;

	for (i = plain = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c != '\\' && c >= 0x20 && c != 0x7f)
			continue;
		buf_add(b, s + plain, i - plain);
		plain = i + 1;
		e[0] = '\\';
		switch (c) {
		case '\\':
			buf_add(b, "\\\\", 2);
			break;
		case '\t':
			buf_add(b, "\\t", 2);
			break;
		case '\n':
			buf_add(b, "\\n", 2);
			break;
		case '\r':
			buf_add(b, "\\r", 2);
			break;
		default:
			e[1] = 'x';
			e[2] = hex[c >> 4];
			e[3] = hex[c & 0xf];
			buf_add(b, e, 4);
			break;
		}
	}
	buf_add(b, s + plain, len - plain);
}

/* The value of hex digit c, or -1. */
static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Undo escape_command() on s in place; the new length.  A backslash that
 * starts none of its escapes stands for itself, and a NUL byte for a
 * newline as GNU parallel writes one, so that logs GNU parallel wrote read
 * back as it meant them, unless they hold one of those escapes.
 */
static size_t
unescape_command(char *s, size_t len)
{
	size_t	 i, n;
	int	 hi, lo;

	for (i = n = 0; i < len; i++) {
		if (s[i] == '\0') {
			s[n++] = '\n';
			continue;
		}
		if (s[i] != '\\' || i + 1 == len) {
			s[n++] = s[i];
			continue;
		}
		switch (s[i + 1]) {
		case '\\':
			s[n++] = '\\';
			i++;
			continue;
		case 't':
			s[n++] = '\t';
			i++;
			continue;
		case 'n':
			s[n++] = '\n';
			i++;
			continue;
		case 'r':
			s[n++] = '\r';
			i++;
			continue;
		case 'x':
			/* A NUL cannot be part of a command line. */
			if (i + 3 < len && (hi = hex_digit(s[i + 2])) != -1 &&
			    (lo = hex_digit(s[i + 3])) != -1 && hi + lo > 0) {
				s[n++] = (char)(hi << 4 | lo);
				i += 3;
				continue;
			}
			break;
		default:
			break;
		}
		s[n++] = '\\';
	}
	s[n] = '\0';
	return n;
}

/*
 * Write j's row in one write(2): GNU parallel's columns, with Exitval -1
 * for a job ended by --timeout and Signal the signal that ended a job.
 */
int
joblog_write(struct joblog *jl, const struct job *j)
{
	char	 fields[200];
	int	 sig = 0, code = j->exit_code;

	if (j->started && j->signal != 0) {
		sig = j->signal;
		code = 0;
	}
	if (j->timed_out)
		code = -1;
	(void)snprintf(fields, sizeof(fields),
	    "%llu\t%s\t%.3f\t%10.3f\t%llu\t%llu\t%d\t%d\t", j->seq,
	    j->host != NULL ? j->host : ":", j->start_time,
	    (j->end_ms - j->start_ms) / 1000.0, j->sent, j->received, code,
	    sig);
	buf_reset(&jl->cmd);
	job_display(j, &jl->cmd);
	buf_reset(&jl->row);
	buf_adds(&jl->row, fields);
	escape_command(&jl->row, jl->cmd.data, jl->cmd.len);
	buf_addc(&jl->row, '\n');
	if (jl->fd == -1) {
		/* A stdout that fails or was closed is the output's to tell. */
		output_write(jl->output, 0, jl->row.data, jl->row.len);
		return output_status(jl->output) == OUTPUT_OK ? 0 : -1;
	}
	if (write_all(jl->fd, jl->row.data, jl->row.len) == -1) {
		warn("--joblog %s", jl->path);
		return -1;
	}
	return 0;
}

/*
 * Whether s is a number as flags allow (NUM_*), or with partial, the start
 * of one: digits, after blanks or a minus if allowed, then a dot and
 * digits if allowed.
 */
static int
number_ok(const char *s, size_t len, int flags, int partial)
{
	size_t	 i = 0, digits;

	if (flags & NUM_ANY)
		return memchr(s, '\0', len) == NULL;
	if (flags & NUM_SPACES)
		while (i < len && s[i] == ' ')
			i++;
	if ((flags & NUM_MINUS) && i < len && s[i] == '-')
		i++;
	for (digits = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		;
	if (i == digits)
		return partial && i == len;
	if ((flags & NUM_FRACTION) && i < len && s[i] == '.') {
		for (digits = ++i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == digits)
			return partial && i == len;
	}
	return i == len;
}

/* Whether integer s, already checked, is zero. */
static int
is_zero(const char *s)
{
	return s[strspn(s, "-0")] == '\0';
}

/* Order by job number, then by row. */
static int
by_seq(const void *a, const void *b)
{
	const struct logged	*x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

/*
 * Split row line (len bytes, no newline) into its columns, NUL-terminated
 * in place; the number of columns, at most NCOLS (the last holds the rest,
 * TABs and all, as GNU parallel writes a TAB in Command as it is).
 */
static size_t
split_row(char *line, size_t len, char **col, size_t *collen)
{
	char	*p = line, *end = line + len, *tab;
	size_t	 n;

	for (n = 0; n < NCOLS - 1; n++) {
		col[n] = p;
		if ((tab = memchr(p, '\t', (size_t)(end - p))) == NULL)
			break;
		*tab = '\0';
		collen[n] = (size_t)(tab - p);
		p = tab + 1;
	}
	if (n < NCOLS - 1) {
		collen[n] = (size_t)(end - p);
		return n + 1;
	}
	col[n] = p;
	collen[n] = (size_t)(end - p);
	return NCOLS;
}

/*
 * Check the columns of a row; with partial, the row was cut short and its
 * last column may be incomplete.  Sets *seq; 0, or -1 after a message.
 */
static int
check_row(const char *path, size_t lineno, char **col, size_t *collen,
    size_t ncols, int partial, unsigned long long *seq)
{
	const char	*errstr = NULL;
	size_t		 i;
	int		 last;

	for (i = 0; i < ncols && i < NCOLS - 1; i++) {
		last = partial && i == ncols - 1;
		if (!number_ok(col[i], collen[i], columns[i].flags, last))
			errstr = "invalid";
		else if (i == COL_SEQ && !last)
			*seq = (unsigned long long)strtonum(col[i], 1,
			    LLONG_MAX, &errstr);
		if (errstr != NULL) {
			warnx("%s:%zu: bad row: %s \"%s\" is %s", path, lineno,
			    columns[i].name, col[i], errstr);
			return -1;
		}
	}
	return 0;
}

/* Whether line (len bytes, no newline) is the header or the start of one. */
static int
is_header(const char *line, size_t len)
{
	return len < sizeof(header) - 1 && memcmp(line, header, len) == 0;
}

/*
 * Read the rows of f into *rows; 0, or -1 after a message.  A row that has
 * fewer than 9 columns, or that is the last line and has no newline, was
 * cut short by a crash: it is checked as far as it goes, then skipped, so
 * that its job runs again.  Commands are kept, decoded, for failed jobs
 * only and only with keep_cmds.
 */
static int
read_rows(FILE *f, const char *path, int keep_cmds, struct buf *cmds,
    struct logged **rows, size_t *nrows)
{
	struct logged		*l;
	char			*line = NULL, *col[NCOLS];
	size_t			 cap = 0, collen[NCOLS], ncols, lineno, n = 0;
	size_t			 alloc = 0, len;
	ssize_t			 got;
	unsigned long long	 seq = 0;
	int			 partial, rv = -1;

	for (lineno = 1; (got = getline(&line, &cap, f)) != -1; lineno++) {
		len = (size_t)got;
		partial = len == 0 || line[len - 1] != '\n';
		if (!partial)
			line[--len] = '\0';
		if (is_header(line, len))
			continue;
		ncols = split_row(line, len, col, collen);
		partial = partial || ncols < NCOLS;
		if (check_row(path, lineno, col, collen, ncols, partial,
		    &seq) == -1)
			goto out;
		if (partial)
			continue;
		if (n == alloc) {
			alloc = alloc == 0 ? 1024 : alloc * 2;
			*rows = xreallocarray(*rows, alloc, sizeof(**rows));
		}
		l = &(*rows)[n];
		l->seq = seq;
		l->row = n++;
		l->failed = !is_zero(col[COL_EXITVAL]) ||
		    !is_zero(col[COL_SIGNAL]);
		l->cmd = cmds->len;
		if (keep_cmds && l->failed) {
			len = unescape_command(col[NCOLS - 1],
			    collen[NCOLS - 1]);
			buf_add(cmds, col[NCOLS - 1], len + 1);
		}
	}
	if (ferror(f)) {
		warn("--joblog %s", path);
		goto out;
	}
	rv = 0;
out:
	*nrows = n;
	free(line);
	return rv;
}

/*
 * Keep the last row of each job (rows, sorted), and from those the jobs
 * that mode skips or retries.  O(n log n): a search per row for an earlier
 * one took 36 s for 300,000 rows.
 */
static void
resume_index(struct resume *r, struct logged *rows, size_t nrows)
{
	size_t	 i, last;

	/* qsort() must not be given NULL, even for no elements. */
	if (nrows > 1)
		qsort(rows, nrows, sizeof(*rows), by_seq);
	for (i = 0; i < nrows; i++) {
		last = i + 1 == nrows || rows[i + 1].seq != rows[i].seq;
		if (!last)
			continue;
		if (r->mode == RETRY_FAILED) {
			if (!rows[i].failed)
				continue;
			if (r->failed == NULL)
				r->failed = xreallocarray(NULL, nrows,
				    sizeof(*r->failed));
			r->failed[r->nfailed].seq = rows[i].seq;
			r->failed[r->nfailed++].cmd = r->cmds.data +
			    rows[i].cmd;
		} else if (r->mode == RESUME || !rows[i].failed) {
			if (r->skip == NULL)
				r->skip = xreallocarray(NULL, nrows,
				    sizeof(*r->skip));
			r->skip[r->nskip++] = rows[i].seq;
		}
	}
}

/* Read a joblog; see joblog.h. */
struct resume *
resume_load(const char *path, enum resume_mode mode)
{
	struct resume	*r;
	struct logged	*rows = NULL;
	FILE		*f;
	size_t		 nrows;
	int		 rv;

	r = xcalloc(1, sizeof(*r));
	r->mode = mode;
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return r;
		warn("--joblog %s", path);
		free(r);
		return NULL;
	}
	rv = read_rows(f, path, mode == RETRY_FAILED, &r->cmds, &rows, &nrows);
	(void)fclose(f);
	if (rv == 0)
		resume_index(r, rows, nrows);
	free(rows);
	if (rv == -1) {
		resume_free(r);
		return NULL;
	}
	return r;
}

/* Release what resume_load() read. */
void
resume_free(struct resume *r)
{
	if (r == NULL)
		return;
	free(r->skip);
	free(r->failed);
	buf_free(&r->cmds);
	free(r);
}

/* Whether job seq is to be skipped. */
int
resume_skip(const struct resume *r, unsigned long long seq)
{
	size_t	 lo, hi, mid;

	if (r == NULL)
		return 0;
	for (lo = 0, hi = r->nskip; lo < hi;) {
		mid = lo + (hi - lo) / 2;
		if (r->skip[mid] == seq)
			return 1;
		if (r->skip[mid] < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* The next failed job for --retry-failed. */
static int
resume_next_failed(struct resume *r, unsigned long long *seq,
    const char **cmd)
{
	if (r->next >= r->nfailed)
		return 0;
	*seq = r->failed[r->next].seq;
	*cmd = r->failed[r->next++].cmd;
	return 1;
}

/* --retry-failed: the next failed command, run again as it was. */
static enum source_status
failed_next(void *ctx, struct job **jobp)
{
	struct resume		*r = ctx;
	unsigned long long	 seq;
	const char		*cmd;

	if (!resume_next_failed(r, &seq, &cmd))
		return SOURCE_DONE;
	*jobp = job_new(seq);
	buf_adds(&(*jobp)->cmd, cmd);
	job_set_argv(*jobp, 1, r->shell);
	return SOURCE_JOB;
}

/* Nothing to wait for: the log was read whole. */
static int
failed_fd(void *ctx)
{
	(void)ctx;
	return -1;
}

/* A logged command is as it was: {%} in it was expanded then. */
static void
failed_render(void *ctx, struct job *j)
{
	(void)ctx;
	(void)j;
}

/* No record is ever rejected. */
static unsigned long long
failed_rejected(void *ctx, unsigned long long *last)
{
	(void)ctx;
	*last = 0;
	return 0;
}

static const struct source_ops	failed_ops = {
	.next = failed_next,
	.fd = failed_fd,
	.render = failed_render,
	.rejected = failed_rejected,
};

/* --retry-failed as a source; see joblog.h. */
struct source *
resume_source(struct resume *r, const char *shell)
{
	r->src.ops = &failed_ops;
	r->src.ctx = r;
	r->shell = shell;
	return &r->src;
}

/* The joblog sink: a row for each printed job that was not cut short. */
static int
joblog_printed(void *ctx, const struct job *j)
{
	/* An interrupted job did not finish: a --resume runs it again. */
	if (j->interrupted)
		return 0;
	return joblog_write(ctx, j);
}

static const struct sink_ops	joblog_ops = {
	.printed = joblog_printed,
};

/* The joblog as a sink; see joblog.h. */
struct sink *
joblog_sink(struct joblog *jl)
{
	jl->sink.ops = &joblog_ops;
	jl->sink.ctx = jl;
	return &jl->sink;
}
