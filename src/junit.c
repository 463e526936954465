#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "job.h"
#include "junit.h"
#include "sink.h"
#include "util.h"

/* What is gathered before a write(2) to the temporary file. */
#define FLUSH_AT	(64 * 1024)

/* U+FFFD, for bytes that are not UTF-8 or characters XML does not allow. */
static const char replacement[] = "\xef\xbf\xbd";

/* The classname of every testcase: the jobs are forkpool's. */
static const char classname[] = "forkpool";

/*
 * Escaping state for one text or attribute value: the start of a UTF-8
 * sequence cut by the end of a chunk, waiting for the rest.
 */
struct xml_text {
	unsigned char	 pend[4];
	size_t		 npend;
	int		 attr;	/* an attribute: TAB and newline as references */
};

struct junit {
	struct sink		 sink;
	struct capture		*cap;		/* borrowed */
	const char		*path;		/* borrowed */
	const char		*tmpdir;	/* borrowed */
	int			 fd;		/* FILE */
	int			 body;		/* the testcases, unlinked */
	struct buf		 out;		/* waits to be written to body */
	int			 broken;	/* a write failed: said so */
	struct xml_text		 text;		/* the stream being copied */
	unsigned long long	 tests;
	unsigned long long	 failures;
	unsigned long long	 errors;
	time_t			 start;
	struct timespec		 start_mono;
};

/* Create FILE and the temporary file for the testcases. */
struct junit *
junit_open(const char *path, const char *tmpdir)
{
	struct junit	*jr;
	int		 fd, body;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0666)) == -1) {
		warn("--junit %s", path);
		return NULL;
	}
	if ((body = temp_file(tmpdir, NULL)) == -1) {
		warn("--junit %s: cannot create a temporary file in %s", path,
		    tmpdir);
		(void)close(fd);
		return NULL;
	}
	jr = xcalloc(1, sizeof(*jr));
	jr->path = path;
	jr->tmpdir = tmpdir;
	jr->fd = fd;
	jr->body = body;
	jr->start = time(NULL);
	(void)clock_gettime(CLOCK_MONOTONIC, &jr->start_mono);
	return jr;
}

/* Close both files and free the report. */
void
junit_free(struct junit *jr)
{
	if (jr == NULL)
		return;
	if (jr->fd != -1)
		(void)close(jr->fd);
	(void)close(jr->body);
	buf_free(&jr->out);
	free(jr);
}

/* Write what waits to the temporary file; -1 after a message. */
static int
flush_body(struct junit *jr)
{
	if (jr->broken)
		return -1;
	if (jr->out.len > 0 &&
	    write_all(jr->body, jr->out.data, jr->out.len) == -1) {
		warn("--junit %s: cannot write a temporary file in %s",
		    jr->path, jr->tmpdir);
		jr->broken = 1;
	}
	buf_reset(&jr->out);
	return jr->broken ? -1 : 0;
}

/* Add to the testcases; written out once enough waits. */
static void
put(struct junit *jr, const void *p, size_t len)
{
	buf_add(&jr->out, p, len);
	if (jr->out.len >= FLUSH_AT)
		(void)flush_body(jr);
}

/* Add a string to the testcases. */
static void
puts_body(struct junit *jr, const char *s)
{
	put(jr, s, strlen(s));
}

/*
 * Add ASCII byte c, which cannot be written as it is: markup as an entity,
 * a carriage return (which a parser turns into a newline) and, in an
 * attribute, TAB and newline (which it turns into spaces) as references,
 * other control bytes, which XML 1.0 does not allow at all, as their
 * pictures (U+2400 to U+241F) so that they stay visible.
 */
static void
put_ascii(struct junit *jr, unsigned char c)
{
	char	 ref[8];

	switch (c) {
	case '&':
		puts_body(jr, "&amp;");
		break;
	case '<':
		puts_body(jr, "&lt;");
		break;
	case '>':
		/* Always, so that no "]]>" is ever written. */
		puts_body(jr, "&gt;");
		break;
	case '"':
		puts_body(jr, "&quot;");
		break;
	case '\t':
	case '\n':
	case '\r':
		(void)snprintf(ref, sizeof(ref), "&#%d;", c);
		puts_body(jr, ref);
		break;
	default:
		ref[0] = '\xe2';
		ref[1] = '\x90';
		ref[2] = (char)(0x80 + c);
		put(jr, ref, 3);
		break;
	}
}

