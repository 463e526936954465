#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exec.h"
#include "job.h"
#include "loop.h"
#include "opts.h"
#include "runner.h"
#include "util.h"

/* One read per ready pipe per turn keeps a fast writer from starving. */
#define READ_CHUNK	(128 * 1024)

/* Pipe events taken from epoll in one turn. */
#define MAX_EVENTS	256

/* How often a closed --load or --memfree gate is looked at again. */
#define GATE_RECHECK_MS	1000

/* Backoff after the system ran out of processes: from 10 ms to 1 s. */
#define BACKOFF_MIN_MS	10
#define BACKOFF_MAX_MS	1000

/* How long an ended job's group may outlive its termination sequence. */
#define TERM_GIVE_UP_MS	10000

/*
 * A job that exited while its pipes stay open is looked at again this
 * often, in case its group ended without a SIGCHLD to forkpool.
 */
#define GROUP_RECHECK_MS	1000

/*
 * The most jobs started in one turn of the loop before the running ones
 * are looked at: jobs that end at once then free their descriptors
 * before more are started, and every start copies (and its child closes)
 * forkpool's whole descriptor table, so keeping that table to what is
 * really running keeps the cost of a start flat.
 */
#define STARTS_PER_TURN	16

/* After an error of the event loop, how often everything is looked at. */
#define BROKEN_TICK_MS	10

/*
 * How long a feed that asked for a retry (a --fifo the job has not read
 * to its end yet) waits before it is looked at again.
 */
#define FEED_RETRY_MS	10

/* The pipe a job's stdin is fed through, if the system allows it. */
#define INPUT_PIPE_SIZE	(1024 * 1024)

/* The most taken from a pipe that is no longer waited for. */
#define ABANDON_MAX	(1024 * 1024)

/* The control descriptors polled each turn (signals, jobs, output, input). */
#define NCTL		5

/*
 * Runtimes of successful jobs, for --timeout N%, in buckets 2% apart
 * from 1 ms: memory stays fixed however many jobs run.
 */
#define HIST_BUCKETS	1100
#define HIST_STEP	1.02

/*
 * A process record: the process that runs a slot's job.  It belongs to
 * the runner alone; the job only knows what came of it.
 */
struct proc {
	struct job		*job;		/* NULL: the slot is free */
	pid_t			 pid;		/* -1 until launched */
	int			 fd[2];		/* stdout, stderr read ends */
	int			 in;		/* stdin's write end, or -1 */
	int			 in_idle;	/* not watched: 1 in r->idle,
						   2 in r->retry */
	int			 reaped;	/* and its pid forgotten */
	struct runner		*runner;	/* whose it is */
	struct loop_term	 term;		/* its --termseq steps */
	int			 on_timed;	/* in r->timed */
	int			 on_ending;	/* in r->ending */
	int			 dirty;		/* in r->dirty */
	long long		 held_ms;	/* time held up by forkpool's
						   stalled output, not the job's */
	long long		 held_since;	/* held up now since, or 0 */
	TAILQ_ENTRY(proc)	 timed_entry;
	TAILQ_ENTRY(proc)	 ending_entry;
	TAILQ_ENTRY(proc)	 dirty_entry;
	TAILQ_ENTRY(proc)	 idle_entry;
};

TAILQ_HEAD(proc_list, proc);

struct runner {
	struct runner_opts		 o;
	const struct runner_callbacks	*cb;
	struct executor			*ex;
	unsigned int			 nslots;
	struct proc			*procs;		/* by slot - 1 */
	unsigned int			*freeheap;	/* free slots, min-heap */
	unsigned int			*skipped;	/* scratch: unusable ones */
	unsigned int			 nfree;
	unsigned int			*pidtab;	/* slot + 1 by pid hash */
	size_t				 pidmask;
	unsigned int			 max;		/* slots in use at most */
	int				 nofds_warned;	/* EMFILE lowered max */
	unsigned int			 nrunning;
	int				 sigfd;
	int				 epfd;
	sigset_t			 oldmask;
	int				 no_more;	/* next() said DONE */
	int				 out_stalled;	/* check_held() */
	int				 in_pipe_size;	/* input_pipe_size() */
	int				 draining;	/* start no new job */
	int				 stopping;	/* and end the running */
	int				 broken;	/* the loop failed */
	int				 signal;	/* that ended the run */
	int				 suspend_due;	/* --tty job stopped */
	struct job_list			 requeued;	/* to run before new jobs,
						   through requeue_entry: entry
						   may hold it in -k order */
	struct job			*waiting;	/* launch to try again */
	struct job			*ahead;		/* taken within --delay, to
						   start after it */
	unsigned int			 waiting_slot;
	long long			 waiting_at;
	const char			*cannot_start;	/* why a job failed to */
	unsigned long long		 ncannot_start;	/* start with none running */
	long long			 backoff_ms;
	long long			 last_start;
	long long			 gate_at;	/* gate closed until */
	struct proc_list		 timed;		/* running, by start */
	struct proc_list		 ending;	/* being ended, or reaped
							   with pipes open */
	struct proc_list		 dirty;		/* to look at for an end */
	struct proc_list		 idle;		/* stdin has nothing to
							   be fed yet */
	struct proc_list		 retry;		/* stdin to be fed again
							   at retry_at */
	long long			 retry_at;
	unsigned long long		 hist[HIST_BUCKETS];
	unsigned long long		 nhist;
	char				*rbuf;
};

static void	abandon_output(struct runner *, struct proc *);
static void	act(struct runner *, int);
static int	launch(struct runner *, struct job *, unsigned int, long long);

/*
 * The histogram's buckets: 0 holds runtimes under 1 ms, bucket b > 0
 * those from HIST_STEP^(b-1) ms up, the last one all longer runtimes.
 */
static double	hist_floor[HIST_BUCKETS];

static void
hist_init(void)
{
	double	 v = 1;
	size_t	 b;

	for (b = 1; b < HIST_BUCKETS; b++) {
		hist_floor[b] = v;
		v *= HIST_STEP;
	}
}

/* Add a successful runtime to the histogram. */
static void
hist_add(struct runner *r, long long ms)
{
	size_t	 lo = 0, hi = HIST_BUCKETS, mid;

	/* The last bucket whose floor is at most ms. */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (hist_floor[mid] <= (double)ms)
			lo = mid;
		else
			hi = mid;
	}
	r->hist[lo]++;
	r->nhist++;
}

/* The median successful runtime in ms, or -1 before any success. */
static long long
hist_median(const struct runner *r)
{
	unsigned long long	 seen = 0;
	size_t			 b;

	if (r->nhist == 0)
		return -1;
	/* The last bucket holds the rest: the loop ends there at the latest. */
	for (b = 0; b < HIST_BUCKETS - 1; b++) {
		seen += r->hist[b];
		if (seen * 2 >= r->nhist)
			break;
	}
	return (long long)hist_floor[b];
}

/* Free slots (indexes) in a min-heap: {%} takes the lowest free one. */
static void
heap_push(struct runner *r, unsigned int i)
{
	unsigned int	 k = r->nfree++, up;

	while (k > 0 && r->freeheap[up = (k - 1) / 2] > i) {
		r->freeheap[k] = r->freeheap[up];
		k = up;
	}
	r->freeheap[k] = i;
}

