#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "job.h"
#include "sink.h"
#include "summary.h"
#include "util.h"

/* How many of the slowest jobs are named. */
#define NSLOWEST	5

/* A job named in the summary, with its command as one line. */
struct named {
	unsigned long long	 seq;
	long long		 value;		/* runtime in ms, or peak RSS */
	struct buf		 cmd;
};

struct summary {
	struct sink		 sink;
	const char		*tmpdir;	/* borrowed */
	long long		 start_ms;
	unsigned long long	 succeeded;
	unsigned long long	 failed;
	unsigned long long	 unlisted;	/* failed, not in the file */
	unsigned long long	 rejected;
	long long		 cpu_us;
	unsigned long long	 cpu_unknown;	/* jobs that ran, CPU time
						   not known */
	int			 fd;		/* the failed jobs' lines, or
						   -1 before the first */
	int			 no_file;	/* it cannot be made or written */
	struct named		 slowest[NSLOWEST];	/* slowest first */
	size_t			 nslowest;
	struct named		 peak;		/* seq 0: none yet */
	struct buf		 line;
};

/* Milliseconds on the monotonic clock, as the runner times the jobs. */
static long long
mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A summary of the run that starts now; see summary.h. */
struct summary *
summary_new(const char *tmpdir)
{
	struct summary	*s;

	s = xcalloc(1, sizeof(*s));
	s->tmpdir = tmpdir;
	s->start_ms = mono_ms();
	s->fd = -1;
	return s;
}

/* Release the summary and its file. */
void
summary_free(struct summary *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	if (s->fd != -1)
		close(s->fd);
	for (i = 0; i < NSLOWEST; i++)
		buf_free(&s->slowest[i].cmd);
	buf_free(&s->peak.cmd);
	buf_free(&s->line);
	free(s);
}

/*
 * Append j's command to b as one line: a value may hold a newline or
 * other control bytes, shown as C escapes.
 */
static void
add_command(struct buf *b, const struct job *j)
{
	static const char	 hex[] = "0123456789abcdef";
	struct buf		 cmd = { 0 };
	unsigned char		 c;
	size_t			 i;

	job_display(j, &cmd);
	for (i = 0; i < cmd.len; i++) {
		c = (unsigned char)cmd.data[i];
		if (c >= 0x20 && c != 0x7f) {
			buf_addc(b, (char)c);
			continue;
		}
		buf_addc(b, '\\');
		if (c == '\n')
			buf_addc(b, 'n');
		else if (c == '\t')
			buf_addc(b, 't');
		else if (c == '\r')
			buf_addc(b, 'r');
		else {
			buf_addc(b, 'x');
			buf_addc(b, hex[c >> 4]);
			buf_addc(b, hex[c & 0xf]);
		}
	}
	if (b->data == NULL)
		buf_adds(b, "");
	buf_free(&cmd);
}

/* Make the failed jobs' file on first use: created and unlinked at once. */
static int
open_file(struct summary *s)
{
	if (s->fd != -1 || s->no_file)
		return s->no_file ? -1 : 0;
	if ((s->fd = temp_file(s->tmpdir, NULL)) == -1) {
		warn("cannot create a file for --summary in %s", s->tmpdir);
		s->no_file = 1;
	}
	return s->no_file ? -1 : 0;
}

/* Write a failed job's line to the file, or count it as not listed. */
static void
list_failed(struct summary *s, const struct job *j)
{
	struct buf	*b = &s->line;
	char		 num[96];

	buf_reset(b);
	(void)snprintf(num, sizeof(num), "forkpool: failed: job %llu, ",
	    j->seq);
	buf_adds(b, num);
	if (j->interrupted)
		buf_adds(b, "interrupted, ");
	else if (j->timed_out)
		buf_adds(b, "timed out, ");
	if (j->signal != 0)
		(void)snprintf(num, sizeof(num), "signal %d", j->signal);
	else
		(void)snprintf(num, sizeof(num), "exit %d", j->exit_code);
	buf_adds(b, num);
	if (!j->started)
		buf_adds(b, ", not started");
	buf_adds(b, ": ");
	add_command(b, j);
	buf_addc(b, '\n');
	if (open_file(s) == -1) {
		s->unlisted++;
		return;
	}
	if (write_all(s->fd, b->data, b->len) == -1) {
		warn("cannot write the --summary file in %s", s->tmpdir);
		s->no_file = 1;
		s->unlisted++;
	}
}

/* Keep j among the slowest jobs if it is one. */
static void
rank_runtime(struct summary *s, const struct job *j)
{
	struct named	 last;
	long long	 ms = j->end_ms - j->start_ms;
	size_t		 i;

	if (!j->started)
		return;
	if (s->nslowest == NSLOWEST && ms <= s->slowest[NSLOWEST - 1].value)
		return;
	/* The last entry's buffer is reused for the new one. */
	if (s->nslowest < NSLOWEST)
		s->nslowest++;
	last = s->slowest[s->nslowest - 1];
	for (i = s->nslowest - 1; i > 0 && s->slowest[i - 1].value < ms; i--)
		s->slowest[i] = s->slowest[i - 1];
	s->slowest[i] = last;
	s->slowest[i].seq = j->seq;
	s->slowest[i].value = ms;
	buf_reset(&s->slowest[i].cmd);
	add_command(&s->slowest[i].cmd, j);
}