/*
 * Add the bytes p (len of them) as XML character data.  Unless last, a
 * UTF-8 sequence cut short at the end waits in t for the next call.
 */
static void
scan(struct junit *jr, struct xml_text *t, const unsigned char *p,
    size_t len, int last)
{
	size_t	 i, plain;
	int	 n;

	for (i = plain = 0; i < len;) {
		if ((p[i] >= 0x20 && p[i] < 0x80 && p[i] != '&' &&
		    p[i] != '<' && p[i] != '>' && p[i] != '"') ||
		    (!t->attr && (p[i] == '\t' || p[i] == '\n'))) {
			i++;
			continue;
		}
		put(jr, p + plain, i - plain);
		if (p[i] < 0x80) {
			put_ascii(jr, p[i]);
			plain = ++i;
			continue;
		}
		n = utf8_len(p + i, len - i);
		if (n == 0 && !last) {
			memcpy(t->pend, p + i, len - i);
			t->npend = len - i;
			return;
		}
		/* U+FFFE and U+FFFF are no XML characters. */
		if (n == 3 && p[i] == 0xef && p[i + 1] == 0xbf &&
		    p[i + 2] >= 0xbe) {
			put(jr, replacement, 3);
			i += 3;
		} else if (n <= 0) {
			put(jr, replacement, 3);
			i++;
		} else {
			put(jr, p + i, (size_t)n);
			i += (size_t)n;
		}
		plain = i;
	}
	put(jr, p + plain, len - plain);
}

/*
 * Add bytes of a stream as XML character data, taking up first a UTF-8
 * sequence the last chunk cut short.
 */
static void
text_add(struct junit *jr, struct xml_text *t, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned char		 seq[4];
	size_t			 n;

	while (t->npend > 0 && len > 0) {
		t->pend[t->npend++] = *p++;
		len--;
		if (utf8_len(t->pend, t->npend) == 0)
			continue;
		/* Whole or broken: scan() decides, and may keep a new start. */
		n = t->npend;
		memcpy(seq, t->pend, n);
		t->npend = 0;
		scan(jr, t, seq, n, 0);
	}
	scan(jr, t, p, len, 0);
}

/* The stream ended: what waits was cut short for good. */
static void
text_end(struct junit *jr, struct xml_text *t)
{
	unsigned char	 seq[4];
	size_t		 n = t->npend;

	memcpy(seq, t->pend, n);
	t->npend = 0;
	scan(jr, t, seq, n, 1);
}

/* Add string s, whole, as an attribute value or as text. */
static void
put_escaped(struct junit *jr, const char *s, size_t len, int attr)
{
	struct xml_text	 t = { .attr = attr };

	scan(jr, &t, (const unsigned char *)s, len, 1);
}

/* Add name="value", escaped. */
static void
put_attr(struct junit *jr, const char *name, const char *value)
{
	puts_body(jr, " ");
	puts_body(jr, name);
	puts_body(jr, "=\"");
	put_escaped(jr, value, strlen(value), 1);
	puts_body(jr, "\"");
}

/* capture_each() callback: a chunk of a job's stream. */
static int
copy_chunk(void *ctx, const char *p, size_t len)
{
	struct junit	*jr = ctx;

	text_add(jr, &jr->text, p, len);
	return jr->broken ? -1 : 0;
}

/* Add the element holding the job's stream s. */
static int
put_stream(struct junit *jr, const struct job *j, int s, const char *elem)
{
	puts_body(jr, "      <");
	puts_body(jr, elem);
	puts_body(jr, ">");
	memset(&jr->text, 0, sizeof(jr->text));
	if (capture_each(jr->cap, j, s, copy_chunk, jr) == -1) {
		if (!jr->broken)
			warnx("--junit %s: cannot read a job's output back",
			    jr->path);
		jr->broken = 1;
		return -1;
	}
	text_end(jr, &jr->text);
	puts_body(jr, "</");
	puts_body(jr, elem);
	puts_body(jr, ">\n");
	return 0;
}