static unsigned int
heap_pop(struct runner *r)
{
	unsigned int	 top = r->freeheap[0], last, k = 0, c;

	last = r->freeheap[--r->nfree];
	while ((c = 2 * k + 1) < r->nfree) {
		if (c + 1 < r->nfree && r->freeheap[c + 1] < r->freeheap[c])
			c++;
		if (last <= r->freeheap[c])
			break;
		r->freeheap[k] = r->freeheap[c];
		k = c;
	}
	r->freeheap[k] = last;
	return top;
}

/* Where pid's entry is, or the empty place it would take. */
static size_t
pid_place(const struct runner *r, pid_t pid)
{
	size_t	 h = ((size_t)pid * 2654435761u) & r->pidmask;

	while (r->pidtab[h] != 0 && r->procs[r->pidtab[h] - 1].pid != pid)
		h = (h + 1) & r->pidmask;
	return h;
}

/* Note that slot i runs pid. */
static void
pid_add(struct runner *r, pid_t pid, unsigned int i)
{
	r->pidtab[pid_place(r, pid)] = i + 1;
}

/* Forget pid (linear probing: the entries after it move back). */
static void
pid_del(struct runner *r, pid_t pid)
{
	size_t	 h = pid_place(r, pid), k, home;

	if (r->pidtab[h] == 0)
		return;
	r->pidtab[h] = 0;
	for (k = (h + 1) & r->pidmask; r->pidtab[k] != 0;
	    k = (k + 1) & r->pidmask) {
		home = ((size_t)r->procs[r->pidtab[k] - 1].pid * 2654435761u) &
		    r->pidmask;
		/* Move it back unless its home lies in (h, k]. */
		if ((k > h && (home <= h || home > k)) ||
		    (k < h && home <= h && home > k)) {
			r->pidtab[h] = r->pidtab[k];
			r->pidtab[k] = 0;
			h = k;
		}
	}
}

/* The slot index running pid, or -1. */
static long
pid_find(const struct runner *r, pid_t pid)
{
	size_t	 h = pid_place(r, pid);

	return r->pidtab[h] != 0 ? (long)r->pidtab[h] - 1 : -1;
}

/* A number from a file of /proc/sys, or 0. */
static unsigned long
sysctl_num(const char *path)
{
	char		 line[32], *end;
	unsigned long	 n;
	ssize_t		 len;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	len = read(fd, line, sizeof(line) - 1);
	(void)close(fd);
	if (len <= 0)
		return 0;
	line[len] = '\0';
	errno = 0;
	n = strtoul(line, &end, 10);
	return errno != 0 || end == line ? 0 : n;
}

/*
 * The size of a job's stdin pipe: INPUT_PIPE_SIZE, or less, so that the
 * slots' stdin pipes take at most a quarter of what a user may hold in
 * pipes (/proc/sys/fs/pipe-user-pages-soft).  Past that the kernel makes
 * every new pipe of an unprivileged user a page or two, the user's other
 * programs' too; root in a user namespace counts as unprivileged, so
 * every user keeps to it.  At most pipe-max-size, which an unprivileged
 * user may not pass.  0: leave the pipe as it is made.
 */
static int
input_pipe_size(unsigned int slots)
{
	unsigned long	 soft, max;
	size_t		 size = INPUT_PIPE_SIZE, budget = SIZE_MAX;

	soft = sysctl_num("/proc/sys/fs/pipe-user-pages-soft");
	max = sysctl_num("/proc/sys/fs/pipe-max-size");
	if (soft > 0)
		budget = soft * (size_t)sysconf(_SC_PAGESIZE) / 4 / slots;
	while (size > 64 * 1024 && (size > budget || (max > 0 && size > max)))
		size /= 2;
	return size > 64 * 1024 ? (int)size : 0;
}

/* A runner for the executor's slots. */
struct runner *
runner_new(const struct runner_opts *o, const struct runner_callbacks *cb,
    struct executor *ex)
{
	struct runner	*r;
	unsigned int	 i;
	size_t		 tab = 16;

	r = xcalloc(1, sizeof(*r));
	r->o = *o;
	r->cb = cb;
	r->ex = ex;
	r->nslots = r->max = ex->ops->slots(ex->ctx);
	if (cb->feed != NULL)
		r->in_pipe_size = input_pipe_size(r->nslots);
	r->procs = xcalloc(r->nslots, sizeof(*r->procs));
	r->freeheap = xcalloc(r->nslots, sizeof(*r->freeheap));
	r->skipped = xcalloc(r->nslots, sizeof(*r->skipped));
	for (i = 0; i < r->nslots; i++) {
		r->procs[i].runner = r;
		r->procs[i].pid = -1;
		r->procs[i].fd[0] = r->procs[i].fd[1] = -1;
		r->procs[i].term.step = -1;
		r->procs[i].in = -1;
		r->freeheap[r->nfree++] = i;	/* ascending: a heap */
	}
	while (tab < (size_t)r->nslots * 2)
		tab *= 2;
	r->pidtab = xcalloc(tab, sizeof(*r->pidtab));
	r->pidmask = tab - 1;
	TAILQ_INIT(&r->timed);
	TAILQ_INIT(&r->ending);
	TAILQ_INIT(&r->dirty);
	TAILQ_INIT(&r->idle);
	TAILQ_INIT(&r->retry);
	TAILQ_INIT(&r->requeued);
	if (o->timeout_pct > 0)
		hist_init();
	r->rbuf = xmalloc(READ_CHUNK);
	r->last_start = -o->delay_ms;
	r->sigfd = loop_catch_signals(&r->oldmask);
	r->epfd = -1;	/* made with the first job: it takes a descriptor */
	/*
	 * Orphaned grandchildren come to forkpool rather than to init, which
	 * may reap them late: an ended job's group is then gone as soon as
	 * its processes are, and no zombie is left behind.
	 */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	return r;
}

/* Release the runner; no job may be running. */
void
runner_free(struct runner *r)
{
	if (r == NULL)
		return;
	close(r->sigfd);
	if (r->epfd != -1)
		close(r->epfd);
	sigprocmask(SIG_SETMASK, &r->oldmask, NULL);
	free(r->procs);
	free(r->freeheap);
	free(r->skipped);
	free(r->pidtab);
	free(r->rbuf);
	free(r);
}

/* Whether the runner starts no more jobs. */
int
runner_draining(const struct runner *r)
{
	return r->draining;
}

/* The slot index of a process record. */
static unsigned int
slot_of(const struct runner *r, const struct proc *p)
{
	return (unsigned int)(p - r->procs);
}

/* Look at p for its end this turn. */
static void
mark_dirty(struct runner *r, struct proc *p)
{
	if (!p->dirty) {
		p->dirty = 1;
		TAILQ_INSERT_TAIL(&r->dirty, p, dirty_entry);
	}
}

/* Look at p on every turn until it is finished (see check_ending()). */
static void
watch_ending(struct runner *r, struct proc *p)
{
	if (!p->on_ending) {
		p->on_ending = 1;
		TAILQ_INSERT_TAIL(&r->ending, p, ending_entry);
	}
}

/* Whether the process group of p has no process left. */
static int
group_gone(const struct proc *p)
{
	return loop_group_gone(p->pid);
}

