#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec.h"
#include "job.h"
#include "loop.h"
#include "opts.h"
#include "runner.h"
#include "source.h"
#include "template.h"
#include "util.h"
#include "workers.h"

/* One read per ready pipe per turn keeps a fast writer from starving. */
#define READ_CHUNK	(64 * 1024)

/* Pipe events taken from epoll in one turn. */
#define MAX_EVENTS	64

/* After the system ran out of processes or descriptors, try again then. */
#define START_AGAIN_MS	100

/*
 * Output with no record in flight is warned about a line at a time; a
 * line longer than this is cut into pieces, so that it is never held.
 */
#define STRAY_MAX	4096

/* The control descriptors polled each turn (signals, pipes, output, input). */
#define NCTL		5

/* What an epoll event is about: a worker's stdout, stderr or stdin. */
enum {
	EV_OUT,
	EV_ERR,
	EV_IN
};

struct worker;

/* What an epoll event is about: a worker and which of its pipes. */
struct worker_pipe {
	struct worker		*w;
	int			 kind;		/* EV_OUT, EV_ERR, EV_IN */
};

/*
 * A worker: one long-lived process, and the record it has.  It lives
 * from its start until it is reaped; it is in its slot until its stdin
 * is closed, after which another may take the slot.
 */
struct worker {
	struct workers		*ws;		/* whose it is */
	unsigned int		 slot;		/* {%}: 1..N */
	struct job		*proc;		/* owned: the worker's command,
						   for the executor */
	pid_t			 pid;
	int			 in;		/* write end of its stdin, or -1 */
	int			 in_watched;	/* in the epoll set: a record
						   waits to be written */
	int			 in_broken;	/* a write failed: no reader */
	int			 fd[2];		/* stdout, stderr, or -1 */
	int			 closing;	/* stdin closed: it is to exit */
	long long		 closed_at;	/* then, for --timeout */
	struct worker_pipe	 pipes[3];	/* by EV_*, for epoll */
	struct loop_term	 term;		/* being ended: --termseq */
	struct job		*job;		/* the record in flight, or
						   NULL; the job is ours */
	struct buf		 send;		/* its bytes for stdin */
	size_t			 sent;		/* how many were written */
	struct buf		 stray;		/* stdout with no record in
						   flight, up to a delimiter */
	unsigned long long	 tasks;		/* records it answered */
	long long		 held_ms;	/* the record's time held up by
						   forkpool's stalled output */
	long long		 held_since;	/* held up now since, or 0 */
	LIST_ENTRY(worker)	 entry;		/* in the workers' all */
};

struct workers {
	struct runner_opts		 o;
	const struct runner_callbacks	*cb;
	struct executor			*ex;
	const struct template		*cmd;
	char				 in_delim;	/* after each record */
	char				 out_delim;	/* ends each answer */
	size_t				 max_tasks;	/* 0: no limit */
	unsigned int			 n;
	struct worker			**slot;		/* by slot - 1: the
							   worker taking records
							   there, or NULL */
	LIST_HEAD(worker_list, worker)	 all;		/* owned: every worker
							   not reaped yet */
	int				 sigfd;
	int				 epfd;
	sigset_t			 oldmask;
	struct job			*held;		/* owned: taken from the
							   source, no idle worker
							   for it yet */
	/*
	 * Jobs to run again before new ones, owned, oldest first: at most
	 * one per worker and the held one.  Not a list through the job's
	 * entry, which the output collector's -k queue uses.
	 */
	struct job			**retry;
	unsigned int			 nretry;
	int				 no_more;	/* next() said DONE */
	int				 draining;	/* send no more records */
	int				 stopping;	/* and end the workers */
	int				 broken;	/* the loop failed */
	int				 out_stalled;	/* check_held() */
	int				 signal;	/* that ended the run */
	long long			 start_at;	/* no start before */
	char				*rbuf;
};

static void	act(struct workers *, int);

/* Render w's command for its slot. */
static void
render_worker(struct workers *ws, struct worker *w)
{
	struct template_args	 a = { 0 };
	size_t			 argc;

	a.slot = w->slot;
	argc = template_expand(ws->cmd, &a, &w->proc->cmd, NULL);
	job_set_argv(w->proc, argc, template_uses_shell(ws->cmd) ?
	    template_shell(ws->cmd) : NULL);
}

/* Refuse a command with a replacement string of a job's; workers.h. */
int
workers_check_command(const struct template *cmd)
{
	const char	*r;
	size_t		 len;

	if ((r = template_job_repl(cmd, &len)) == NULL)
		return 0;
	warnx("--workers: the command cannot use %.*s: records go to the "
	    "workers' stdin", (int)len, r);
	return -1;
}