/* The name of a job: its --tagstring, its values, or its command. */
static char *
job_name(const struct job *j)
{
	struct buf	 b = { 0 };
	const char	*p;
	size_t		 i, len;

	if (j->tag != NULL) {
		len = strlen(j->tag);
		/* The tag ends with the TAB that separates it from a line. */
		buf_add(&b, j->tag, len > 0 ? len - 1 : 0);
	} else if (j->nvals > 0) {
		for (i = 0, p = j->vals.data; i < j->nvals; i++) {
			if (i > 0)
				buf_addc(&b, ' ');
			buf_adds(&b, p);
			p += strlen(p) + 1;
		}
	} else
		job_display(j, &b);
	if (b.data == NULL)
		buf_add(&b, "", 0);
	return b.data;
}

/* Add "<testcase name=... time=...>". */
static void
open_testcase(struct junit *jr, const char *name, double secs)
{
	char	 t[32];

	(void)snprintf(t, sizeof(t), "%.3f", secs);
	puts_body(jr, "    <testcase");
	put_attr(jr, "name", name);
	put_attr(jr, "classname", classname);
	put_attr(jr, "time", t);
	puts_body(jr, ">\n");
}

/*
 * Add the failure or error element saying what went wrong with the job,
 * with its command as the details; nothing for a job that succeeded.
 */
static void
put_result(struct junit *jr, const struct job *j)
{
	struct buf	 cmd = { 0 };
	const char	*elem, *type, *sig;
	char		 msg[128];

	elem = "error";
	if (j->interrupted) {
		type = "interrupted";
		(void)snprintf(msg, sizeof(msg),
		    "interrupted: forkpool was stopping");
	} else if (!j->started) {
		type = "start";
		if (j->start_error == ENOENT)
			(void)snprintf(msg, sizeof(msg),
			    "cannot start: command not found");
		else if (j->start_error != 0)
			(void)snprintf(msg, sizeof(msg), "cannot start: %s",
			    strerror(j->start_error));
		else
			(void)snprintf(msg, sizeof(msg),
			    "cannot start (exit status %d)", j->exit_code);
	} else if (!j->failed)
		return;
	else {
		elem = "failure";
		if (j->timed_out) {
			type = "timeout";
			(void)snprintf(msg, sizeof(msg),
			    "timed out after %.3f s",
			    (j->end_ms - j->start_ms) / 1000.0);
		} else if (j->tty_stopped) {
			type = "tty";
			(void)snprintf(msg, sizeof(msg),
			    "stopped on the terminal");
		} else if (j->signal != 0) {
			type = "signal";
			if ((sig = sigabbrev_np(j->signal)) != NULL)
				(void)snprintf(msg, sizeof(msg),
				    "killed by signal SIG%s", sig);
			else
				(void)snprintf(msg, sizeof(msg),
				    "killed by signal %d", j->signal);
		} else {
			type = "exit";
			(void)snprintf(msg, sizeof(msg), "exit status %d",
			    j->exit_code);
		}
	}
	if (elem[0] == 'e')
		jr->errors++;
	else
		jr->failures++;
	puts_body(jr, "      <");
	puts_body(jr, elem);
	put_attr(jr, "message", msg);
	put_attr(jr, "type", type);
	puts_body(jr, ">");
	job_display(j, &cmd);
	put_escaped(jr, cmd.data, cmd.len, 0);
	buf_free(&cmd);
	puts_body(jr, "</");
	puts_body(jr, elem);
	puts_body(jr, ">\n");
}

/* Sink: a job's output is all printed; add its testcase. */
static int
junit_printed(void *ctx, const struct job *j)
{
	struct junit	*jr = ctx;
	char		*name;
	double		 secs = 0;

	name = job_name(j);
	if (jr->broken) {
		free(name);
		return -1;
	}
	if (j->start_ms > 0 && j->end_ms > j->start_ms)
		secs = (j->end_ms - j->start_ms) / 1000.0;
	jr->tests++;
	open_testcase(jr, name, secs);
	free(name);
	put_result(jr, j);
	if (put_stream(jr, j, 0, "system-out") == -1 ||
	    put_stream(jr, j, 1, "system-err") == -1)
		return -1;
	puts_body(jr, "    </testcase>\n");
	return jr->broken ? -1 : 0;
}