/* A job's output was printed: its result is final. */
static int
summary_printed(void *ctx, const struct job *j)
{
	struct summary	*s = ctx;

	if (j->failed) {
		s->failed++;
		list_failed(s, j);
	} else
		s->succeeded++;
	/* Failed attempts before a retry used CPU time too. */
	s->cpu_us += j->earlier_cpu_us;
	if (j->utime_us >= 0 && j->stime_us >= 0)
		s->cpu_us += j->utime_us + j->stime_us;
	else if (j->started)
		s->cpu_unknown++;	/* a Slurm step's */
	rank_runtime(s, j);
	if (j->maxrss_kb >= 0 && (s->peak.seq == 0 ||
	    j->maxrss_kb > s->peak.value)) {
		s->peak.seq = j->seq;
		s->peak.value = j->maxrss_kb;
		buf_reset(&s->peak.cmd);
		add_command(&s->peak.cmd, j);
	}
	return 0;
}

/* An input record was rejected. */
static void
summary_rejected(void *ctx, unsigned long long num)
{
	struct summary	*s = ctx;

	(void)num;
	s->rejected++;
}

/* Copy the failed jobs' lines from the file to stderr. */
static void
copy_failed(struct summary *s)
{
	char	 chunk[8192];
	ssize_t	 n;
	off_t	 off = 0;

	if (s->fd == -1)
		return;
	while ((n = pread(s->fd, chunk, sizeof(chunk), off)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			warn("cannot read the --summary file in %s", s->tmpdir);
			return;
		}
		if (write_all(STDERR_FILENO, chunk, (size_t)n) == -1)
			return;
		off += n;
	}
}

/* "1 job", "2 jobs". */
static void
add_count(struct buf *b, unsigned long long n, const char *what)
{
	char	 num[64];

	(void)snprintf(num, sizeof(num), "%llu %s%s", n, what,
	    n == 1 ? "" : "s");
	buf_adds(b, num);
}

/* Append "job N, VALUE UNIT: COMMAND" and a newline to b. */
static void
add_named(struct buf *b, const char *label, const struct named *nm,
    int ms)
{
	char	 num[128];

	if (ms)
		(void)snprintf(num, sizeof(num), "forkpool: %s: job %llu, "
		    "%lld.%03lld s: ", label, nm->seq, nm->value / 1000,
		    nm->value % 1000);
	else
		(void)snprintf(num, sizeof(num), "forkpool: %s: job %llu, "
		    "%lld kB: ", label, nm->seq, nm->value);
	buf_adds(b, num);
	buf_add(b, nm->cmd.data, nm->cmd.len);
	buf_addc(b, '\n');
}

/* The run is over: print the summary. */
static void
summary_close(void *ctx)
{
	struct summary	*s = ctx;
	struct buf	*b = &s->line;
	long long	 wall = mono_ms() - s->start_ms;
	char		 num[128];
	size_t		 i;

	buf_reset(b);
	buf_adds(b, "forkpool: summary: ");
	add_count(b, s->succeeded + s->failed, "job");
	(void)snprintf(num, sizeof(num), ", %llu succeeded, %llu failed; ",
	    s->succeeded, s->failed);
	buf_adds(b, num);
	add_count(b, s->rejected, "input record");
	buf_adds(b, " rejected\n");
	(void)write_all(STDERR_FILENO, b->data, b->len);
	copy_failed(s);
	buf_reset(b);
	if (s->unlisted > 0) {
		buf_adds(b, "forkpool: failed: ");
		add_count(b, s->unlisted, "job");
		buf_adds(b, " not listed\n");
	}
	(void)snprintf(num, sizeof(num), "forkpool: time: %lld.%03lld s wall, "
	    "%lld.%03lld s CPU (user+system)", wall / 1000, wall % 1000,
	    s->cpu_us / 1000000, s->cpu_us / 1000 % 1000);
	buf_adds(b, num);
	if (s->cpu_unknown > 0) {
		buf_adds(b, ", not counting ");
		add_count(b, s->cpu_unknown, "job");
		buf_adds(b, " whose CPU time is not known");
	}
	buf_addc(b, '\n');
	for (i = 0; i < s->nslowest; i++)
		add_named(b, "slowest", &s->slowest[i], 1);
	if (s->peak.seq != 0)
		add_named(b, "peak RSS", &s->peak, 0);
	(void)write_all(STDERR_FILENO, b->data, b->len);
}

static const struct sink_ops	summary_ops = {
	.printed = summary_printed,
	.rejected = summary_rejected,
	.close = summary_close,
};

/* The summary as a sink; see summary.h. */
struct sink *
summary_sink(struct summary *s)
{
	s->sink.ops = &summary_ops;
	s->sink.ctx = s;
	return &s->sink;
}