/* Send sig to p's job through the executor. */
static void
send_signal(struct runner *r, struct proc *p, int sig)
{
	r->ex->ops->signal(r->ex->ctx, p->job, p->pid, sig);
}

/* Send sig to the job of p (a struct proc), for loop_term_step(). */
static void
send_term(void *ctx, int sig)
{
	struct proc	*p = ctx;

	p->runner->ex->ops->signal(p->runner->ex->ctx, p->job, p->pid, sig);
}

/* Take the due steps of p's termination sequence (loop_term_step()). */
static void
terminate_step(struct runner *r, struct proc *p, long long now)
{
	loop_term_step(&p->term, r->o.termseq, r->o.ntermseq, p->pid, now,
	    send_term, p);
}

/* Begin ending p's job, unless that is under way. */
static void
terminate(struct runner *r, struct proc *p, long long now)
{
	if (p->term.step >= 0 || p->pid <= 0)
		return;
	p->term.step = 0;
	p->term.at = now;
	if (p->on_timed) {
		p->on_timed = 0;
		TAILQ_REMOVE(&r->timed, p, timed_entry);
	}
	watch_ending(r, p);
	terminate_step(r, p, now);
}

/* Start no more jobs; a launch waiting to be tried again fails. */
static void
drain(struct runner *r)
{
	struct job	*j;

	r->draining = 1;
	if ((j = r->ahead) != NULL) {
		r->ahead = NULL;
		job_set_stopped(j, 0, loop_now_ms());
		act(r, r->cb->not_started(r->cb->ctx, j));
	}
	if ((j = r->waiting) != NULL) {
		r->waiting = NULL;
		job_set_stopped(j, 0, loop_now_ms());
		heap_push(r, r->waiting_slot);
		act(r, r->cb->not_started(r->cb->ctx, j));
	}
	/* So are the jobs waiting to run again elsewhere. */
	while ((j = TAILQ_FIRST(&r->requeued)) != NULL) {
		TAILQ_REMOVE(&r->requeued, j, requeue_entry);
		job_set_stopped(j, 1, loop_now_ms());
		act(r, r->cb->not_started(r->cb->ctx, j));
	}
}

/* Start no more jobs and end the running ones. */
static void
stop(struct runner *r)
{
	unsigned int	 i;
	long long	 now = loop_now_ms();

	drain(r);
	if (r->stopping)
		return;
	r->stopping = 1;
	for (i = 0; i < r->nslots; i++)
		if (r->procs[i].job != NULL && r->procs[i].pid > 0) {
			r->procs[i].job->interrupted = 1;
			terminate(r, &r->procs[i], now);
		}
}

/* Do what a verdict asks beyond the job it answers for. */
static void
act(struct runner *r, int verdict)
{
	if (verdict & RUNNER_STOP)
		stop(r);
	else if (verdict & RUNNER_DRAIN)
		drain(r);
}

/* When p's job times out, or 0 for never. */
static long long
deadline(const struct runner *r, const struct proc *p)
{
	long long	 median, ms;

	if (r->o.timeout_ms > 0)
		return p->job->start_ms + p->held_ms + r->o.timeout_ms;
	if (r->o.timeout_pct == 0 || (median = hist_median(r)) < 0)
		return 0;
	ms = median * r->o.timeout_pct / 100;
	return p->job->start_ms + p->held_ms + (ms < 1 ? 1 : ms);
}

/* Feed p's job no more: close its stdin's write end. */
static void
close_input(struct runner *r, struct proc *p)
{
	if (p->in == -1)
		return;
	if (p->in_idle)
		TAILQ_REMOVE(p->in_idle == 1 ? &r->idle : &r->retry, p,
		    idle_entry);
	p->in_idle = 0;
	/* Closing the fd takes it out of the epoll set. */
	close(p->in);
	p->in = -1;
}

/* Forget p's process; the slot stays taken. */
static void
proc_clear(struct runner *r, struct proc *p)
{
	close_input(r, p);
	if (p->pid > 0 && !p->reaped)
		pid_del(r, p->pid);
	if (p->on_timed)
		TAILQ_REMOVE(&r->timed, p, timed_entry);
	if (p->on_ending)
		TAILQ_REMOVE(&r->ending, p, ending_entry);
	if (p->dirty)
		TAILQ_REMOVE(&r->dirty, p, dirty_entry);
	p->on_timed = p->on_ending = p->dirty = 0;
	p->pid = -1;
	p->reaped = 0;
	p->term.step = -1;
	p->held_ms = p->held_since = 0;
	p->term.at = 0;
}

/* Give slot i back. */
static void
release_slot(struct runner *r, unsigned int i)
{
	r->procs[i].job = NULL;
	r->nrunning--;
	heap_push(r, i);
}

/*
 * Hand a job that ended (or never started) in slot i to the caller and
 * do what it says: run it again here or elsewhere, or let it go.
 */
static void
conclude(struct runner *r, unsigned int i, struct job *j, int verdict)
{
	act(r, verdict);
	if ((verdict & RUNNER_RETRY) && !r->draining) {
		job_reset(j, 1);
		(void)launch(r, j, i, j->end_ms);
		return;
	}
	release_slot(r, i);
	if (!(verdict & RUNNER_REQUEUE))
		return;
	job_reset(j, 0);
	if (!r->draining) {
		/* It runs before any new job, in the next usable slot. */
		TAILQ_INSERT_TAIL(&r->requeued, j, requeue_entry);
		return;
	}
	/* Its host failed as forkpool stops: it is not run again. */
	job_set_stopped(j, 1, loop_now_ms());
	act(r, r->cb->not_started(r->cb->ctx, j));
}

/* A launch of j in slot i failed for good. */
static void
not_started(struct runner *r, unsigned int i, struct job *j, long long now)
{
	j->end_ms = now;
	conclude(r, i, j, r->cb->not_started(r->cb->ctx, j));
}

/* The job in slot i is finished: hand it to the caller. */
static void
finish(struct runner *r, unsigned int i)
{
	struct proc	*p = &r->procs[i];
	struct job	*j = p->job;

	if (j == NULL)
		return;
	j->state = JOB_DONE;
	j->end_ms = loop_now_ms();
	if (!j->failed && j->started && r->o.timeout_pct > 0)
		hist_add(r, j->end_ms - j->start_ms);
	proc_clear(r, p);
	conclude(r, i, j, r->cb->finished(r->cb->ctx, j));
}

/*
 * Whether p's job is finished: reaped, its pipes at EOF and its ending
 * complete.  A job whose process group is gone, or whose termination
 * sequence has run its course, is not waited for any longer: what keeps
 * its pipes open then is a process that left the group (setsid), which
 * may run for days and is no part of the job.
 */
static int
is_finished(struct runner *r, struct proc *p)
{
	int	 gone, gave_up;

	if (!p->reaped)
		return 0;
	gone = group_gone(p);
	/*
	 * An ended job is finished when its whole group is gone; a sequence
	 * without KILL may leave a process that ignores it, so give up a
	 * while after the last step rather than wait forever.
	 */
	gave_up = !gone && p->term.step >= 0 &&
	    (size_t)p->term.step >= r->o.ntermseq &&
	    loop_now_ms() >= p->term.at + TERM_GIVE_UP_MS;
	if (p->fd[0] != -1 || p->fd[1] != -1) {
		if (!gone && !gave_up) {
			watch_ending(r, p);
			return 0;
		}
		abandon_output(r, p);
	}
	if (p->term.step < 0 || gone)
		return 1;
	if (!gave_up)
		return 0;
	warnx("job %llu: processes of the job survive --termseq; leaving them",
	    p->job->seq);
	return 1;
}

