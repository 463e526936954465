#include <sys/types.h>

#include <sys/socket.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "job.h"
#include "opts.h"
#include "output.h"
#include "spill.h"
#include "util.h"

/* Held output kept in memory across all jobs before spilling to disk. */
#define MEM_BUDGET	(4 * 1024 * 1024)

/*
 * With -k, how far past the oldest unprinted job new jobs may start: the
 * pool stays full behind a slow job, but what is held stays bounded.
 */
#define KEEP_WINDOW	4096

#define SPILL_CHUNK	(64 * 1024)

/*
 * --color: a job's colour, by job number.  No red: it marks a failed
 * job.  ECMA-48's SGR foreground colours (30-37) and the bright ones
 * (90-97) that terminal emulators since xterm all take.
 */
static const char *const palette[] = {
	"\033[32m", "\033[33m", "\033[34m", "\033[35m", "\033[36m",
	"\033[92m", "\033[93m", "\033[94m", "\033[95m", "\033[96m"
};
#define COLOR_FAILED	"\033[31m"
#define COLOR_OFF	"\033[0m"

/* The most one splice(2) from a job's pipe to the spill file moves. */
#define MOVE_CHUNK	(1024 * 1024)

/* A run of held bytes in the spill file, owned by the hold it is in. */
struct extent {
	off_t	 off;
	size_t	 len;
};

/* The bytes held for one stream of one job: memory first, then spill. */
struct hold {
	struct buf	 mem;
	struct extent	*ext;
	size_t		 next;
	size_t		 capext;
};

struct output_job {
	struct hold		 h[2];
	int			 midline[2];	/* the last byte printed was
						   no '\n' */
	int			 live;		/* printing as it comes (-k head) */
	int			 done;		/* the job ended: its result is
						   known */
	unsigned long long	 mark[2];	/* its last byte's place in what
						   went to each stream */
};

struct output {
	enum out_mode		 mode;
	int			 keep_order;
	int			 print_cmd;	/* -v */
	int			 hold_all;	/* --retries: print final attempts */
	int			 no_live;	/* -k head waits for its end too */
	int			 failed_only;	/* --output-on-failure */
	int			 color[2];	/* --color, resolved per stream */
	void			(*printed)(void *, struct job *);
	void			*printed_ctx;
	enum output_status	 status;
	struct job_list		 queue;		/* -k: started, unprinted */
	unsigned long long	 nqueued;
	struct spill		*spill;
	size_t			 mem_held;
	char			*iobuf;
	struct buf		 tagged;
	int			 no_splice_spill;	/* the file system refuses */
	int			 no_sendfile[2];	/* stdout, stderr refuse */
	int			 no_splice_out[2];	/* splice(2) to them */
	/*
	 * Where stdout and stderr are written: a description of forkpool's
	 * own with O_NONBLOCK, so that a stalled reader never blocks the
	 * event loop, or fd 1 and 2 themselves for a regular file.  What
	 * the stream would not take yet waits in pend, memory then spill.
	 */
	int			 wfd[2];
	int			 sock[2];	/* a socket: send(MSG_DONTWAIT) */
	/*
	 * The queue each stream goes through: stdout and stderr on one
	 * pipe, file or terminal (2>&1) share queue 0, so that what waits
	 * keeps the order in which it was printed.
	 */
	int			 q[2];
	struct hold		 pend[2];
	size_t			 pend_off[2];	/* of pend's memory, written */
	size_t			 pend_ext[2];	/* of pend's extents, written */
	unsigned long long	 total[2];	/* bytes ever given to a stream */
	unsigned long long	 written[2];	/* of those, written */
	struct job_list		 flushing;	/* printed, waiting for pend */
	struct capture		*cap;		/* borrowed; NULL: none */
	int			 files;		/* --files: print the names */
	/* The terminal of a display: stream s goes there if on_tty[s]. */
	int			 on_tty[2];
	void			(*tty_before)(void *);
	void			(*tty_after)(void *, char);
	void			*tty_ctx;
};