/* Sink: an input record was rejected; it is a testcase in error. */
static void
junit_rejected(void *ctx, unsigned long long rec)
{
	struct junit	*jr = ctx;
	char		 name[64], msg[80];

	(void)snprintf(name, sizeof(name), "input record %llu", rec);
	(void)snprintf(msg, sizeof(msg), "%s rejected", name);
	jr->tests++;
	jr->errors++;
	open_testcase(jr, name, 0);
	puts_body(jr, "      <error");
	put_attr(jr, "message", msg);
	put_attr(jr, "type", "rejected");
	puts_body(jr, "/>\n    </testcase>\n");
}

static const struct sink_ops	junit_ops = {
	.printed = junit_printed,
	.rejected = junit_rejected,
};

/* The report as a sink; see junit.h. */
struct sink *
junit_sink(struct junit *jr, struct capture *cap)
{
	jr->cap = cap;
	jr->sink.ops = &junit_ops;
	jr->sink.ctx = jr;
	return &jr->sink;
}

/* Add the counts and the time the run took, as attributes. */
static void
put_counts(struct junit *jr, double secs)
{
	char	 n[32];

	(void)snprintf(n, sizeof(n), "%llu", jr->tests);
	put_attr(jr, "tests", n);
	(void)snprintf(n, sizeof(n), "%llu", jr->failures);
	put_attr(jr, "failures", n);
	(void)snprintf(n, sizeof(n), "%llu", jr->errors);
	put_attr(jr, "errors", n);
	(void)snprintf(n, sizeof(n), "%.3f", secs);
	put_attr(jr, "time", n);
}

/* Copy the testcases from the temporary file to FILE; -1 with errno. */
static int
copy_body(struct junit *jr)
{
	char		 chunk[FLUSH_AT];
	ssize_t		 n;
	off_t		 off = 0;

	for (;;) {
		if ((n = pread(jr->body, chunk, sizeof(chunk), off)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			return (int)n;
		if (write_all(jr->fd, chunk, (size_t)n) == -1)
			return -1;
		off += n;
	}
}

/*
 * The head of the document, with the counts, written to FILE from the
 * buffer (it is far too short for put() to flush it to the temporary
 * file); then the testcases; then the end.
 */
int
junit_finish(struct junit *jr)
{
	struct timespec	 now;
	struct tm	 tm;
	char		 stamp[32], host[256];
	double		 secs;
	int		 rc;

	if (flush_body(jr) == -1)
		return -1;
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (double)(now.tv_sec - jr->start_mono.tv_sec) +
	    (now.tv_nsec - jr->start_mono.tv_nsec) / 1e9;
	if (secs < 0)
		secs = 0;
	/* UTC, without a zone: the schema readers use has none. */
	(void)strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S",
	    gmtime_r(&jr->start, &tm));
	if (gethostname(host, sizeof(host)) == -1)
		(void)strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';

	puts_body(jr, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<testsuites");
	put_attr(jr, "name", classname);
	put_counts(jr, secs);
	puts_body(jr, ">\n  <testsuite");
	put_attr(jr, "name", classname);
	put_counts(jr, secs);
	put_attr(jr, "skipped", "0");
	put_attr(jr, "timestamp", stamp);
	put_attr(jr, "hostname", host);
	puts_body(jr, ">\n");
	rc = write_all(jr->fd, jr->out.data, jr->out.len);
	buf_reset(&jr->out);
	if (rc == 0)
		rc = copy_body(jr);
	if (rc == 0) {
		puts_body(jr, "  </testsuite>\n</testsuites>\n");
		rc = write_all(jr->fd, jr->out.data, jr->out.len);
		buf_reset(&jr->out);
	}
	if (rc == -1) {
		warn("--junit %s", jr->path);
		(void)close(jr->fd);
	/* A file system may report a failed write only now. */
	} else if ((rc = close(jr->fd)) == -1)
		warn("--junit %s", jr->path);
	jr->fd = -1;
	return rc;
}