/* Hand every job that may have finished to the caller. */
static void
settle(struct runner *r)
{
	struct proc	*p;

	while ((p = TAILQ_FIRST(&r->dirty)) != NULL) {
		TAILQ_REMOVE(&r->dirty, p, dirty_entry);
		p->dirty = 0;
		if (p->job != NULL && is_finished(r, p))
			finish(r, slot_of(r, p));
	}
}

/* Read the first number of a /proc file. */
static double
proc_number(const char *path, const char *key)
{
	char	 line[256];
	FILE	*f;
	double	 v = -1;
	size_t	 klen = key != NULL ? strlen(key) : 0;

	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (key != NULL && strncmp(line, key, klen) != 0)
			continue;
		v = strtod(line + klen, NULL);
		break;
	}
	(void)fclose(f);
	return v;
}

/* Whether --load and --memfree let a job start now. */
static int
gate_open(struct runner *r, long long now)
{
	double	 v;

	if (r->o.load <= 0 && r->o.memfree == 0)
		return 1;
	if (now < r->gate_at)
		return 0;
	if (r->o.load > 0 && (v = proc_number("/proc/loadavg", NULL)) >= 0 &&
	    v > r->o.load) {
		r->gate_at = now + GATE_RECHECK_MS;
		return 0;
	}
	if (r->o.memfree > 0 && (v = proc_number("/proc/meminfo",
	    "MemAvailable:")) >= 0 && v * 1024 < (double)r->o.memfree) {
		r->gate_at = now + GATE_RECHECK_MS;
		return 0;
	}
	return 1;
}

/* Watch a pipe of slot i's process with epoll; -1 when that fails. */
static int
watch_pipe(struct runner *r, unsigned int i, int s)
{
	struct epoll_event	 ev = { .events = EPOLLIN };

	ev.data.u64 = (uint64_t)i * 3 + (uint64_t)s;
	return epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->procs[i].fd[s], &ev);
}

/*
 * Watch slot i's stdin for room (op EPOLL_CTL_ADD, or _MOD to watch it
 * again), or stop watching it (_MOD with watch unset); -1 on failure.
 */
static int
watch_input(struct runner *r, unsigned int i, int op, int watch)
{
	struct epoll_event	 ev = { .events = watch ? EPOLLOUT : 0 };

	ev.data.u64 = (uint64_t)i * 3 + 2;
	return epoll_ctl(r->epfd, op, r->procs[i].in, &ev);
}

/*
 * Watch the first idle stdin again: the source may have something for
 * it now.  One at a time: a job whose input is then complete wakes the
 * next, so a turn's cost does not grow with the slots.
 */
static void
wake_input(struct runner *r)
{
	struct proc	*p;

	if ((p = TAILQ_FIRST(&r->idle)) == NULL)
		return;
	TAILQ_REMOVE(&r->idle, p, idle_entry);
	p->in_idle = 0;
	if (watch_input(r, slot_of(r, p), EPOLL_CTL_MOD, 1) == -1) {
		warn("epoll_ctl");
		r->broken = 1;
	}
}

/*
 * p's stdin can take more: have the source write it.  Never blocks: the
 * pipe is non-blocking.  A job that closed its stdin (EPIPE), or ended,
 * does not get the rest of its input, as with any pipe.
 */
static void
feed_input(struct runner *r, struct proc *p)
{
	ssize_t	 n;
	int	 verdict = RUNNER_GO;

	n = r->cb->feed(r->cb->ctx, p->job, p->in, &verdict);
	act(r, verdict);
	if (n > 0 || (n == -1 && (errno == EAGAIN || errno == EINTR)))
		return;
	if (n == FEED_IDLE || n == FEED_RETRY) {
		if (watch_input(r, slot_of(r, p), EPOLL_CTL_MOD, 0) == -1) {
			warn("epoll_ctl");
			r->broken = 1;
			return;
		}
		if (n == FEED_IDLE) {
			p->in_idle = 1;
			TAILQ_INSERT_TAIL(&r->idle, p, idle_entry);
			return;
		}
		if (TAILQ_EMPTY(&r->retry))
			r->retry_at = loop_now_ms() + FEED_RETRY_MS;
		p->in_idle = 2;
		TAILQ_INSERT_TAIL(&r->retry, p, idle_entry);
		return;
	}
	if (n == -1 && errno != EPIPE)
		warn("job %llu: writing its input", p->job->seq);
	close_input(r, p);
	if (n == 0)
		wake_input(r);
}

/* The launch failed for want of processes or descriptors. */
static int
launch_later(struct runner *r, struct job *j, unsigned int i,
    enum exec_result res, long long now)
{
	r->nrunning--;
	r->procs[i].job = NULL;
	if (r->waiting != NULL && r->waiting != j) {
		/*
		 * Another job waits to start already (j is a retry): j
		 * goes first among the rest, its slot back to the free ones.
		 */
		heap_push(r, i);
		TAILQ_INSERT_HEAD(&r->requeued, j, requeue_entry);
		return -1;
	}
	if (res == EXEC_NOFDS && r->nrunning > 0 && r->max > r->nrunning) {
		/* Said once: a spill file may take one more later. */
		if (!r->nofds_warned)
			warnx("out of file descriptors: running at most %u "
			    "jobs at once", r->nrunning);
		r->nofds_warned = 1;
		r->max = r->nrunning;
	}
	if (r->waiting != j)
		r->backoff_ms = BACKOFF_MIN_MS;
	else if (r->backoff_ms < BACKOFF_MAX_MS)
		r->backoff_ms *= 2;
	/*
	 * With no job of forkpool's running, nothing it waits for would
	 * free a process or a descriptor: the job fails now.  Said once;
	 * the count of later ones is said at the end.
	 */
	if (r->nrunning == 0) {
		r->cannot_start = res == EXEC_NOFDS ?
		    "out of file descriptors" : "out of processes";
		if (r->ncannot_start++ == 0)
			warnx("job %llu: cannot start %s: %s", j->seq,
			    j->argv[0], r->cannot_start);
		if (r->waiting == j)
			r->waiting = NULL;
		job_set_spawn_failure(j, 126);
		r->procs[i].job = j;
		r->nrunning++;
		not_started(r, i, j, now);
		return 0;
	}
	r->waiting = j;
	r->waiting_slot = i;
	r->waiting_at = now + r->backoff_ms;
	return -1;
}

/* The process started: watch it. */
static void
launched(struct runner *r, unsigned int i, const struct exec_proc *ep,
    int in)
{
	struct proc	*p = &r->procs[i];
	int		 s;

	p->in = in;
	if (in != -1 && watch_input(r, i, EPOLL_CTL_ADD, 1) == -1) {
		warn("epoll_ctl");
		r->broken = 1;
	}
	p->pid = ep->pid;
	pid_add(r, p->pid, i);
	for (s = 0; s < 2; s++) {
		p->fd[s] = ep->fd[s];
		if (p->fd[s] != -1 && watch_pipe(r, i, s) == -1) {
			warn("epoll_ctl");
			r->broken = 1;
		}
	}
	if (r->o.timeout_ms > 0 || r->o.timeout_pct > 0) {
		p->on_timed = 1;
		TAILQ_INSERT_TAIL(&r->timed, p, timed_entry);
	}
}

