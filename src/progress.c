#include <sys/ioctl.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "job.h"
#include "lookahead.h"
#include "opts.h"
#include "progress.h"
#include "sink.h"
#include "util.h"

/* At most ten frames a second: more would only cost the terminal. */
#define REDRAW_MS	100

/* Without a time-based change, the clock is shown anew every second. */
#define CLOCK_MS	1000

/* The width of a terminal that does not say. */
#define DEFAULT_COLS	80

/* The narrowest bar worth drawing. */
#define MIN_BAR		10

#define ERASE		"\r\033[K"

struct progress {
	struct sink		 sink;
	int			 fd;		/* the terminal, O_NONBLOCK */
	int			 bar;
	int			 progress;
	int			 eta;
	unsigned int		 cpus;
	unsigned int		 jobs;		/* -j */
	const struct lookahead	*look;		/* the total, or NULL */
	unsigned long long	 started;	/* jobs, not attempts */
	unsigned long long	 last_seq;	/* the latest started */
	unsigned long long	 done;
	unsigned long long	 ended;		/* cut short by a stop */
	unsigned long long	 timed;		/* done jobs that ran */
	long long		 runtime_ms;	/* of those */
	long long		 start_ms;
	long long		 drawn_ms;	/* the last frame, or 0 */
	int			 dirty;		/* to draw anew */
	int			 shown;		/* a frame is on the line */
	int			 midline;	/* the line is unfinished */
	int			 header_done;
	int			 closed;
	struct buf		 line;		/* the frame being made */
	struct buf		 last;		/* the last one drawn */
	FILE			*saved_stderr;	/* while msgs replaces it */
	FILE			*msgs;
};

/* Monotonic milliseconds, as the runner's. */
static long long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A message of forkpool's on stderr: erase the display first, as for a
 * job's line.  A blocking write, as stderr's own would be.
 */
static ssize_t
message_write(void *ctx, const char *p, size_t len)
{
	struct progress	*pr = ctx;

	if (len == 0)
		return 0;
	progress_before_write(pr);
	if (write_all(STDERR_FILENO, p, len) == -1)
		return -1;
	progress_after_write(pr, p[len - 1]);
	return (ssize_t)len;
}

/*
 * Send stdio's stderr, which err(3) and warn(3) write to, through the
 * display.  Line buffered: a message comes in one piece.
 */
static void
catch_messages(struct progress *p)
{
	cookie_io_functions_t	 io = { .write = message_write };
	FILE			*f;

	if ((f = fopencookie(p, "w", io)) == NULL)
		return;
	if (setvbuf(f, NULL, _IOLBF, BUFSIZ) != 0) {
		(void)fclose(f);
		return;
	}
	(void)fflush(stderr);
	p->saved_stderr = stderr;
	p->msgs = f;
	stderr = f;
}

/* Give stdio's stderr back, with what it still held written. */
static void
release_messages(struct progress *p)
{
	if (p->msgs == NULL)
		return;
	(void)fflush(p->msgs);
	stderr = p->saved_stderr;
	(void)fclose(p->msgs);
	p->msgs = NULL;
}

static const struct sink_ops	progress_ops;

/* Whether the records come from stdin: no source, or "-" as one. */
static int
reads_stdin(const struct opts *o)
{
	size_t	 i;

	if (o->nsources == 0)
		return o->resume != RETRY_FAILED;
	for (i = 0; i < o->nsources; i++)
		if (o->sources[i].kind == SOURCE_FILE &&
		    strcmp(o->sources[i].path, "-") == 0)
			return 1;
	return 0;
}