/*
 * The descriptor to write stream s (fd 1 or 2) through without blocking.
 * O_NONBLOCK on fd 1 itself would change the open file description that
 * the shell and the other processes writing there share; opening the
 * same pipe, FIFO or terminal again through /proc gives forkpool a
 * description of its own.  A regular file never stalls and is written
 * as it is (an O_APPEND file keeps its offset that way).
 */
static void
open_stream(struct output *out, int s)
{
	struct stat	 st;
	char		 path[32];
	int		 fd = s + 1, nfd;

	out->wfd[s] = fd;
	if (fstat(fd, &st) == -1 || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return;
	if (S_ISSOCK(st.st_mode)) {
		out->sock[s] = 1;
		/* sendfile(2) would block on a full socket. */
		out->no_sendfile[s] = 1;
		return;
	}
	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	nfd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (nfd != -1)
		out->wfd[s] = nfd;
}

/*
 * Whether --color colours what goes to fd: auto looks at that stream
 * alone, so that a terminal on stdout puts no escapes in a file that
 * stderr was sent to, or the other way round.
 */
static int
use_color(const struct opts *o, int fd)
{
	const char	*nc;

	switch (o->color) {
	case COLOR_ALWAYS:
		return 1;
	case COLOR_AUTO:
		/* no-color.org: set and not empty turns colour off. */
		nc = getenv("NO_COLOR");
		return isatty(fd) && (nc == NULL || *nc == '\0');
	case COLOR_NEVER:
		break;
	}
	return 0;
}

struct output *
output_new(const struct opts *o)
{
	struct output	*out;
	struct stat	 st[2];

	out = xcalloc(1, sizeof(*out));
	out->mode = o->out_mode;
	out->keep_order = o->keep_order && o->out_mode != OUT_UNGROUP;
	out->print_cmd = o->print_stdout;
	/* A job may run again: after a failure, or elsewhere (-S, --slurm). */
	out->hold_all = o->retries > 1 || o->nlogins > 0 || o->slurm;
	out->failed_only = o->output_on_failure;
	out->color[0] = use_color(o, STDOUT_FILENO);
	out->color[1] = use_color(o, STDERR_FILENO);
	/*
	 * With a joblog, a job is printed whole just before its row is
	 * written, so that after a crash the two agree.  Whether a job's
	 * output is printed at all may wait for its end too.
	 */
	out->no_live = out->hold_all || o->joblog != NULL || out->failed_only;
	out->status = OUTPUT_OK;
	TAILQ_INIT(&out->queue);
	out->spill = spill_new(opts_tmpdir(o));
	out->iobuf = xmalloc(SPILL_CHUNK);
	TAILQ_INIT(&out->flushing);
	out->q[1] = 1;
	/* -u: jobs write to fd 1 and 2 themselves; forkpool writes little. */
	if (out->mode == OUT_UNGROUP) {
		out->wfd[0] = STDOUT_FILENO;
		out->wfd[1] = STDERR_FILENO;
	} else {
		open_stream(out, 0);
		open_stream(out, 1);
		if (fstat(STDOUT_FILENO, &st[0]) == 0 &&
		    fstat(STDERR_FILENO, &st[1]) == 0 &&
		    st[0].st_dev == st[1].st_dev && st[0].st_ino == st[1].st_ino)
			out->q[1] = 0;
	}
	return out;
}

/*
 * Free a job the collector is done with; printed tells whether its
 * output reached the stream.  A file of forkpool's own whose name never
 * did would be found by no one: it goes.
 */
static void
release(struct output *out, struct job *j, int printed)
{
	if (!printed && (out->files & OUTPUT_NAMES_TEMP))
		capture_drop(out->cap, j);
	capture_release(out->cap, j);
	free(j->out);
	j->out = NULL;
	job_free(j);
}

void
output_free(struct output *out)
{
	struct job	*j;

	if (out == NULL)
		return;
	while ((j = TAILQ_FIRST(&out->queue)) != NULL) {
		TAILQ_REMOVE(&out->queue, j, entry);
		release(out, j, 0);
	}
	while ((j = TAILQ_FIRST(&out->flushing)) != NULL) {
		TAILQ_REMOVE(&out->flushing, j, entry);
		release(out, j, 0);
	}
	buf_free(&out->pend[0].mem);
	buf_free(&out->pend[1].mem);
	free(out->pend[0].ext);
	free(out->pend[1].ext);
	if (out->wfd[0] > STDERR_FILENO)
		close(out->wfd[0]);
	if (out->wfd[1] > STDERR_FILENO)
		close(out->wfd[1]);
	spill_free(out->spill);
	free(out->iobuf);
	buf_free(&out->tagged);
	free(out);
}

/* Capture the jobs' output with cap; files says what --files does. */
void
output_set_capture(struct output *out, struct capture *cap, int files)
{
	out->cap = cap;
	out->files = files;
}

void
output_on_printed(struct output *out, void (*fn)(void *, struct job *),
    void *ctx)
{
	out->printed = fn;
	out->printed_ctx = ctx;
}

enum output_status
output_status(const struct output *out)
{
	return out->status;
}

/*
 * Whether a new job must wait for earlier ones to be printed (-k).  The
 * window counts the jobs queued, not job numbers, which skip after a
 * --resume.
 */
int
output_window_full(const struct output *out)
{
	return out->keep_order && out->nqueued >= KEEP_WINDOW;
}

/* Note a failed write to fd; EPIPE is the reader going away. */
static void
write_failed(struct output *out, int fd)
{
	if (out->status != OUTPUT_OK)
		return;
	if (errno == EPIPE) {
		out->status = OUTPUT_CLOSED;
		return;
	}
	out->status = OUTPUT_FAILED;
	/* A failing stderr cannot carry its own complaint. */
	if (fd == STDOUT_FILENO)
		warn("write error on stdout");
}

static void	hold_add(struct output *, struct hold *, const char *, size_t);
static void	print_data(struct output *, struct job *, int, const char *,
		    size_t);

/* Write to stream s without blocking: bytes written, or -1 with errno. */
static ssize_t
stream_write(struct output *out, int s, const char *p, size_t len)
{
	ssize_t	 n;

	if (out->on_tty[s])
		out->tty_before(out->tty_ctx);
	do {
		if (out->sock[s])
			n = send(out->wfd[s], p, len, MSG_DONTWAIT |
			    MSG_NOSIGNAL);
		else
			n = write(out->wfd[s], p, len);
	} while (n == -1 && errno == EINTR);
	if (n > 0 && out->on_tty[s])
		out->tty_after(out->tty_ctx, p[n - 1]);
	return n;
}

/* Whether bytes wait for stream s. */
static int
pending(const struct output *out, int s)
{
	return out->pend[s].mem.len > out->pend_off[s] ||
	    out->pend_ext[s] < out->pend[s].next;
}

/* Put bytes on stream (0 stdout, 1 stderr): what it does not take now waits. */
static void
put(struct output *out, int stream, const char *p, size_t len)
{
	ssize_t	 n;
	int	 s = out->q[stream];

	if (out->status != OUTPUT_OK || len == 0)
		return;
	out->total[s] += len;
	if (!pending(out, s)) {
		if ((n = stream_write(out, s, p, len)) == -1 &&
		    errno != EAGAIN) {
			write_failed(out, s + 1);
			return;
		}
		if (n > 0) {
			out->written[s] += (size_t)n;
			p += n;
			len -= (size_t)n;
		}
		if (len == 0)
			return;
	}
	hold_add(out, &out->pend[s], p, len);
}

/* Bytes of forkpool's own for a stream; see output.h. */
void
output_write(struct output *out, int stream, const char *p, size_t len)
{
	put(out, stream, p, len);
}

/*
 * The len bytes of the spill file at off are now the hold's, after what
 * it has; written is how many of its extents were written already and
 * must not grow.
 */
static void
hold_extent(struct hold *h, size_t written, off_t off, size_t len)
{
	struct extent	*e;

	if (h->next > written && h->ext[h->next - 1].off +
	    (off_t)h->ext[h->next - 1].len == off) {
		h->ext[h->next - 1].len += len;
		return;
	}
	if (h->next == h->capext) {
		h->capext = h->capext == 0 ? 4 : h->capext * 2;
		h->ext = xreallocarray(h->ext, h->capext, sizeof(*h->ext));
	}
	e = &h->ext[h->next++];
	e->off = off;
	e->len = len;
}

/* Bytes of the spill file at off wait in queue s, after what waits. */
static void
pend_extent(struct output *out, int s, off_t off, size_t len)
{
	out->total[s] += len;
	hold_extent(&out->pend[s], out->pend_ext[s], off, len);
}

/*
 * The colour of a job's output on a stream: its own, or red once it is
 * known to have failed (what a job printed while it ran kept its own).
 * NULL where --color does not colour that stream.
 */
static const char *
job_color(const struct output *out, const struct job *j, int stream)
{
	if (!out->color[stream])
		return NULL;
	if (j->out->done && j->failed)
		return COLOR_FAILED;
	return palette[(j->seq - 1) % (sizeof(palette) / sizeof(palette[0]))];
}

/*
 * Write to stdout or stderr, adding the job's tag at each line start.
 * With --color, the tag is coloured, or without a tag each piece of a
 * line; the colour is reset before the newline and at the end of what is
 * written, so that nothing else printed in between takes it.
 */
static void
emit(struct output *out, struct job *j, int stream, const char *p,
    size_t len)
{
	struct output_job	*oj = j->out;
	const char		*nl, *color;
	size_t			 n;

	if (out->status != OUTPUT_OK || len == 0)
		return;
	if ((color = job_color(out, j, stream)) == NULL && j->tag == NULL) {
		put(out, stream, p, len);
		oj->midline[stream] = p[len - 1] != '\n';
		return;
	}
	buf_reset(&out->tagged);
	while (len > 0) {
		if (!oj->midline[stream] && j->tag != NULL) {
			if (color == NULL)
				buf_adds(&out->tagged, j->tag);
			else {
				/* The tag ends with its TAB. */
				buf_adds(&out->tagged, color);
				buf_add(&out->tagged, j->tag,
				    strlen(j->tag) - 1);
				buf_adds(&out->tagged, COLOR_OFF "\t");
			}
		}
		nl = memchr(p, '\n', len);
		n = nl != NULL ? (size_t)(nl - p) : len;
		if (j->tag == NULL && n > 0)
			buf_adds(&out->tagged, color);
		buf_add(&out->tagged, p, n);
		if (j->tag == NULL && n > 0)
			buf_adds(&out->tagged, COLOR_OFF);
		if (nl != NULL)
			buf_addc(&out->tagged, '\n');
		oj->midline[stream] = nl == NULL;
		n += nl != NULL;
		p += n;
		len -= n;
	}
	put(out, stream, out->tagged.data, out->tagged.len);
}

/* Hold len bytes for a stream; spill past the memory budget. */
static void
hold_add(struct output *out, struct hold *h, const char *p, size_t len)
{
	ssize_t		 n;
	off_t		 off;

	if (h->next == 0 && out->mem_held + len <= MEM_BUDGET) {
		buf_add(&h->mem, p, len);
		out->mem_held += len;
		return;
	}
	for (; len > 0 && out->status != OUTPUT_FAILED; len -= (size_t)n) {
		if ((n = spill_write(out->spill, p, len, &off)) == -1) {
			out->status = OUTPUT_FAILED;
			return;
		}
		hold_extent(h, 0, off, (size_t)n);
		p += n;
	}
}

/* Forget what a hold has, giving back its space. */
static void
hold_clear(struct output *out, struct hold *h)
{
	size_t	 i;

	out->mem_held -= h->mem.len;
	buf_free(&h->mem);
	for (i = 0; i < h->next; i++)
		spill_release(out->spill, h->ext[i].off, h->ext[i].len);
	free(h->ext);
	h->ext = NULL;
	h->next = h->capext = 0;
}

/*
 * Send held bytes from the spill file to stdout or stderr without
 * copying them through forkpool; *off and *left say what is still to
 * send when sendfile(2) cannot be used.  What the stream does not take
 * now waits in pend, as the same bytes of the spill file, which are
 * pend's from then on: returns how many, from the end of the run, went
 * to pend so.
 */
static size_t
send_spill(struct output *out, int stream, off_t *off, size_t *left)
{
	ssize_t	 n;
	size_t	 handed;

	stream = out->q[stream];
	if (*left > 0 && out->status == OUTPUT_OK && pending(out, stream)) {
		pend_extent(out, stream, *off, *left);
		handed = *left;
		*left = 0;
		return handed;
	}
	while (*left > 0 && !out->no_sendfile[stream] &&
	    out->status == OUTPUT_OK) {
		if ((n = spill_send(out->spill, out->wfd[stream], off,
		    *left)) > 0) {
			*left -= (size_t)n;
			out->total[stream] += (size_t)n;
			out->written[stream] += (size_t)n;
		} else if (n == 0)
			return 0;	/* cut short: reported by the reader */
		else if (errno == EAGAIN) {
			pend_extent(out, stream, *off, *left);
			handed = *left;
			*left = 0;
			return handed;
		} else if (errno == EINVAL || errno == ENOSYS)
			out->no_sendfile[stream] = 1;
		else
			write_failed(out, stream + 1);
	}
	return 0;
}

/* Print held bytes from the spill file through a buffer. */
static void
read_spill(struct output *out, struct job *j, int stream, off_t off,
    size_t left)
{
	size_t	 want;
	ssize_t	 n;

	while (left > 0 && out->status == OUTPUT_OK) {
		want = left > SPILL_CHUNK ? SPILL_CHUNK : left;
		if ((n = spill_read(out->spill, out->iobuf, want, off)) == -1) {
			out->status = OUTPUT_FAILED;
			return;
		}
		emit(out, j, stream, out->iobuf, (size_t)n);
		off += n;
		left -= (size_t)n;
	}
}

/*
 * Print what a hold has, then forget it.  Each extent is given back once
 * printed, so that the spill file never holds what was printed, except
 * what waits for the stream: that part is pend's now.
 */
static void
hold_print(struct output *out, struct job *j, int stream)
{
	struct hold	*h = &j->out->h[stream];
	struct extent	*e;
	size_t		 i, left, handed;
	off_t		 off;

	emit(out, j, stream, h->mem.data, h->mem.len);
	for (i = 0; i < h->next && out->status == OUTPUT_OK; i++) {
		e = &h->ext[i];
		off = e->off;
		left = e->len;
		handed = 0;
		/* A tag or colour goes at each line: the bytes must be seen. */
		if (j->tag == NULL && !out->color[stream])
			handed = send_spill(out, stream, &off, &left);
		read_spill(out, j, stream, off, left);
		spill_release(out->spill, e->off, e->len - handed);
		e->len = 0;
	}
	hold_clear(out, h);
}

/* Make the -k head job live: print what it held so far. */
static void
go_live(struct output *out, struct job *j)
{
	/* An ended job's output is incomplete: it is dropped, not shown. */
	if (out->no_live || j->interrupted)
		return;
	j->out->live = 1;
	hold_print(out, j, 0);
	if (out->mode == OUT_LINE)
		hold_print(out, j, 1);
}

/* A job enters output order. */
void
output_start(struct output *out, struct job *j)
{
	struct buf	 line = { 0 };

	/* A retry is in output order already. */
	if (j->out == NULL) {
		j->out = xcalloc(1, sizeof(*j->out));
		if (out->cap != NULL && out->status == OUTPUT_OK &&
		    capture_start(out->cap, j) == -1)
			out->status = OUTPUT_FAILED;
		if (out->keep_order) {
			TAILQ_INSERT_TAIL(&out->queue, j, entry);
			out->nqueued++;
			if (TAILQ_FIRST(&out->queue) == j && !out->no_live)
				j->out->live = 1;
		}
	}
	if (out->print_cmd) {
		job_display(j, &line);
		buf_addc(&line, '\n');
		print_data(out, j, 0, line.data, line.len);
		buf_free(&line);
	}
}

/* Line mode: print the complete lines, hold the rest. */
static void
line_data(struct output *out, struct job *j, int stream, const char *p,
    size_t len)
{
	const char	*nl;

	if ((nl = memrchr(p, '\n', len)) == NULL) {
		hold_add(out, &j->out->h[stream], p, len);
		return;
	}
	hold_print(out, j, stream);
	emit(out, j, stream, p, (size_t)(nl - p) + 1);
	hold_add(out, &j->out->h[stream], nl + 1, len - (size_t)(nl - p) - 1);
}

/* Whether a job's stream is printed as it comes. */
static int
passes_through(const struct output *out, const struct job *j, int stream)
{
	return out->mode == OUT_UNGROUP || (j->out->live &&
	    !j->interrupted && (stream == 0 || out->mode == OUT_LINE));
}

/* Whether a job's stream is printed a line at a time as it comes. */
static int
by_line(const struct output *out)
{
	return out->mode == OUT_LINE && !out->keep_order && !out->hold_all;
}

/* A chunk of a job's output to print. */
static void
print_data(struct output *out, struct job *j, int stream, const char *p,
    size_t len)
{
	if (out->status != OUTPUT_OK)
		return;
	if (passes_through(out, j, stream))
		emit(out, j, stream, p, len);
	else if (by_line(out))
		line_data(out, j, stream, p, len);
	else
		hold_add(out, &j->out->h[stream], p, len);
}

/* Whether the job's stream is captured, and not printed as well. */
static int
captured_only(const struct output *out, const struct job *j, int stream)
{
	return j->cap != NULL && capture_keeps(out->cap, stream) &&
	    !capture_prints(out->cap, stream);
}

/* A chunk of a job's output: captured, printed, or both. */
void
output_data(struct output *out, struct job *j, int stream, const char *p,
    size_t len)
{
	if (out->status != OUTPUT_OK)
		return;
	if (j->cap != NULL && capture_keeps(out->cap, stream) &&
	    capture_write(out->cap, j, stream, p, len) == -1) {
		out->status = OUTPUT_FAILED;
		return;
	}
	if (!captured_only(out, j, stream))
		print_data(out, j, stream, p, len);
}

/*
 * The bytes of a job's stream that is printed as it comes, untouched (no
 * tag, no colour), moved from its pipe to the stream with splice(2) when
 * nothing waits before them: forkpool copies none of them.  TAKE_READ
 * where they must be read, or where splice cannot tell a stalled stream
 * from an empty pipe: the read then sees which.
 */
static ssize_t
splice_through(struct output *out, struct job *j, int stream, int in)
{
	ssize_t	 n;
	int	 s = out->q[stream];

	if (out->status != OUTPUT_OK || out->no_splice_out[s] ||
	    out->on_tty[s] || out->sock[s] || j->tag != NULL ||
	    !passes_through(out, j, stream) || by_line(out) ||
	    job_color(out, j, stream) != NULL || pending(out, s))
		return TAKE_READ;
	do
		n = splice(in, NULL, out->wfd[s], NULL, MOVE_CHUNK,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	while (n == -1 && errno == EINTR);
	if (n > 0) {
		out->total[s] += (size_t)n;
		out->written[s] += (size_t)n;
		return n;
	}
	if (n == 0)
		return 0;
	if (errno == EINVAL)
		out->no_splice_out[s] = 1;
	return TAKE_READ;
}

/*
 * Take a job's bytes where they need no look.  Only those held past the
 * memory budget are taken: moving bytes between two pipes with splice(2)
 * costs more than a read and a write here, because every page moved
 * from the job's pipe is one its writer must allocate anew.
 */
ssize_t
output_take(struct output *out, struct job *j, int stream, int in)
{
	struct hold	*h = &j->out->h[stream];
	ssize_t		 n;
	off_t		 off;

	/* Only captured: the bytes go to their file unseen. */
	if (out->status == OUTPUT_OK && captured_only(out, j, stream)) {
		if ((n = capture_take(out->cap, j, stream, in)) == -1 &&
		    errno != EAGAIN) {
			out->status = OUTPUT_FAILED;
			return TAKE_READ;
		}
		return n;
	}
	if (j->cap != NULL && capture_keeps(out->cap, stream))
		return TAKE_READ;
	if ((n = splice_through(out, j, stream, in)) != TAKE_READ)
		return n;
	if (out->status != OUTPUT_OK || out->no_splice_spill ||
	    passes_through(out, j, stream) || by_line(out) ||
	    (h->next == 0 && out->mem_held + MOVE_CHUNK <= MEM_BUDGET))
		return TAKE_READ;
	n = spill_splice(out->spill, in, MOVE_CHUNK, &off);
	if (n > 0)
		hold_extent(h, 0, off, (size_t)n);
	else if (n == -1 && errno == EINVAL) {
		out->no_splice_spill = 1;
		return TAKE_READ;
	} else if (n == -1 && errno != EAGAIN) {
		out->status = OUTPUT_FAILED;
		return TAKE_READ;
	}
	return n;
}

/* Forget what the job wrote so far. */
void
output_discard(struct output *out, struct job *j)
{
	int	 s;

	for (s = 0; s < 2; s++) {
		hold_clear(out, &j->out->h[s]);
		j->out->midline[s] = 0;
	}
	if (out->status == OUTPUT_OK && capture_reset(out->cap, j) == -1)
		out->status = OUTPUT_FAILED;
}

/*
 * Hand the jobs whose output has all been written to the printed
 * callback, in the order they were printed, and free them.
 */
static void
release_written(struct output *out)
{
	struct job	*j;

	while ((j = TAILQ_FIRST(&out->flushing)) != NULL &&
	    out->written[0] >= j->out->mark[0] &&
	    out->written[1] >= j->out->mark[1]) {
		TAILQ_REMOVE(&out->flushing, j, entry);
		if (out->printed != NULL && out->status == OUTPUT_OK)
			out->printed(out->printed_ctx, j);
		release(out, j, out->status == OUTPUT_OK);
	}
}

/*
 * Print all that is left of a job; free it once the streams took it
 * all, so that its joblog row never comes before its output.
 */
static void
retire(struct output *out, struct job *j)
{
	const char	*path;
	int		 s;

	/* --output-on-failure: nothing printed; what is captured stays. */
	if (out->failed_only && !j->failed)
		for (s = 0; s < 2; s++)
			hold_clear(out, &j->out->h[s]);
	if (out->files && (path = capture_path(j, 0)) != NULL) {
		emit(out, j, 0, path, strlen(path));
		emit(out, j, 0, "\n", 1);
	}
	hold_print(out, j, 0);
	hold_print(out, j, 1);
	j->out->mark[0] = out->total[0];
	j->out->mark[1] = out->total[1];
	TAILQ_INSERT_TAIL(&out->flushing, j, entry);
	release_written(out);
}

/*
 * Write what waits for stream s, as far as it takes it now.  What was
 * written of the spill file is given back as it goes.
 */
static void
flush_stream(struct output *out, int s)
{
	struct hold	*h = &out->pend[s];
	struct extent	*e;
	ssize_t		 n;
	size_t		 want;

	while (out->status == OUTPUT_OK && h->mem.len > out->pend_off[s]) {
		if ((n = stream_write(out, s, h->mem.data + out->pend_off[s],
		    h->mem.len - out->pend_off[s])) == -1) {
			if (errno != EAGAIN)
				write_failed(out, s + 1);
			return;
		}
		out->pend_off[s] += (size_t)n;
		out->written[s] += (size_t)n;
	}
	while (out->status == OUTPUT_OK && out->pend_ext[s] < h->next) {
		e = &h->ext[out->pend_ext[s]];
		if (e->len == 0) {
			out->pend_ext[s]++;
			continue;
		}
		if (!out->no_sendfile[s]) {
			/* Advances e->off by what it sent. */
			n = spill_send(out->spill, out->wfd[s], &e->off,
			    e->len);
			if (n == -1 && (errno == EINVAL || errno == ENOSYS)) {
				out->no_sendfile[s] = 1;
				continue;
			}
			if (n == 0) {
				warnx("cannot read back held output");
				out->status = OUTPUT_FAILED;
				return;
			}
		} else {
			want = e->len > SPILL_CHUNK ? SPILL_CHUNK : e->len;
			if ((n = spill_read(out->spill, out->iobuf, want,
			    e->off)) == -1) {
				out->status = OUTPUT_FAILED;
				return;
			}
			if ((n = stream_write(out, s, out->iobuf,
			    (size_t)n)) > 0)
				e->off += n;
		}
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* EPIPE from sendfile is a reader gone, as from write. */
			if (n == 0)
				errno = EIO;
			write_failed(out, s + 1);
			return;
		}
		e->len -= (size_t)n;
		spill_release(out->spill, e->off - n, (size_t)n);
		out->written[s] += (size_t)n;
	}
	if (out->status != OUTPUT_OK)
		return;
	/* All written: the pending hold starts over. */
	out->pend_off[s] = out->pend_ext[s] = 0;
	hold_clear(out, h);
}

/* Write what waits, as far as stdout and stderr take it now. */
void
output_flush(struct output *out)
{
	int	 s;

	for (s = 0; s < 2; s++)
		if (pending(out, s))
			flush_stream(out, s);
	release_written(out);
}

/* Whether output waits for a stream; the fds to poll for POLLOUT. */
int
output_pending(const struct output *out, int *fds)
{
	int	 n = 0, s;

	if (out->status != OUTPUT_OK)
		return 0;
	for (s = 0; s < 2; s++)
		if (pending(out, s))
			fds[n++] = out->wfd[s];
	return n;
}

/* The job is finished. */
void
output_finish(struct output *out, struct job *j)
{
	struct job	*head;

	/* What an interrupted job wrote is incomplete: its files go. */
	if (j->interrupted)
		capture_drop(out->cap, j);
	else if (capture_finish(out->cap, j) == -1)
		out->status = OUTPUT_FAILED;
	j->out->done = 1;
	if (!out->keep_order) {
		retire(out, j);
		return;
	}
	while ((head = TAILQ_FIRST(&out->queue)) != NULL && head->out->done) {
		TAILQ_REMOVE(&out->queue, head, entry);
		out->nqueued--;
		retire(out, head);
		if ((head = TAILQ_FIRST(&out->queue)) != NULL)
			go_live(out, head);
	}
}

/* Tell the display on the terminal fd of every write there. */
void
output_guard_terminal(struct output *out, int fd, void (*before)(void *),
    void (*after)(void *, char), void *ctx)
{
	struct stat	 tty, st;
	int		 s;

	if (fstat(fd, &tty) == -1 || !S_ISCHR(tty.st_mode))
		return;
	out->tty_before = before;
	out->tty_after = after;
	out->tty_ctx = ctx;
	for (s = 0; s < 2; s++) {
		if (fstat(out->wfd[s], &st) == -1 || !S_ISCHR(st.st_mode) ||
		    st.st_rdev != tty.st_rdev)
			continue;
		out->on_tty[s] = 1;
		/* Bytes sent from the spill file could not be looked at. */
		out->no_sendfile[s] = 1;
	}
}