/*
 * The pipe for a job's stdin, when the job has input to feed: the read
 * end in fd[0] for the job, the write end (non-blocking) in fd[1] for the
 * runner, both close-on-exec; -1 in both when there is none.  A bigger
 * pipe than the default 64 KiB makes fewer turns per block; the system
 * may refuse it (pipe-max-size), which costs only speed.
 */
static enum exec_result
input_pipe(struct runner *r, struct job *j, int *fd)
{
	fd[0] = fd[1] = -1;
	if (j->input == NULL || r->cb->feed == NULL)
		return EXEC_OK;
	/* The source's own descriptor (a --fifo): the job's stdin is not. */
	if (j->input_fd != -1) {
		fd[1] = j->input_fd;
		j->input_fd = -1;
		return EXEC_OK;
	}
	if (pipe2(fd, O_CLOEXEC) == -1) {
		fd[0] = fd[1] = -1;
		if (errno == EMFILE || errno == ENFILE)
			return EXEC_NOFDS;
		return EXEC_AGAIN;
	}
	if (r->in_pipe_size > 0)
		(void)fcntl(fd[1], F_SETPIPE_SZ, r->in_pipe_size);
	(void)fcntl(fd[1], F_SETFL, O_NONBLOCK);
	return EXEC_OK;
}

/*
 * Launch j in slot i (taken: counted in nrunning).  Returns 0 once it
 * ran or failed for good, -1 when it must wait (it is then r->waiting).
 */