/* The display for the options; see progress.h. */
struct progress *
progress_new(const struct opts *o)
{
	struct progress	*p;
	const char	*why = NULL;
	long		 n;

	if ((!o->bar && !o->progress) || !isatty(STDERR_FILENO))
		return NULL;
	/*
	 * Lines forkpool does not see come to the terminal: the jobs' (-u,
	 * --tty) or the records someone types.  A display would overwrite
	 * them, or be glued to them.
	 */
	if (o->out_mode == OUT_UNGROUP || o->tty)
		why = "with -u or --tty: the jobs write to the terminal "
		    "themselves";
	else if (reads_stdin(o) && isatty(STDIN_FILENO))
		why = "while the records are typed on the terminal";
	if (why != NULL) {
		warnx("%s: not drawn %s", o->bar ? "--bar" : o->eta ? "--eta" :
		    "--progress", why);
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	p->sink.ops = &progress_ops;
	p->sink.ctx = p;
	p->bar = o->bar;
	p->progress = o->progress;
	p->eta = o->eta;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	p->cpus = n < 1 ? 1 : (unsigned int)n;
	p->jobs = o->jobs;
	p->start_ms = now_ms();
	p->fd = STDERR_FILENO;
	/*
	 * A description of its own, as the output collector has: a stopped
	 * terminal (Ctrl-S) then costs a frame, never a blocked loop.
	 */
	if ((n = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) != -1)
		p->fd = (int)n;
	catch_messages(p);
	return p;
}

/* Release the display. */
void
progress_free(struct progress *p)
{
	if (p == NULL)
		return;
	release_messages(p);
	if (p->fd != STDERR_FILENO)
		close(p->fd);
	buf_free(&p->line);
	buf_free(&p->last);
	free(p);
}

struct sink *
progress_sink(struct progress *p)
{
	return &p->sink;
}

void
progress_count_from(struct progress *p, const struct lookahead *la)
{
	p->look = la;
}

int
progress_fd(const struct progress *p)
{
	return p->fd;
}

/* Add printf-style text to b. */
static void __attribute__((format(printf, 2, 3)))
addf(struct buf *b, const char *fmt, ...)
{
	char	 s[128];
	va_list	 ap;

	va_start(ap, fmt);
	/* clang-analyzer 14 misses the va_start() just above. */
	(void)vsnprintf(s, sizeof(s), fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
	va_end(ap);
	buf_adds(b, s);
}

/* Seconds as 12s, 3m05s or 2h07m. */
static void
add_duration(struct buf *b, long long s)
{
	if (s < 60)
		addf(b, "%llds", s);
	else if (s < 3600)
		addf(b, "%lldm%02llds", s / 60, s % 60);
	else
		addf(b, "%lldh%02lldm", s / 3600, s % 3600 / 60);
}

/*
 * The columns a frame may take: the terminal's but three, so that what
 * the terminal echoes after it (^C on Ctrl-C) never wraps the line.
 */
static unsigned int
width(const struct progress *p)
{
	struct winsize	 ws;
	unsigned int	 cols = DEFAULT_COLS;

	if (ioctl(p->fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col != 0)
		cols = ws.ws_col;
	return cols > 3 ? cols - 3 : 1;
}

/* What a frame shows. */
struct state {
	unsigned long long	 total;
	int			 known;		/* total is */
	unsigned int		 pct;
	double			 rate;		/* jobs done per second */
	long long		 eta;		/* seconds left, -1: unknown */
};

/* Work out the numbers of a frame at time now. */
static void
measure(const struct progress *p, long long now, struct state *st)
{
	double	 secs = (double)(now - p->start_ms) / 1000;

	st->known = 0;
	st->total = p->look != NULL ? lookahead_count(p->look, &st->known) : 0;
	if (st->total < p->done)
		st->total = p->done;
	st->pct = !st->known ? 0 : st->total == 0 ? 100 :
	    (unsigned int)(p->done * 100 / st->total);
	st->rate = secs > 0 ? (double)p->done / secs : 0;
	st->eta = -1;
	if (st->known && p->done == st->total)
		st->eta = 0;
	else if (st->known && p->done > 0)
		st->eta = (long long)((double)(st->total - p->done) * secs /
		    (double)p->done + 0.5);
}

/* The average runtime of the jobs done, in seconds, or "?". */
static void
add_average(const struct progress *p, struct buf *b)
{
	if (p->timed == 0)
		buf_adds(b, "?");
	else
		addf(b, "%.2fs", (double)p->runtime_ms / 1000 /
		    (double)p->timed);
}

/* The seconds left, or "?". */
static void
add_eta(const struct state *st, struct buf *b)
{
	if (st->eta < 0)
		buf_adds(b, "?");
	else
		add_duration(b, st->eta);
}

/* Start the next part of a frame. */
static void
next_part(struct buf *b)
{
	if (b->len > 0)
		buf_adds(b, "  ");
}

/* The frame for time now into p->line, fit to cols columns. */
static void
compose(struct progress *p, long long now, unsigned int cols)
{
	struct buf	*b = &p->line;
	struct state	 st;
	size_t		 room, fill, i;

	measure(p, now, &st);
	buf_reset(b);
	if (p->eta) {
		buf_adds(b, "ETA ");
		add_eta(&st, b);
		if (st.known)
			addf(b, ", %llu left, avg ", st.total - p->done);
		else
			buf_adds(b, ", ? left, avg ");
		add_average(p, b);
	}
	if (p->progress) {
		next_part(b);
		addf(b, "local: %llu running, %llu done",
		    p->started - p->done - p->ended, p->done);
		if (st.known)
			addf(b, " (%u%%)", st.pct);
		buf_adds(b, ", avg ");
		add_average(p, b);
	}
	if (p->bar) {
		next_part(b);
		if (!st.known)
			addf(b, "%llu/? %.1f jobs/s", p->done, st.rate);
		else {
			addf(b, "%3u%% %llu/%llu %.1f jobs/s ETA ", st.pct,
			    p->done, st.total, st.rate);
			add_eta(&st, b);
			room = cols > b->len + 3 ? cols - b->len - 3 : 0;
			if (room >= MIN_BAR) {
				fill = st.total == 0 ? room :
				    (size_t)((double)room * (double)p->done /
				    (double)st.total);
				buf_adds(b, " [");
				for (i = 0; i < room; i++)
					buf_addc(b, i < fill ? '#' : '.');
				buf_addc(b, ']');
			}
		}
	}
	if (b->len > cols) {
		b->len = cols;
		b->data[cols] = '\0';
	}
}

/* The --progress header: the hosts, their CPUs and jobs at once. */
static void
add_header(struct progress *p, struct buf *b)
{
	if (!p->progress || p->header_done)
		return;
	p->header_done = 1;
	addf(b, "host   CPUs  jobs at once\nlocal  %-5u %u\n", p->cpus,
	    p->jobs);
}

/* Draw the frame for now, if it differs from the one on the line. */
static void
draw(struct progress *p, long long now)
{
	struct buf	 out = { 0 };
	unsigned int	 cols = width(p);
	ssize_t		 n;

	/* Even when the terminal takes nothing: the next try is later. */
	p->drawn_ms = now;
	compose(p, now, cols);
	if (p->shown && p->last.len == p->line.len &&
	    memcmp(p->last.data, p->line.data, p->line.len) == 0) {
		p->dirty = 0;
		return;
	}
	add_header(p, &out);
	buf_addc(&out, '\r');
	buf_add(&out, p->line.data, p->line.len);
	buf_adds(&out, "\033[K");
	do
		n = write(p->fd, out.data, out.len);
	while (n == -1 && errno == EINTR);
	buf_free(&out);
	if (n <= 0)
		return;
	p->shown = 1;
	p->dirty = 0;
	buf_reset(&p->last);
	buf_add(&p->last, p->line.data, p->line.len);
}

/* Erase the display before bytes go to its terminal. */
void
progress_before_write(void *ctx)
{
	struct progress	*p = ctx;
	ssize_t		 n;

	if (!p->shown)
		return;
	do
		n = write(p->fd, ERASE, sizeof(ERASE) - 1);
	while (n == -1 && errno == EINTR);
	if (n > 0) {
		p->shown = 0;
		p->dirty = 1;
	}
}

/* Bytes went to the terminal, the last one c. */
void
progress_after_write(void *ctx, char c)
{
	struct progress	*p = ctx;

	p->midline = c != '\n';
	p->dirty = 1;
}

/* Sink: a job started; a retry or a requeued job is not a new one. */
static void
progress_started(void *ctx, const struct job *j)
{
	struct progress	*p = ctx;

	if (j->seq > p->last_seq) {
		p->last_seq = j->seq;
		p->started++;
	}
	p->dirty = 1;
}

/*
 * Sink: a job is done for good.  One that forkpool ended as it stopped
 * (Ctrl-C, --halt now) is not done: it would run again on a --resume.
 */
static void
progress_finished(void *ctx, const struct job *j)
{
	struct progress	*p = ctx;

	p->dirty = 1;
	if (j->interrupted) {
		p->ended++;
		return;
	}
	p->done++;
	if (j->started) {
		p->timed++;
		p->runtime_ms += j->end_ms - j->start_ms;
	}
	p->dirty = 1;
}

/*
 * Sink: the clock.  Draw when something changed, at most every
 * REDRAW_MS, or when a second went by; never on an unfinished line.
 */
static long long
progress_tick(void *ctx, long long now)
{
	struct progress	*p = ctx;

	if (p->midline || p->closed)
		return 0;
	if (p->drawn_ms != 0 && now < p->drawn_ms + REDRAW_MS)
		return p->dirty ? p->drawn_ms + REDRAW_MS :
		    p->drawn_ms + CLOCK_MS;
	if (p->dirty || p->drawn_ms == 0 || now >= p->drawn_ms + CLOCK_MS)
		draw(p, now);
	return p->dirty ? now + REDRAW_MS : p->drawn_ms + CLOCK_MS;
}

/*
 * Sink: the run is over, by its end or a signal.  The final state stays
 * on a line of its own.
 */
static void
progress_close(void *ctx)
{
	struct progress	*p = ctx;
	struct buf	 out = { 0 };
	long long	 now = now_ms();

	release_messages(p);
	p->closed = 1;
	if (p->midline)
		buf_addc(&out, '\n');
	add_header(p, &out);
	compose(p, now, width(p));
	buf_addc(&out, '\r');
	buf_add(&out, p->line.data, p->line.len);
	buf_adds(&out, "\033[K\n");
	(void)write_all(STDERR_FILENO, out.data, out.len);
	buf_free(&out);
	p->shown = 0;
}

static const struct sink_ops	progress_ops = {
	.started = progress_started,
	.finished = progress_finished,
	.tick = progress_tick,
	.close = progress_close,
};