/* Workers for the executor's slots; see workers.h. */
struct workers *
workers_new(const struct runner_opts *ro, const struct runner_callbacks *cb,
    struct executor *ex, const struct template *cmd, const struct opts *o)
{
	struct workers	*ws;

	ws = xcalloc(1, sizeof(*ws));
	ws->o = *ro;
	ws->cb = cb;
	ws->ex = ex;
	ws->cmd = cmd;
	/* -d sets how records are read; a worker reads lines, or -0's. */
	ws->in_delim = ws->out_delim = o->delim == '\0' ? '\0' : '\n';
	ws->max_tasks = o->max_tasks;
	ws->n = ex->ops->slots(ex->ctx);
	ws->slot = xcalloc(ws->n, sizeof(*ws->slot));
	LIST_INIT(&ws->all);
	ws->retry = xcalloc(ws->n + 1, sizeof(*ws->retry));
	ws->rbuf = xmalloc(READ_CHUNK);
	ws->sigfd = loop_catch_signals(&ws->oldmask);
	if ((ws->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err(EXIT_FORKPOOL_ERROR, "epoll_create1");
	/* A worker's orphans come to forkpool, which reaps them at once. */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	return ws;
}

/* Release the workers; none may be running. */
void
workers_free(struct workers *ws)
{
	if (ws == NULL)
		return;
	job_free(ws->held);
	close(ws->sigfd);
	close(ws->epfd);
	sigprocmask(SIG_SETMASK, &ws->oldmask, NULL);
	free(ws->slot);
	free(ws->retry);
	free(ws->rbuf);
	free(ws);
}

/* Whether the workers take no more records. */
int
workers_draining(const void *ctx)
{
	const struct workers	*ws = ctx;

	return ws->draining;
}

/* Watch fd of w (what kind, for events) with epoll. */
static void
watch(struct workers *ws, struct worker *w, int fd, int kind, uint32_t events)
{
	struct epoll_event	 ev = { .events = events };

	w->pipes[kind].w = w;
	w->pipes[kind].kind = kind;
	ev.data.ptr = &w->pipes[kind];
	if (epoll_ctl(ws->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		warn("epoll_ctl");
		ws->broken = 1;
	}
}

/* Send sig to w's process group, for loop_term_step(). */
static void
send_term(void *ctx, int sig)
{
	struct worker	*w = ctx;

	w->ws->ex->ops->signal(w->ws->ex->ctx, w->proc, w->pid, sig);
}

/* Begin ending w with the termination sequence, unless under way. */
static void
terminate(struct workers *ws, struct worker *w, long long now)
{
	if (w->term.step >= 0 || w->pid <= 0)
		return;
	w->term.step = 0;
	w->term.at = now;
	loop_term_step(&w->term, ws->o.termseq, ws->o.ntermseq, w->pid, now,
	    send_term, w);
}

/*
 * Close one of a worker's pipes, out of the epoll set first: closing
 * alone takes it out only once no other descriptor anywhere shares its
 * open file, and an event for a worker already freed must never come.
 */
static void
close_watched(struct workers *ws, int *fd)
{
	(void)epoll_ctl(ws->epfd, EPOLL_CTL_DEL, *fd, NULL);
	close(*fd);
	*fd = -1;
}

/*
 * Close w's stdin: it is to exit once it read what it was sent.  Its slot
 * is free at once for another; w is waited for apart from it.
 */
static void
close_stdin(struct worker *w)
{
	if (w->in != -1)
		close_watched(w->ws, &w->in);
	w->in_watched = 0;
	w->closing = 1;
	w->closed_at = loop_now_ms();
	if (w->ws->slot[w->slot - 1] == w)
		w->ws->slot[w->slot - 1] = NULL;
}

/*
 * Hand back a job that ended (or never started) and do what the verdict
 * says: run it again before any new job, or let it go.
 */
static void
conclude(struct workers *ws, struct job *j, int verdict)
{
	act(ws, verdict);
	if ((verdict & (RUNNER_RETRY | RUNNER_REQUEUE)) && !ws->draining) {
		job_reset(j, (verdict & RUNNER_RETRY) != 0);
		ws->retry[ws->nretry++] = j;
	}
}

/* The oldest job to run again, or NULL. */
static struct job *
take_retry(struct workers *ws)
{
	struct job	*j;

	if (ws->nretry == 0)
		return NULL;
	j = ws->retry[0];
	memmove(ws->retry, ws->retry + 1, --ws->nretry * sizeof(*ws->retry));
	return j;
}

/*
 * Send no more records.  A job taken but never sent is dropped: it has
 * no row in the joblog, so a --resume runs it.  One waiting to run again
 * is concluded as not started, as the runner does.
 */
static void
drain(struct workers *ws)
{
	struct job	*j;

	ws->draining = 1;
	job_free(ws->held);
	ws->held = NULL;
	while ((j = take_retry(ws)) != NULL) {
		job_set_stopped(j, 1, loop_now_ms());
		act(ws, ws->cb->not_started(ws->cb->ctx, j));
	}
}

/* Send no more records and end every worker. */
static void
stop(struct workers *ws)
{
	struct worker	*w;
	long long	 now = loop_now_ms();

	drain(ws);
	if (ws->stopping)
		return;
	ws->stopping = 1;
	for (w = LIST_FIRST(&ws->all); w != NULL; w = LIST_NEXT(w, entry)) {
		if (w->job != NULL)
			w->job->interrupted = 1;
		terminate(ws, w, now);
	}
}

/* Do what a verdict asks beyond the job it answers for. */
static void
act(struct workers *ws, int verdict)
{
	if (verdict & RUNNER_STOP)
		stop(ws);
	else if (verdict & RUNNER_DRAIN)
		drain(ws);
}

/* Say what w wrote on stdout with no record in flight, and forget it. */
static void
stray(struct worker *w)
{
	struct buf	*b = &w->stray;

	if (b->len > 0 && b->data[b->len - 1] == w->ws->out_delim)
		b->len--;
	warnx("worker %u: output with no record in flight: %.*s", w->slot,
	    (int)b->len, b->data);
	buf_reset(b);
}

/*
 * Read what w wrote on stderr: the record's in flight, else forkpool's
 * stderr.  Returns the bytes read, 0 once closed, -1 when none is there.
 */
static ssize_t
read_err(struct workers *ws, struct worker *w)
{
	ssize_t	 n;

	if ((n = read(w->fd[1], ws->rbuf, READ_CHUNK)) > 0) {
		if (w->job != NULL && w->term.step < 0)
			act(ws, ws->cb->output(ws->cb->ctx, w->job, 1,
			    ws->rbuf, (size_t)n));
		else {
			/* Through stdio's stderr, which a display may watch. */
			(void)fwrite(ws->rbuf, 1, (size_t)n, stderr);
			(void)fflush(stderr);
		}
		return n;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return -1;
	close_watched(ws, &w->fd[1]);
	return 0;
}

/* w answered its record: the job succeeded. */
static void
answered(struct workers *ws, struct worker *w)
{
	struct job	*j = w->job;

	/* What it wrote on stderr before its answer is the record's too. */
	while (w->fd[1] != -1 && read_err(ws, w) > 0)
		continue;
	w->job = NULL;
	w->tasks++;
	j->state = JOB_DONE;
	j->end_ms = loop_now_ms();
	if (ws->max_tasks != 0 && w->tasks >= ws->max_tasks)
		close_stdin(w);
	conclude(ws, j, ws->cb->finished(ws->cb->ctx, j));
}

/*
 * Bytes w wrote on stdout: the answer of its record up to the delimiter,
 * then output with no record in flight.  A worker being ended answers
 * nothing: its record's result is its ending.
 */
static void
take_stdout(struct workers *ws, struct worker *w, const char *p, size_t len)
{
	const char	*e;
	size_t		 k;

	while (len > 0 && w->term.step < 0) {
		e = memchr(p, ws->out_delim, len);
		k = e != NULL ? (size_t)(e - p) + 1 : len;
		if (w->job != NULL) {
			w->job->received += k;
			act(ws, ws->cb->output(ws->cb->ctx, w->job, 0, p, k));
			if (e != NULL && w->job != NULL)
				answered(ws, w);
		} else {
			buf_add(&w->stray, p, k);
			if (e != NULL || w->stray.len >= STRAY_MAX)
				stray(w);
		}
		p += k;
		len -= k;
	}
}

/*
 * Read what w wrote on stdout.  Returns the bytes read, 0 once closed,
 * -1 when none is there.
 */
static ssize_t
read_out(struct workers *ws, struct worker *w)
{
	ssize_t	 n;

	if ((n = read(w->fd[0], ws->rbuf, READ_CHUNK)) > 0) {
		take_stdout(ws, w, ws->rbuf, (size_t)n);
		return n;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return -1;
	close_watched(ws, &w->fd[0]);
	if (w->stray.len > 0)
		stray(w);
	return 0;
}

/* Write what is left of w's record to its stdin, as it takes it. */
static void
write_record(struct workers *ws, struct worker *w)
{
	ssize_t	 n;

	while (w->in != -1 && !w->in_broken && w->sent < w->send.len) {
		n = write(w->in, w->send.data + w->sent, w->send.len - w->sent);
		if (n > 0) {
			w->sent += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (!w->in_watched)
				watch(ws, w, w->in, EV_IN, EPOLLOUT);
			w->in_watched = 1;
			return;
		}
		/*
		 * EPIPE: it closed its stdin.  The pipe is kept open for
		 * worker_gone() to see what it never read; one that lives on
		 * is for --timeout.
		 */
		w->in_broken = 1;
		break;
	}
	if (w->in_watched)
		(void)epoll_ctl(ws->epfd, EPOLL_CTL_DEL, w->in, NULL);
	w->in_watched = 0;
}

/*
 * Give job j to the idle worker w: its record and the delimiter go to
 * w's stdin.  The builder rejected any record that holds the delimiter.
 */
static void
send_record(struct workers *ws, struct worker *w, struct job *j,
    long long now)
{
	const char	*p;
	size_t		 i, len;

	j->slot = w->slot;
	j->host = ws->ex->ops->host(ws->ex->ctx, j->slot);
	j->start_ms = now;
	j->start_time = loop_now_epoch();
	ws->cb->render(ws->cb->ctx, j);
	buf_reset(&w->send);
	/* Several values (sources, columns) are one record, TAB-joined. */
	for (i = 0, p = j->vals.data; i < j->nvals; i++, p += len + 1) {
		len = strlen(p);
		if (i > 0)
			buf_addc(&w->send, '\t');
		buf_add(&w->send, p, len);
	}
	buf_addc(&w->send, ws->in_delim);
	w->sent = 0;
	w->held_ms = w->held_since = 0;
	j->sent = w->send.len;
	j->state = JOB_RUNNING;
	j->started = 1;
	w->job = j;
	act(ws, ws->cb->started(ws->cb->ctx, j));
	write_record(ws, w);
}

/* A worker for slot, not started yet. */
static struct worker *
worker_new(struct workers *ws, unsigned int slot)
{
	struct worker	*w;

	w = xcalloc(1, sizeof(*w));
	w->ws = ws;
	w->slot = slot;
	w->pid = -1;
	w->in = w->fd[0] = w->fd[1] = -1;
	w->term.step = -1;
	w->proc = job_new(0);
	w->proc->slot = slot;
	render_worker(ws, w);
	return w;
}

/* Release w, whose process was reaped and whose pipes are closed. */
static void
worker_free(struct worker *w)
{
	job_free(w->proc);
	buf_free(&w->send);
	buf_free(&w->stray);
	free(w);
}

/*
 * Start a worker in the empty slot given, its stdin on a pipe of ours.
 * On EXEC_FAILED, *code and *error are the job's exit code and errno.
 */
static enum exec_result
start_worker(struct workers *ws, unsigned int slot, int *code, int *error)
{
	struct exec_proc	 ep = { -1, { -1, -1 } };
	struct worker		*w;
	enum exec_result	 res;
	int			 p[2];

	if (pipe2(p, O_CLOEXEC) == -1)
		return errno == EMFILE || errno == ENFILE ? EXEC_NOFDS :
		    EXEC_AGAIN;
	w = worker_new(ws, slot);
	res = ws->ex->ops->launch(ws->ex->ctx, w->proc, p[0], &ep);
	close(p[0]);
	if (res != EXEC_OK) {
		close(p[1]);
		*code = w->proc->exit_code;
		*error = w->proc->start_error;
		worker_free(w);
		return res;
	}
	(void)fcntl(p[1], F_SETFL, O_NONBLOCK);
	w->in = p[1];
	w->pid = ep.pid;
	w->fd[0] = ep.fd[0];
	w->fd[1] = ep.fd[1];
	watch(ws, w, w->fd[0], EV_OUT, EPOLLIN);
	watch(ws, w, w->fd[1], EV_ERR, EPOLLIN);
	LIST_INSERT_HEAD(&ws->all, w, entry);
	ws->slot[slot - 1] = w;
	return EXEC_OK;
}

/*
 * Start a worker for the held job, in the lowest empty slot: workers
 * start as records wait for them, never more.  Returns 1 when the held
 * job may go on (a worker started, or it failed for want of one that
 * can start), else 0 with *wake set when a start is to be tried again.
 */
static int
start_one(struct workers *ws, long long now, long long *wake)
{
	struct job	*j;
	unsigned int	 i;
	int		 code = 0, error = 0;

	for (i = 0; i < ws->n && ws->slot[i] != NULL; i++)
		continue;
	if (i == ws->n)
		return 0;
	if (now < ws->start_at) {
		*wake = loop_earlier(*wake, ws->start_at);
		return 0;
	}
	switch (start_worker(ws, i + 1, &code, &error)) {
	case EXEC_OK:
		return 1;
	case EXEC_AGAIN:
	case EXEC_NOFDS:
		ws->start_at = now + START_AGAIN_MS;
		*wake = loop_earlier(*wake, ws->start_at);
		return 0;
	case EXEC_FAILED:
		break;
	}
	/* The record cannot run: it fails as a job would. */
	j = ws->held;
	ws->held = NULL;
	j->slot = i + 1;
	j->start_ms = j->end_ms = now;
	j->start_time = loop_now_epoch();
	ws->cb->render(ws->cb->ctx, j);
	job_set_spawn_failure(j, code);
	j->start_error = error;
	conclude(ws, j, ws->cb->not_started(ws->cb->ctx, j));
	return 1;
}

/* The idle worker of the lowest slot, or NULL. */
static struct worker *
idle_worker(struct workers *ws)
{
	struct worker	*w;
	unsigned int	 i;

	for (i = 0; i < ws->n; i++) {
		w = ws->slot[i];
		if (w != NULL && w->in != -1 && !w->in_broken &&
		    w->term.step < 0 && w->job == NULL)
			return w;
	}
	return NULL;
}

/*
 * Give records to idle workers, starting workers as records wait for
 * them.  Sets *wait_fd when the input must be polled, *wake when a start
 * is to be tried again.
 */
static void
dispatch(struct workers *ws, int *wait_fd, long long *wake)
{
	struct worker		*w;
	struct job		*j;
	enum runner_next	 next;
	long long		 now = loop_now_ms();
	int			 verdict, fd;

	*wait_fd = -1;
	while (!ws->draining) {
		if (ws->held == NULL) {
			j = take_retry(ws);
			if (j == NULL && ws->no_more)
				return;
			if (j == NULL) {
				verdict = RUNNER_GO;
				fd = -1;
				next = ws->cb->next(ws->cb->ctx, &j, &fd,
				    &verdict);
				act(ws, verdict);
				if (next == RUNNER_WAIT_FD)
					*wait_fd = fd;
				if (next == RUNNER_DONE)
					ws->no_more = 1;
				if (next != RUNNER_JOB)
					return;
			}
			ws->held = j;
			if (ws->draining) {
				drain(ws);
				return;
			}
		}
		if ((w = idle_worker(ws)) != NULL) {
			j = ws->held;
			ws->held = NULL;
			send_record(ws, w, j, now);
			continue;
		}
		if (!start_one(ws, now, wake))
			return;
	}
}

/*
 * With every record sent and answered, or none to be sent any more,
 * close the stdin of each worker with none in flight: it exits.
 */
static void
close_idle(struct workers *ws)
{
	unsigned int	 i;

	if ((!ws->no_more && !ws->draining) || ws->held != NULL ||
	    ws->nretry > 0)
		return;
	for (i = 0; i < ws->n; i++)
		if (ws->slot[i] != NULL && ws->slot[i]->job == NULL)
			close_stdin(ws->slot[i]);
}

/*
 * Whether the record in flight at w never reached the worker: nothing
 * of it was written, or all that was is unread in the pipe still.
 * FIONREAD on a pipe's write end counts the unread bytes on Linux.
 */
static int
never_read(const struct worker *w)
{
	int	 unread;

	if (w->sent == 0)
		return 1;
	if (w->in == -1 || ioctl(w->in, FIONREAD, &unread) == -1)
		return 0;
	return unread >= 0 && (size_t)unread >= w->sent;
}

/*
 * The record j in flight at w when it exited or was ended with status:
 * one it never read goes to another worker, unless w answered nothing
 * (a worker that cannot take records would be started again and again);
 * else it fails, and one that w left unanswered on its own is said.
 */
static void
lose_record(struct workers *ws, struct worker *w, struct job *j, int status)
{
	int	 unread = never_read(w);

	w->job = NULL;
	j->state = JOB_DONE;
	j->end_ms = loop_now_ms();
	job_set_status(j, status);
	if (unread && w->tasks > 0 && w->term.step < 0) {
		/* Not an attempt: it was never delivered. */
		j->lost = j->failed = 1;
		conclude(ws, j, ws->cb->finished(ws->cb->ctx, j));
		return;
	}
	if (w->term.step < 0) {
		if (WIFSIGNALED(status))
			warnx("worker %u killed by signal %d with record #%llu "
			    "in flight: no answer", w->slot, WTERMSIG(status),
			    j->seq);
		else
			warnx("worker %u exited (status %d) with record #%llu "
			    "in flight: no answer", w->slot,
			    WEXITSTATUS(status), j->seq);
	}
	/* Gone without an answer: failed, even with exit status 0. */
	if (!j->failed)
		j->exit_code = 1;
	j->failed = 1;
	conclude(ws, j, ws->cb->finished(ws->cb->ctx, j));
}

/*
 * w's process was reaped with status: read what its pipes hold, settle
 * the record in flight, and release w.
 */
static void
worker_gone(struct workers *ws, struct worker *w, int status)
{
	int	 s;

	/* What it wrote before it exited is in its pipes still. */
	while (w->fd[0] != -1 && read_out(ws, w) > 0)
		continue;
	while (w->fd[1] != -1 && read_err(ws, w) > 0)
		continue;
	/* Whatever keeps them open now is a process it left behind. */
	for (s = 0; s < 2; s++)
		if (w->fd[s] != -1)
			close_watched(ws, &w->fd[s]);
	if (w->stray.len > 0)
		stray(w);
	/* An ended worker's group goes with it. */
	if (w->term.step >= 0 && !loop_group_gone(w->pid))
		send_term(w, SIGKILL);
	if (ws->slot[w->slot - 1] == w)
		ws->slot[w->slot - 1] = NULL;
	if (w->job != NULL)
		lose_record(ws, w, w->job, status);
	else if (w->term.step < 0 && status != 0) {
		/* Exiting with 0 when idle is its own recycling. */
		if (WIFSIGNALED(status))
			warnx("worker %u: killed by signal %d%s", w->slot,
			    WTERMSIG(status), w->closing ? "" :
			    " with no record in flight");
		else
			warnx("worker %u: exited with status %d%s", w->slot,
			    WEXITSTATUS(status), w->closing ? "" :
			    " with no record in flight");
	}
	if (w->in != -1)
		close_watched(ws, &w->in);
	LIST_REMOVE(w, entry);
	worker_free(w);
}

/* Reap every worker that exited; a child that is no worker is let go. */
static void
reap(struct workers *ws)
{
	struct worker	*w;
	pid_t		 pid;
	int		 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		w = LIST_FIRST(&ws->all);
		/*
		 * worker_gone() took the one it freed off the list, through
		 * its le_prev, which the analyzer does not follow.
		 */
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
		while (w != NULL && w->pid != pid)
			w = LIST_NEXT(w, entry);
		if (w != NULL)
			worker_gone(ws, w, status);
	}
}

/* Signal every worker's process group. */
static void
signal_all(struct workers *ws, int sig)
{
	struct worker	*w;

	for (w = LIST_FIRST(&ws->all); w != NULL; w = LIST_NEXT(w, entry))
		send_term(w, sig);
}

/*
 * Ctrl-Z: stop every worker's group, then forkpool; once continued,
 * continue them, with their timers moved by the time stopped (see the
 * runner's suspend() for why SIGSTOP).
 */
static void
suspend(struct workers *ws)
{
	struct worker	*w;
	long long	 stopped;

	signal_all(ws, SIGSTOP);
	stopped = loop_now_ms();
	(void)kill(getpid(), SIGSTOP);
	stopped = loop_now_ms() - stopped;
	for (w = LIST_FIRST(&ws->all); w != NULL; w = LIST_NEXT(w, entry)) {
		if (w->job != NULL)
			w->job->start_ms += stopped;
		if (w->closing)
			w->closed_at += stopped;
		if (w->term.step >= 0)
			w->term.at += stopped;
	}
	signal_all(ws, SIGCONT);
}

/* SIGUSR1: list the workers and their records on stderr. */
static void
list_workers(const struct workers *ws)
{
	const struct worker	*w;

	for (w = LIST_FIRST(&ws->all); w != NULL; w = LIST_NEXT(w, entry)) {
		if (w->job != NULL)
			(void)fprintf(stderr, "forkpool: worker %u, pid %ld: "
			    "job %llu\n", w->slot, (long)w->pid, w->job->seq);
		else
			(void)fprintf(stderr, "forkpool: worker %u, pid %ld: "
			    "%s\n", w->slot, (long)w->pid, w->closing ?
			    "exiting" : "idle");
	}
	(void)fflush(stderr);
}
/* The workers' answers to signals, for loop_read_signals(). */
static void
sig_list(void *ws)
{
	list_workers(ws);
}

static void
sig_suspend(void *ws)
{
	suspend(ws);
}

static void
sig_resume(void *ws)
{
	signal_all(ws, SIGCONT);
}

static void
sig_drain(void *ws)
{
	drain(ws);
}

static void
sig_stop(void *ws)
{
	stop(ws);
}

/* Drain the signalfd as the runner does (loop_read_signals()), then reap. */
static void
read_signals(struct workers *ws)
{
	static const struct loop_signals ops = { sig_list, sig_suspend,
	    sig_resume, sig_drain, sig_stop };

	loop_read_signals(ws->sigfd, &ws->signal, &ops, ws);
	reap(ws);
}

/* Handle what epoll says is ready. */
static void
read_ready(struct workers *ws)
{
	struct epoll_event	 ev[MAX_EVENTS];
	struct worker_pipe	*wp;
	struct worker		*w;
	int			 n, k, kind;

	if ((n = epoll_wait(ws->epfd, ev, MAX_EVENTS, 0)) == -1) {
		if (errno != EINTR) {
			warn("epoll_wait");
			ws->broken = 1;
		}
		return;
	}
	for (k = 0; k < n; k++) {
		/* No worker is released between epoll_wait() and here. */
		wp = ev[k].data.ptr;
		w = wp->w;
		kind = wp->kind;
		if (kind == EV_OUT && w->fd[0] != -1)
			(void)read_out(ws, w);
		else if (kind == EV_ERR && w->fd[1] != -1)
			(void)read_err(ws, w);
		else if (kind == EV_IN && w->in_watched)
			write_record(ws, w);
	}
}

/*
 * Time out the records whose deadline passed and the workers that did
 * not exit within --timeout of their stdin closing, and take the due
 * steps of the workers being ended.  Returns the next time one is due,
 * or 0.
 */
static long long
check_timers(struct workers *ws, long long wake)
{
	struct worker	*w;
	long long	 now = loop_now_ms(), due;

	for (w = LIST_FIRST(&ws->all); w != NULL; w = LIST_NEXT(w, entry)) {
		if (w->closing && w->term.step < 0 && ws->o.timeout_ms > 0) {
			due = w->closed_at + ws->o.timeout_ms;
			if (now < due)
				wake = loop_earlier(wake, due);
			else {
				warnx("worker %u (pid %ld): still running %g s "
				    "after its stdin was closed (--timeout): "
				    "ending it", w->slot, (long)w->pid,
				    ws->o.timeout_ms / 1000.0);
				terminate(ws, w, now);
			}
		}
		if (w->job != NULL && w->term.step < 0 &&
		    ws->o.timeout_ms > 0 && w->held_since == 0) {
			due = w->job->start_ms + w->held_ms + ws->o.timeout_ms;
			if (now < due)
				wake = loop_earlier(wake, due);
			else {
				w->job->timed_out = 1;
				w->job->failed = 1;
				terminate(ws, w, now);
			}
		}
		if (w->term.step >= 0) {
			loop_term_step(&w->term, ws->o.termseq,
			    ws->o.ntermseq, w->pid, now, send_term, w);
			if ((size_t)w->term.step < ws->o.ntermseq)
				wake = loop_earlier(wake, w->term.at);
		}
	}
	return wake;
}

/*
 * Whether w's record is held up by forkpool: its answer (or part of it)
 * waits unread in the worker's stdout or stderr, or the record waits to
 * be written while the worker's stdin is empty.
 */
static int
held_up(const struct worker *w)
{
	int	 s, n;

	for (s = 0; s < 2; s++)
		if (w->fd[s] != -1 && ioctl(w->fd[s], FIONREAD, &n) == 0 &&
		    n > 0)
			return 1;
	return w->in != -1 && w->sent < w->send.len &&
	    ioctl(w->in, FIONREAD, &n) == 0 && n == 0;
}

/*
 * While forkpool's stdout or stderr is stalled (npend streams wait), no
 * answer is read and no record written: a record held up by that is not
 * timed (see the runner's check_held()).  Returns when to look again,
 * or 0.
 */
static long long
check_held(struct workers *ws, int npend, long long now)
{
	struct worker	*w;

	if (ws->o.timeout_ms == 0)
		return 0;
	if (npend > 0) {
		LIST_FOREACH(w, &ws->all, entry)
			if (w->job != NULL && w->held_since == 0 &&
			    held_up(w))
				w->held_since = now;
		ws->out_stalled = 1;
		return now + HELD_TICK_MS;
	}
	if (!ws->out_stalled)
		return 0;
	ws->out_stalled = 0;
	LIST_FOREACH(w, &ws->all, entry)
		if (w->held_since != 0) {
			w->held_ms += now - w->held_since;
			w->held_since = 0;
		}
	return 0;
}

/* Whether any worker has a process. */
static int
any_running(const struct workers *ws)
{
	return !LIST_EMPTY(&ws->all);
}

/* Wait for this turn's events until wake (0: no timer); -1 on error. */
static int
wait_turn(struct pollfd *pfd, nfds_t n, long long wake)
{
	long long	 left;
	int		 timeout = -1;
	nfds_t		 k;

	if (wake != 0) {
		left = wake - loop_now_ms();
		timeout = left < 0 ? 0 : left > 60000 ? 60000 : (int)left;
	}
	if (poll(pfd, n, timeout) == -1) {
		for (k = 0; k < n; k++)
			pfd[k].revents = 0;
		if (errno != EINTR) {
			warn("poll");
			return -1;
		}
	}
	return 0;
}

/* Run until every record is answered and every worker gone; workers.h. */
int
workers_run(struct workers *ws)
{
	struct pollfd	 pfd[NCTL];
	nfds_t		 n;
	long long	 wake;
	int		 wait_fd, npend, pend[2], jobs, out, s;

	for (;;) {
		if (ws->broken)
			stop(ws);
		wake = 0;
		dispatch(ws, &wait_fd, &wake);
		if (ws->held != NULL && wait_fd == -1 &&
		    ws->cb->prefetch != NULL && !ws->no_more &&
		    ws->cb->prefetch(ws->cb->ctx, &wait_fd))
			wake = loop_now_ms();
		close_idle(ws);
		npend = ws->cb->pending != NULL ?
		    ws->cb->pending(ws->cb->ctx, pend) : 0;
		if (!any_running(ws) && ws->held == NULL &&
		    ws->nretry == 0 && (ws->no_more || ws->draining) &&
		    (npend == 0 || (ws->stopping && (ws->signal != 0 ||
		    ws->broken))))
			break;
		n = 0;
		jobs = out = -1;
		pfd[n].fd = ws->sigfd;
		pfd[n++].events = POLLIN;
		/* While output waits for its reader, no answer is read. */
		if (npend == 0) {
			jobs = (int)n;
			pfd[n].fd = ws->epfd;
			pfd[n++].events = POLLIN;
		}
		for (s = 0; s < npend; s++) {
			if (s == 0)
				out = (int)n;
			pfd[n].fd = pend[s];
			pfd[n++].events = POLLOUT;
		}
		if (wait_fd != -1) {
			pfd[n].fd = wait_fd;
			pfd[n++].events = POLLIN;
		}
		wake = loop_earlier(wake, check_held(ws, npend, loop_now_ms()));
		wake = check_timers(ws, wake);
		if (ws->cb->tick != NULL)
			wake = loop_earlier(wake,
			    ws->cb->tick(ws->cb->ctx, loop_now_ms()));
		if (wait_turn(pfd, n, wake) == -1) {
			ws->broken = 1;
			continue;
		}
		if (pfd[0].revents != 0)
			read_signals(ws);
		if (jobs >= 0 && pfd[jobs].revents != 0)
			read_ready(ws);
		if (out >= 0 && (pfd[out].revents != 0 ||
		    (npend > 1 && pfd[out + 1].revents != 0)))
			act(ws, ws->cb->writable(ws->cb->ctx));
		(void)check_timers(ws, 0);
	}
	return ws->broken ? -1 : ws->signal;
}

/*
 * --dry-run: the command of each worker that would start, one per record
 * up to -j; see workers.h.
 */
int
workers_dry(const struct template *cmd, struct source *src,
    const struct opts *o)
{
	struct workers	 ws = { 0 };
	struct worker	 w = { 0 };
	struct buf	 line = { 0 };
	struct pollfd	 pfd;
	struct job	*j;
	unsigned int	 i = 0;
	int		 done = 0, status = 0;

	ws.cmd = cmd;
	w.proc = job_new(0);
	while (!done && i < o->jobs) {
		switch (src->ops->next(src->ctx, &j)) {
		case SOURCE_JOB:
			job_free(j);
			w.slot = ++i;
			render_worker(&ws, &w);
			buf_reset(&line);
			job_display(w.proc, &line);
			buf_addc(&line, '\n');
			done = fwrite(line.data, 1, line.len, stdout) !=
			    line.len;
			break;
		case SOURCE_WAIT:
			/* The reader sees each command before input stalls. */
			if (fflush(stdout) == EOF) {
				done = 1;
				break;
			}
			pfd.fd = src->ops->fd(src->ctx);
			pfd.events = POLLIN;
			(void)poll(&pfd, 1, -1);
			break;
		case SOURCE_ERROR:
			status = EXIT_FORKPOOL_ERROR;
			done = 1;
			break;
		case SOURCE_REJECTED:
			break;
		case SOURCE_IDLE:	/* pipe mode's, never a builder's */
		case SOURCE_DONE:
			done = 1;
			break;
		}
	}
	buf_free(&line);
	job_free(w.proc);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (errno == EPIPE)
			return 141;
		warn("write error on stdout");
		return EXIT_FORKPOOL_ERROR;
	}
	return status;
}