static int
launch(struct runner *r, struct job *j, unsigned int i, long long now)
{
	struct exec_proc	 ep = { -1, { -1, -1 } };
	enum exec_result	 res;
	int			 in[2] = { -1, -1 };

	r->procs[i].job = j;
	j->slot = i + 1;
	j->host = r->ex->ops->host(r->ex->ctx, j->slot);
	j->start_ms = now;
	j->start_time = loop_now_epoch();
	r->cb->render(r->cb->ctx, j);
	if (r->epfd == -1 &&
	    (r->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		if (errno != EMFILE && errno != ENFILE && errno != ENOMEM)
			err(EXIT_FORKPOOL_ERROR, "epoll_create1");
		res = errno == ENOMEM ? EXEC_AGAIN : EXEC_NOFDS;
	} else if ((res = input_pipe(r, j, in)) == EXEC_OK) {
		res = r->ex->ops->launch(r->ex->ctx, j, in[0], &ep);
		/* The job's end is the job's now. */
		if (in[0] != -1)
			close(in[0]);
		if (res != EXEC_OK && in[1] != -1)
			close(in[1]);
	}
	if (res == EXEC_AGAIN || res == EXEC_NOFDS)
		return launch_later(r, j, i, res, now);
	if (r->waiting == j)
		r->waiting = NULL;
	if (res == EXEC_FAILED) {
		not_started(r, i, j, now);
		return 0;
	}
	r->last_start = now;
	j->state = JOB_RUNNING;
	j->started = 1;
	launched(r, i, &ep, in[1]);
	act(r, r->cb->started(r->cb->ctx, j));
	return 0;
}

/* Whether a new job may start now; sets *wake when one may later. */
static int
may_start(struct runner *r, long long now, long long *wake)
{
	if (r->no_more)
		return 0;
	if (now < r->last_start + r->o.delay_ms) {
		*wake = r->last_start + r->o.delay_ms;
		return 0;
	}
	if (!gate_open(r, now)) {
		*wake = r->gate_at;
		return 0;
	}
	return 1;
}

/*
 * Take the lowest free slot that the executor can use now, or -1: below
 * max, not counting the slots passed over as unusable (a dropped host's
 * must not hold the jobs back when max was lowered).  When free slots
 * were passed over, *wake is set to look again later.
 */
static long
take_slot(struct runner *r, long long now, long long *wake)
{
	unsigned int	 n = 0, i;
	long		 found = -1;

	while (found < 0 && r->nfree > 0 && r->freeheap[0] < r->max + n) {
		i = heap_pop(r);
		if (r->ex->ops->usable(r->ex->ctx, i + 1))
			found = i;
		else
			r->skipped[n++] = i;
	}
	if (found < 0 && n > 0)
		*wake = loop_earlier(*wake, now + GATE_RECHECK_MS);
	while (n > 0)
		heap_push(r, r->skipped[--n]);
	return found;
}

/* Ask the caller for the next job: 1 with *jobp set, else 0. */
static int	next_job(struct runner *, struct job **, int *);

/*
 * Within --delay, take the next job already: when there is none, the run
 * ends now rather than once the delay has passed.
 */
static void
take_ahead(struct runner *r, long long now, int *wait_fd)
{
	if (r->ahead == NULL && !r->no_more && !r->draining &&
	    now < r->last_start + r->o.delay_ms &&
	    !next_job(r, &r->ahead, wait_fd))
		r->ahead = NULL;
}

/* Ask the caller for the next job: 1 with *jobp set, else 0. */
static int
next_job(struct runner *r, struct job **jobp, int *wait_fd)
{
	enum runner_next	 next;
	int			 verdict = RUNNER_GO, fd = -1;

	next = r->cb->next(r->cb->ctx, jobp, &fd, &verdict);
	act(r, verdict);
	switch (next) {
	case RUNNER_JOB:
		return 1;
	case RUNNER_WAIT_FD:
		*wait_fd = fd;
		break;
	case RUNNER_WAIT:
		break;
	case RUNNER_DONE:
		r->no_more = 1;
		break;
	}
	return 0;
}

/*
 * Fill the free slots.  Sets *wait_fd when the input must be polled and
 * *wake to the time a timer is due (0: none).  Returns 1 when it stopped
 * with slots to fill at once, after STARTS_PER_TURN starts.
 */
static int
start_jobs(struct runner *r, int *wait_fd, long long *wake)
{
	struct job	*j;
	long		 slot;
	long long	 now = loop_now_ms();
	int		 starts = 0;

	*wait_fd = -1;
	while (!r->draining && r->nrunning < r->max) {
		if (starts++ == STARTS_PER_TURN) {
			/* More after a look at what the jobs did meanwhile. */
			*wake = now;
			return 1;
		}
		if (r->waiting != NULL) {
			if (now < r->waiting_at) {
				*wake = r->waiting_at;
				return 0;
			}
			r->nrunning++;
			if (launch(r, r->waiting, r->waiting_slot, now) == -1) {
				*wake = r->waiting_at;
				return 0;
			}
			continue;
		}
		/* A requeued job goes first, past --delay and the gates. */
		if (TAILQ_EMPTY(&r->requeued) && !may_start(r, now, wake)) {
			take_ahead(r, now, wait_fd);
			return 0;
		}
		if ((slot = take_slot(r, now, wake)) < 0)
			return 0;
		if ((j = TAILQ_FIRST(&r->requeued)) != NULL)
			TAILQ_REMOVE(&r->requeued, j, requeue_entry);
		else if ((j = r->ahead) != NULL)
			r->ahead = NULL;
		else if (!next_job(r, &j, wait_fd)) {
			heap_push(r, (unsigned int)slot);
			return 0;
		}
		r->nrunning++;
		if (launch(r, j, (unsigned int)slot, now) == -1) {
			*wake = r->waiting_at;
			return 0;
		}
	}
	return 0;
}

/*
 * No job is wanted now (no free slot, or none may start yet): let the
 * caller build some ahead from what input is ready.  Sets *wait_fd to the
 * input to poll for more, and *wake to now when more can be built at
 * once.
 */
static void
prefetch(struct runner *r, int *wait_fd, long long *wake)
{
	if (r->cb->prefetch == NULL || r->no_more || r->draining ||
	    *wait_fd != -1)
		return;
	if (r->cb->prefetch(r->cb->ctx, wait_fd)) {
		*wake = loop_earlier(*wake, loop_now_ms());
		/* Something was built: a job waiting for input may take it. */
		wake_input(r);
	}
}

/*
 * With --tty, hand the terminal's foreground from process group from to
 * process group to, if from has it, as a shell does for its jobs.
 * SIGTTOU is blocked meanwhile: tcsetpgrp() from a background group
 * would otherwise stop forkpool.
 */
static void
pass_foreground(const struct runner *r, pid_t from, pid_t to)
{
	sigset_t	 ttou, old;
	int		 fd = r->ex->ops->tty(r->ex->ctx);

	if (fd == -1 || from <= 0 || to <= 0 || tcgetpgrp(fd) != from)
		return;
	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	sigprocmask(SIG_BLOCK, &ttou, &old);
	(void)tcsetpgrp(fd, to);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/*
 * p's job stopped on signal sig.  Without --tty, a job that touched the
 * terminal from its background group would wait forever: say so and end
 * it.  With --tty, the job has the terminal, and a stop there (Ctrl-Z)
 * is the user's: forkpool stops too, as a shell's job would.  SIGSTOP is
 * forkpool's own Ctrl-Z, or someone's kill(1): not the terminal's.
 */
static void
job_stopped(struct runner *r, struct proc *p, int sig)
{
	if (sig == SIGSTOP)
		return;
	if (r->ex->ops->tty(r->ex->ctx) != -1) {
		r->suspend_due = 1;
		return;
	}
	if (sig != SIGTTIN && sig != SIGTTOU)
		return;
	if (!p->job->tty_stopped)
		warnx("job %llu: stopped on terminal %s; ending it: --tty "
		    "gives jobs the terminal", p->job->seq, sig == SIGTTIN ?
		    "input (SIGTTIN)" : "output or settings (SIGTTOU)");
	p->job->tty_stopped = 1;
	p->job->failed = 1;
	terminate(r, p, loop_now_ms());
}

/* Record how p's process ended, with what it used. */
static void
reaped(struct runner *r, struct proc *p, int status, const struct rusage *ru)
{
	struct job	*j = p->job;

	/* The pid may be another process's from now on. */
	pid_del(r, p->pid);
	p->reaped = 1;
	job_set_status(j, status);
	j->utime_us = (long long)ru->ru_utime.tv_sec * 1000000 +
	    ru->ru_utime.tv_usec;
	j->stime_us = (long long)ru->ru_stime.tv_sec * 1000000 +
	    ru->ru_stime.tv_usec;
	j->maxrss_kb = ru->ru_maxrss;
	if (r->ex->ops->ending(r->ex->ctx, j, status) == EXEC_REQUEUE)
		j->lost = j->failed = 1;
	if (j->timed_out || j->tty_stopped)
		j->failed = 1;
	/* The next --tty job gets it from forkpool's group. */
	pass_foreground(r, p->pid, getpgrp());
	mark_dirty(r, p);
}

/* Reap every child that has exited; look at every job that stopped. */
static void
reap(struct runner *r)
{
	struct rusage	 ru;
	struct proc	*p;
	pid_t		 pid;
	long		 i;
	int		 status;

	while ((pid = wait4(-1, &status, WNOHANG | WUNTRACED, &ru)) > 0) {
		if ((i = pid_find(r, pid)) < 0) {
			/*
			 * An orphan of a job's, or the executor's own (an
			 * ssh master), once it ended: a stop is not an end.
			 */
			if (!WIFSTOPPED(status))
				(void)r->ex->ops->orphan(r->ex->ctx, pid,
				    status);
			continue;
		}
		p = &r->procs[i];
		if (WIFSTOPPED(status))
			job_stopped(r, p, WSTOPSIG(status));
		else
			reaped(r, p, status, &ru);
	}
}

/* Call fn for the process of every running job. */
static void
each_running(struct runner *r, void (*fn)(struct runner *, struct proc *))
{
	unsigned int	 i;

	for (i = 0; i < r->nslots; i++)
		if (r->procs[i].job != NULL && r->procs[i].pid > 0)
			fn(r, &r->procs[i]);
}

/* Continue p's job, and give a --tty job the foreground. */
static void
continue_one(struct runner *r, struct proc *p)
{
	if (!p->reaped)
		pass_foreground(r, getpgrp(), p->pid);
	send_signal(r, p, SIGCONT);
}

/* Stop p's job, and take the foreground back from it. */
static void
stop_one(struct runner *r, struct proc *p)
{
	send_signal(r, p, SIGSTOP);
	pass_foreground(r, p->pid, getpgrp());
}

/*
 * Ctrl-Z (SIGTSTP): stop every job's process group, then forkpool; once
 * continued, continue the jobs, with their timers moved by the time
 * stopped, which counts toward no --timeout.
 *
 * The jobs get SIGSTOP rather than SIGTSTP: a job cannot catch or ignore
 * it and run on unseen, and forkpool can tell the stops it caused from
 * those of the terminal (see job_stopped()).  forkpool stops itself with
 * SIGSTOP too, since the kernel discards SIGTSTP, SIGTTIN and SIGTTOU
 * sent to a process in an orphaned process group, which forkpool's may
 * be (no member's parent in the session outside it); SIGSTOP stops it
 * whatever its group.
 */
static void
suspend(struct runner *r)
{
	struct proc	*p;
	unsigned int	 i;
	long long	 stopped_at, stopped;

	each_running(r, stop_one);
	stopped_at = loop_now_ms();
	(void)kill(getpid(), SIGSTOP);
	stopped = loop_now_ms() - stopped_at;
	for (i = 0; i < r->nslots; i++) {
		p = &r->procs[i];
		if (p->job == NULL || p->pid <= 0)
			continue;
		p->job->start_ms += stopped;
		if (p->term.step >= 0)
			p->term.at += stopped;
	}
	each_running(r, continue_one);
}

/* SIGUSR1: list the running jobs on stderr. */
static void
list_jobs(const struct runner *r)
{
	struct buf	 b = { 0 };
	const struct proc *p;
	unsigned int	 i;
	long long	 now = loop_now_ms();
	char		 line[96];

	for (i = 0; i < r->nslots; i++) {
		p = &r->procs[i];
		if (p->job == NULL || p->pid <= 0)
			continue;
		(void)snprintf(line, sizeof(line), "forkpool: running: "
		    "job %llu, slot %u, pid %ld, %.1f s: ", p->job->seq, i + 1,
		    (long)p->pid, (now - p->job->start_ms) / 1000.0);
		buf_adds(&b, line);
		job_display(p->job, &b);
		buf_addc(&b, '\n');
	}
	if (b.len == 0)
		buf_adds(&b, "forkpool: running: no job\n");
	/* Through stdio's stderr, which a progress display may watch. */
	(void)fwrite(b.data, 1, b.len, stderr);
	(void)fflush(stderr);
	buf_free(&b);
}

/* The runner's answers to signals, for loop_read_signals(). */
static void
sig_list(void *r)
{
	list_jobs(r);
}

static void
sig_suspend(void *r)
{
	suspend(r);
}

static void
sig_resume(void *r)
{
	each_running(r, continue_one);
}

static void
sig_drain(void *r)
{
	drain(r);
}

static void
sig_stop(void *r)
{
	stop(r);
}

/* Drain the signalfd (loop_read_signals()), then reap. */
static void
read_signals(struct runner *r)
{
	static const struct loop_signals ops = { sig_list, sig_suspend,
	    sig_resume, sig_drain, sig_stop };

	loop_read_signals(r->sigfd, &r->signal, &ops, r);
	reap(r);
	if (r->suspend_due) {
		r->suspend_due = 0;
		suspend(r);
	}
}

/*
 * Read what p's job wrote on one stream.  Returns the bytes taken, 0 once
 * the stream is closed, or -1 when nothing is there yet.
 */
static ssize_t
read_pipe(struct runner *r, struct proc *p, int stream)
{
	ssize_t	 n = TAKE_READ;
	int	 verdict = RUNNER_GO;

	if (r->cb->take != NULL)
		n = r->cb->take(r->cb->ctx, p->job, stream, p->fd[stream],
		    &verdict);
	act(r, verdict);
	if (n > 0)
		return n;
	if (n == TAKE_READ &&
	    (n = read(p->fd[stream], r->rbuf, READ_CHUNK)) > 0) {
		act(r, r->cb->output(r->cb->ctx, p->job, stream, r->rbuf,
		    (size_t)n));
		return n;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return -1;
	/* Closing the fd takes it out of the epoll set. */
	close(p->fd[stream]);
	p->fd[stream] = -1;
	mark_dirty(r, p);
	return 0;
}

/*
 * Stop waiting for the end of a job's output: take what its pipes hold
 * now (at most a bound, as a process outside the job may write on), then
 * close them.  Whoever else keeps them open gets EPIPE.
 */
static void
abandon_output(struct runner *r, struct proc *p)
{
	size_t	 taken;
	ssize_t	 n;
	int	 s;

	for (s = 0; s < 2; s++) {
		for (taken = 0; p->fd[s] != -1 && taken < ABANDON_MAX;
		    taken += (size_t)n)
			if ((n = read_pipe(r, p, s)) <= 0)
				break;
		if (p->fd[s] != -1) {
			close(p->fd[s]);
			p->fd[s] = -1;
		}
	}
}

/* Time out the jobs whose deadline passed; the next deadline, or 0. */
static long long
check_deadlines(struct runner *r, long long now)
{
	struct proc	*p, *next;
	long long	 due;

	/*
	 * In deadline order (see held_sort()).  A job held up by stalled
	 * output is not timed until the output moves again.
	 */
	for (p = TAILQ_FIRST(&r->timed); p != NULL; p = next) {
		next = TAILQ_NEXT(p, timed_entry);
		if ((due = deadline(r, p)) == 0)
			return 0;
		if (p->held_since != 0)
			continue;
		if (now < due)
			return due;
		p->job->timed_out = 1;
		p->job->failed = 1;
		terminate(r, p, now);
	}
	return 0;
}

/*
 * Whether p's job is held up by forkpool: the pipe of its stdout or
 * stderr is full, so that a write to it would wait, or its stdin is
 * empty while its block waits to be fed.
 */
static int
held_up(const struct proc *p)
{
	int	 s, n;

	for (s = 0; s < 2; s++)
		if (p->fd[s] != -1 && loop_pipe_full(p->fd[s]))
			return 1;
	return p->in != -1 && !p->in_idle &&
	    ioctl(p->in, FIONREAD, &n) == 0 && n == 0;
}

/* qsort(3): timed jobs by deadline. */
static int
by_deadline(const void *a, const void *b)
{
	const struct proc	*p = *(struct proc *const *)a;
	const struct proc	*q = *(struct proc *const *)b;
	long long		 dp, dq;

	dp = deadline(p->runner, p);
	dq = deadline(q->runner, q);
	return (dp > dq) - (dp < dq);
}

/* Put the timed jobs back in deadline order, after some were held up. */
static void
held_sort(struct runner *r)
{
	struct proc	**v, *p;
	size_t		 n = 0, i;

	TAILQ_FOREACH(p, &r->timed, timed_entry)
		n++;
	v = xreallocarray(NULL, n, sizeof(*v));
	n = 0;
	while ((p = TAILQ_FIRST(&r->timed)) != NULL) {
		TAILQ_REMOVE(&r->timed, p, timed_entry);
		v[n++] = p;
	}
	qsort(v, n, sizeof(*v), by_deadline);
	for (i = 0; i < n; i++)
		TAILQ_INSERT_TAIL(&r->timed, v[i], timed_entry);
	free(v);
}

/*
 * While forkpool's stdout or stderr is stalled (npend streams wait), its
 * jobs' pipes are neither read nor fed: a job held up by that is not
 * timed.  Jobs are looked at every HELD_TICK_MS; once the output moves,
 * the time each was held is added to its deadline.  Returns when to
 * look again, or 0.
 */
static long long
check_held(struct runner *r, int npend, long long now)
{
	struct proc	*p;
	int		 moved = 0;

	if (npend > 0 && !TAILQ_EMPTY(&r->timed)) {
		TAILQ_FOREACH(p, &r->timed, timed_entry)
			if (p->held_since == 0 && held_up(p))
				p->held_since = now;
		r->out_stalled = 1;
		return now + HELD_TICK_MS;
	}
	if (!r->out_stalled)
		return 0;
	r->out_stalled = 0;
	TAILQ_FOREACH(p, &r->timed, timed_entry)
		if (p->held_since != 0) {
			p->held_ms += now - p->held_since;
			p->held_since = 0;
			moved = 1;
		}
	if (moved)
		held_sort(r);
	return 0;
}

/*
 * Look at the jobs being ended or lingering after their exit: take the
 * due termination steps, and see whether each is finished.  Returns the
 * next time one must be looked at.
 */
static long long
check_ending(struct runner *r, long long now, long long wake)
{
	struct proc	*p, *next;

	for (p = TAILQ_FIRST(&r->ending); p != NULL; p = next) {
		next = TAILQ_NEXT(p, ending_entry);
		if (p->term.step >= 0) {
			terminate_step(r, p, now);
			if ((size_t)p->term.step < r->o.ntermseq)
				wake = loop_earlier(wake, p->term.at);
			/*
			 * Grandchildren dying leave no trace forkpool can
			 * wait on: look for the group's end every 10 ms.
			 */
			if (p->reaped)
				wake = loop_earlier(wake, now + 10);
			/* Unreaped, it ends with a SIGCHLD: nothing to time. */
		} else if (p->reaped)
			wake = loop_earlier(wake, now + GROUP_RECHECK_MS);
		mark_dirty(r, p);
	}
	return wake;
}

/*
 * Watch again the stdins whose feed asked for a retry, once it is due;
 * returns when it is, or 0.
 */
static long long
check_retry(struct runner *r, long long now)
{
	struct proc	*p;

	if (TAILQ_EMPTY(&r->retry))
		return 0;
	if (now < r->retry_at)
		return r->retry_at;
	while ((p = TAILQ_FIRST(&r->retry)) != NULL) {
		TAILQ_REMOVE(&r->retry, p, idle_entry);
		p->in_idle = 0;
		if (watch_input(r, slot_of(r, p), EPOLL_CTL_MOD, 1) == -1) {
			warn("epoll_ctl");
			r->broken = 1;
		}
	}
	return 0;
}

/* Check the timers of running jobs; returns the next time one is due. */
static long long
check_timers(struct runner *r, long long wake)
{
	long long	 now = loop_now_ms();

	wake = loop_earlier(wake, check_retry(r, now));
	wake = loop_earlier(wake, check_deadlines(r, now));
	return check_ending(r, now, wake);
}

/* Read the pipes epoll says are ready (all of them after an error). */
static void
read_ready(struct runner *r)
{
	struct epoll_event	 ev[MAX_EVENTS];
	struct proc		*p;
	unsigned int		 i;
	int			 n, k, s;

	if (r->broken) {
		for (i = 0; i < r->nslots; i++)
			for (s = 0; r->procs[i].job != NULL && s < 2; s++)
				if (r->procs[i].fd[s] != -1)
					(void)read_pipe(r, &r->procs[i], s);
		return;
	}
	if ((n = epoll_wait(r->epfd, ev, MAX_EVENTS, 0)) == -1) {
		if (errno != EINTR) {
			warn("epoll_wait");
			r->broken = 1;
		}
		return;
	}
	for (k = 0; k < n; k++) {
		i = (unsigned int)(ev[k].data.u64 / 3);
		s = (int)(ev[k].data.u64 % 3);
		p = &r->procs[i];
		if (p->job == NULL)
			continue;
		if (s == 2) {
			if (p->in != -1 && !p->in_idle)
				feed_input(r, p);
		} else if (p->fd[s] != -1)
			(void)read_pipe(r, p, s);
	}
}

/* What the loop polls this turn, beyond job pipes. */
struct turn {
	struct pollfd	 pfd[NCTL];
	nfds_t		 n;
	int		 jobs;		/* index of the epoll fd, or -1 */
	int		 out;		/* first output fd, or -1 */
	int		 nout;
};

/* Set up this turn's poll: signals, job pipes, output, input. */
static void
plan_turn(struct runner *r, struct turn *t, int npend, const int *pend,
    int wait_fd)
{
	int	 s;

	t->n = 0;
	t->jobs = t->out = -1;
	t->nout = npend;
	t->pfd[t->n].fd = r->sigfd;
	t->pfd[t->n++].events = POLLIN;
	/*
	 * While output waits for a stalled reader, the jobs' pipes are not
	 * read: the jobs wait in their writes, as they would writing to
	 * the stream themselves, and nothing piles up.
	 */
	if (npend == 0 && r->nrunning > 0 && r->epfd != -1) {
		t->jobs = (int)t->n;
		t->pfd[t->n].fd = r->epfd;
		t->pfd[t->n++].events = POLLIN;
	}
	for (s = 0; s < npend; s++) {
		if (s == 0)
			t->out = (int)t->n;
		t->pfd[t->n].fd = pend[s];
		t->pfd[t->n++].events = POLLOUT;
	}
	if (wait_fd != -1) {
		t->pfd[t->n].fd = wait_fd;
		t->pfd[t->n++].events = POLLIN;
	}
}

/* Wait for this turn's events until wake (0: no timer). */
static void
wait_turn(struct runner *r, struct turn *t, long long wake)
{
	struct timespec	 ts;
	long long	 left;
	int		 timeout = -1;
	nfds_t		 k;

	if (wake != 0) {
		left = wake - loop_now_ms();
		timeout = left < 0 ? 0 : left > 60000 ? 60000 : (int)left;
	}
	if (r->broken) {
		/* Look at everything every tick until every job is gone. */
		if (timeout < 0 || timeout > BROKEN_TICK_MS)
			timeout = BROKEN_TICK_MS;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)timeout * 1000000;
		(void)nanosleep(&ts, NULL);
		for (k = 0; k < t->n; k++)
			t->pfd[k].revents = t->pfd[k].events;
		return;
	}
	if (poll(t->pfd, t->n, timeout) == -1) {
		for (k = 0; k < t->n; k++)
			t->pfd[k].revents = 0;
		if (errno == EINTR)
			return;
		warn("poll");
		r->broken = 1;
	}
}

/* Run until no job is left; see runner.h. */
int
runner_run(struct runner *r)
{
	struct turn	 t;
	int		 wait_fd, npend, pend[2];
	long long	 wake;

	for (;;) {
		/* After an error of the loop: end every job, then return. */
		if (r->broken)
			stop(r);
		wake = 0;
		if (!r->broken) {
			/* Reading ahead never comes before a start. */
			if (!start_jobs(r, &wait_fd, &wake))
				prefetch(r, &wait_fd, &wake);
		} else
			wait_fd = -1;
		npend = r->cb->pending != NULL ?
		    r->cb->pending(r->cb->ctx, pend) : 0;
		/* Output that waits is written, unless a signal ends the run. */
		if (r->nrunning == 0 && r->waiting == NULL &&
		    r->ahead == NULL && TAILQ_EMPTY(&r->requeued) &&
		    (r->no_more || r->draining) && (npend == 0 ||
		    (r->stopping && (r->signal != 0 || r->broken))))
			break;
		plan_turn(r, &t, npend, pend, wait_fd);
		wake = loop_earlier(wake, check_held(r, npend, loop_now_ms()));
		wake = check_timers(r, wake);
		if (t.n == 1 && r->nrunning == 0 && wait_fd == -1 &&
		    wake == 0 && !r->broken) {
			warnx("internal error: nothing to wait for");
			r->broken = 1;
			continue;
		}
		if (r->cb->tick != NULL)
			wake = loop_earlier(wake, r->cb->tick(r->cb->ctx, loop_now_ms()));
		wait_turn(r, &t, wake);
		if (t.pfd[0].revents != 0)
			read_signals(r);
		if ((t.jobs >= 0 && t.pfd[t.jobs].revents != 0) || r->broken)
			read_ready(r);
		if (t.out >= 0 && (t.pfd[t.out].revents != 0 ||
		    (t.nout > 1 && t.pfd[t.out + 1].revents != 0)))
			act(r, r->cb->writable(r->cb->ctx));
		if (r->broken)
			reap(r);
		(void)check_timers(r, 0);
		settle(r);
	}
	if (r->ncannot_start > 1)
		warnx("%llu more job%s could not start: %s",
		    r->ncannot_start - 1, r->ncannot_start == 2 ? "" : "s",
		    r->cannot_start);
	return r->broken ? -1 : r->signal;
}
