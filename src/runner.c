#include <sys/prctl.h>
#include <sys/signalfd.h>
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
#include <time.h>
#include <unistd.h>

#include "job.h"
#include "opts.h"
#include "runner.h"
#include "spawn.h"
#include "util.h"

/* One read per ready pipe per turn keeps a fast writer from starving. */
#define READ_CHUNK	(128 * 1024)

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

/* What a poll slot that is no job's pipe stands for, in pstream. */
#define STREAM_OUT	2	/* stdout or stderr, to write */
#define STREAM_INPUT	3	/* the input, to read */

/* The most taken from a pipe that is no longer waited for. */
#define ABANDON_MAX	(1024 * 1024)

/*
 * Runtimes of successful jobs, for --timeout N%, in buckets 2% apart
 * from 1 ms: memory stays fixed however many jobs run.
 */
#define HIST_BUCKETS	1100
#define HIST_STEP	1.02

struct runner {
	struct runner_opts		 o;
	const struct runner_callbacks	*cb;
	struct spawner			*spawner;
	struct job			**slots;	/* running jobs by slot */
	unsigned int			 max;		/* slots in use now */
	int				 nofds_warned;	/* EMFILE lowered max */
	unsigned int			 nrunning;
	int				 sigfd;
	sigset_t			 oldmask;
	int				 no_more;	/* next() said DONE */
	int				 draining;	/* start no new job */
	int				 stopping;	/* and end the running */
	int				 signal;	/* that ended the run */
	int				 suspend_due;	/* --tty job stopped */
	struct job			*waiting;	/* spawn to try again */
	unsigned int			 waiting_slot;
	long long			 waiting_at;
	const char			*cannot_start;	/* why a job failed to */
	unsigned long long		 ncannot_start;	/* start with none running */
	long long			 backoff_ms;
	long long			 last_start;
	long long			 gate_at;	/* gate closed until */
	unsigned long long		 hist[HIST_BUCKETS];
	unsigned long long		 nhist;
	struct pollfd			*pfds;
	struct job			**pjobs;	/* job of each pfd */
	int				*pstream;
	char				*rbuf;
};

static int	launch(struct runner *, struct job *, unsigned int, long long);
static void	abandon_output(struct runner *, struct job *);

/* Monotonic milliseconds. */
static long long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wall-clock seconds since the epoch, for the joblog. */
static double
now_epoch(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

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

/*
 * Whether sig was ignored when forkpool started.  Such a signal stays
 * ignored, as nohup(1) and a shell's background jobs expect (xargs
 * leaves it alone too): it is never taken from the signalfd, since a
 * blocked signal is queued even when ignored.
 */
static int
inherited_ignore(int sig)
{
	struct sigaction	 sa;

	return sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
}

/* A runner with opts.jobs slots. */
struct runner *
runner_new(const struct runner_opts *o, const struct runner_callbacks *cb,
    struct spawner *sp)
{
	static const int handled[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1,
	    SIGTSTP, SIGCONT };
	struct runner	*r;
	sigset_t	 set;
	size_t		 n = (size_t)o->jobs * 2 + 4, i;

	r = xcalloc(1, sizeof(*r));
	r->o = *o;
	r->max = o->jobs;
	r->cb = cb;
	r->spawner = sp;
	r->slots = xcalloc(o->jobs, sizeof(*r->slots));
	if (o->timeout_pct > 0)
		hist_init();
	r->pfds = xcalloc(n, sizeof(*r->pfds));
	r->pjobs = xcalloc(n, sizeof(*r->pjobs));
	r->pstream = xcalloc(n, sizeof(*r->pstream));
	r->rbuf = xmalloc(READ_CHUNK);
	r->last_start = -o->delay_ms;
	/*
	 * An ignored SIGCHLD would make the kernel reap jobs before their
	 * status could be read.
	 */
	(void)signal(SIGCHLD, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		if (!inherited_ignore(handled[i]))
			sigaddset(&set, handled[i]);
	sigprocmask(SIG_BLOCK, &set, &r->oldmask);
	if ((r->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		err(EXIT_FORKPOOL_ERROR, "signalfd");
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
	sigprocmask(SIG_SETMASK, &r->oldmask, NULL);
	free(r->slots);
	free(r->pfds);
	free(r->pjobs);
	free(r->pstream);
	free(r->rbuf);
	free(r);
}

/* Whether the process group of j has no process left. */
static int
group_gone(const struct job *j)
{
	return j->pid <= 0 || (kill(-j->pid, 0) == -1 && errno == ESRCH);
}

/*
 * Take the due steps of j's termination sequence: each sends a signal to
 * the job's whole process group, then waits; the sequence stops early
 * once the group is gone.  A stopped process acts on no signal but KILL
 * until it is continued, so each signal is followed by SIGCONT (a job
 * may be stopped for the terminal, by forkpool's Ctrl-Z, or by itself).
 */
static void
terminate_step(struct runner *r, struct job *j, long long now)
{
	int	 sig;

	while (j->term_step >= 0 && (size_t)j->term_step < r->o.ntermseq &&
	    now >= j->term_at) {
		if (group_gone(j)) {
			j->term_step = (int)r->o.ntermseq;
			break;
		}
		sig = r->o.termseq[j->term_step].sig;
		kill(-j->pid, sig);
		if (sig != SIGSTOP && sig != SIGTSTP && sig != SIGTTIN &&
		    sig != SIGTTOU)
			kill(-j->pid, SIGCONT);
		j->term_at = now + r->o.termseq[j->term_step].ms;
		j->term_step++;
	}
}

/* Begin ending j, unless that is under way. */
static void
terminate(struct runner *r, struct job *j, long long now)
{
	if (j->term_step >= 0 || j->pid <= 0)
		return;
	j->term_step = 0;
	j->term_at = now;
	terminate_step(r, j, now);
}

/* Whether the runner starts no more jobs. */
int
runner_draining(const struct runner *r)
{
	return r->draining;
}

/* Start no more jobs; let the running ones finish. */
void
runner_drain(struct runner *r)
{
	r->draining = 1;
	if (r->waiting != NULL) {
		/* It will not start now: say so, and count it as failed. */
		warnx("job %llu: not started: forkpool is stopping",
		    r->waiting->seq);
		job_set_spawn_failure(r->waiting, 126);
		r->slots[r->waiting_slot] = r->waiting;
		r->nrunning++;
		r->waiting = NULL;
	}
}

/* Start no more jobs and end the running ones. */
void
runner_stop(struct runner *r)
{
	unsigned int	 i;
	long long	 now = now_ms();

	runner_drain(r);
	r->stopping = 1;
	for (i = 0; i < r->o.jobs; i++)
		if (r->slots[i] != NULL && r->slots[i]->state == JOB_RUNNING) {
			r->slots[i]->interrupted = 1;
			terminate(r, r->slots[i], now);
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

/* When j times out, or 0 for never. */
static long long
deadline(const struct runner *r, const struct job *j)
{
	long long	 median, ms;

	if (r->o.timeout_ms > 0)
		return j->start_ms + r->o.timeout_ms;
	if (r->o.timeout_pct == 0 || (median = hist_median(r)) < 0)
		return 0;
	ms = median * r->o.timeout_pct / 100;
	return j->start_ms + (ms < 1 ? 1 : ms);
}

/* Hand a finished job in slot i to the caller; maybe run it again. */
static void
finish(struct runner *r, unsigned int i)
{
	struct job	*j = r->slots[i];

	j->state = JOB_DONE;
	j->end_ms = now_ms();
	if (!j->failed && j->pid > 0 && r->o.timeout_pct > 0)
		hist_add(r, j->end_ms - j->start_ms);
	r->slots[i] = NULL;
	r->nrunning--;
	/* A retry runs before the next jobs, in the slot it had. */
	if (r->cb->finished(r->cb->ctx, j) == RUNNER_RETRY && !r->draining) {
		job_reset(j);
		(void)launch(r, j, i, j->end_ms);
	}
}

/*
 * Whether the job is finished: reaped, its pipes at EOF and its ending
 * complete.  A job whose process group is gone, or whose termination
 * sequence has run its course, is not waited for any longer: what keeps
 * its pipes open then is a process that left the group (setsid), which
 * may run for days and is no part of the job.
 */
static int
is_finished(struct runner *r, struct job *j)
{
	int	 gone, gave_up;

	if (j->state == JOB_DONE)
		return 1;
	if (!j->reaped)
		return 0;
	gone = group_gone(j);
	/*
	 * An ended job is finished when its whole group is gone; a sequence
	 * without KILL may leave a process that ignores it, so give up a
	 * while after the last step rather than wait forever.
	 */
	gave_up = !gone && j->term_step >= 0 &&
	    (size_t)j->term_step >= r->o.ntermseq &&
	    now_ms() >= j->term_at + TERM_GIVE_UP_MS;
	if (j->fd[0] != -1 || j->fd[1] != -1) {
		if (!gone && !gave_up)
			return 0;
		abandon_output(r, j);
	}
	if (j->term_step < 0 || gone)
		return 1;
	if (!gave_up)
		return 0;
	warnx("job %llu: processes of the job survive --termseq; leaving them",
	    j->seq);
	return 1;
}

/* Hand every finished job to the caller; retries may finish at once. */
static void
settle(struct runner *r)
{
	unsigned int	 i;
	int		 again;

	do {
		again = 0;
		for (i = 0; i < r->o.jobs; i++)
			if (r->slots[i] != NULL &&
			    is_finished(r, r->slots[i])) {
				finish(r, i);
				again = 1;
			}
	} while (again);
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

/*
 * Spawn j in slot i.  Returns 0 once it ran or failed for good, -1 when
 * it must wait (it is then r->waiting).
 */
static int
launch(struct runner *r, struct job *j, unsigned int i, long long now)
{
	enum spawn_result	 res;

	r->slots[i] = j;
	r->nrunning++;
	j->slot = i + 1;
	j->start_ms = now;
	j->start_time = now_epoch();
	res = spawn_job(r->spawner, j);
	if (res == SPAWN_AGAIN || res == SPAWN_NOFDS) {
		r->slots[i] = NULL;
		r->nrunning--;
		if (res == SPAWN_NOFDS && r->nrunning > 0 &&
		    r->max > r->nrunning) {
			/* Said once: a spill file may take one more later. */
			if (!r->nofds_warned)
				warnx("out of file descriptors: running at "
				    "most %u jobs at once", r->nrunning);
			r->nofds_warned = 1;
			r->max = r->nrunning;
		}
		if (r->waiting != j)
			r->backoff_ms = BACKOFF_MIN_MS;
		else if (r->backoff_ms < BACKOFF_MAX_MS)
			r->backoff_ms *= 2;
		/*
		 * With no job of forkpool's running, nothing it waits for
		 * would free a process or a descriptor: the job fails now.
		 * Said once; the count of later ones is said at the end.
		 */
		if (r->nrunning == 0) {
			r->cannot_start = res == SPAWN_NOFDS ?
			    "out of file descriptors" : "out of processes";
			if (r->ncannot_start++ == 0)
				warnx("job %llu: cannot start %s: %s", j->seq,
				    j->argv[0], r->cannot_start);
			if (r->waiting == j)
				r->waiting = NULL;
			job_set_spawn_failure(j, 126);
			r->slots[i] = j;
			r->nrunning++;
			r->cb->started(r->cb->ctx, j);
			return 0;
		}
		r->waiting = j;
		r->waiting_slot = i;
		r->waiting_at = now + r->backoff_ms;
		return -1;
	}
	r->last_start = now;
	if (r->waiting == j)
		r->waiting = NULL;
	r->cb->started(r->cb->ctx, j);
	return 0;
}

/* The lowest free slot below max, or max when none. */
static unsigned int
free_slot(const struct runner *r)
{
	unsigned int	 i;

	for (i = 0; i < r->max; i++)
		if (r->slots[i] == NULL &&
		    (r->waiting == NULL || r->waiting_slot != i))
			return i;
	return r->max;
}

/*
 * Fill the free slots.  Sets *wait_fd when the input must be polled and
 * *wake to the time a timer is due (0: none).
 */
static void
start_jobs(struct runner *r, int *wait_fd, long long *wake)
{
	struct job	*j;
	unsigned int	 i;
	long long	 now = now_ms();
	int		 fd = -1;

	*wait_fd = -1;
	while (!r->draining && r->nrunning < r->max) {
		if (r->waiting != NULL) {
			if (now < r->waiting_at) {
				*wake = r->waiting_at;
				return;
			}
			if (launch(r, r->waiting, r->waiting_slot, now) == -1) {
				*wake = r->waiting_at;
				return;
			}
			settle(r);
			continue;
		}
		if (r->no_more)
			return;
		if (now < r->last_start + r->o.delay_ms) {
			*wake = r->last_start + r->o.delay_ms;
			return;
		}
		if (!gate_open(r, now)) {
			*wake = r->gate_at;
			return;
		}
		if ((i = free_slot(r)) == r->max)
			return;
		switch (r->cb->next(r->cb->ctx, i + 1, &j, &fd)) {
		case RUNNER_JOB:
			break;
		case RUNNER_WAIT_FD:
			*wait_fd = fd;
			return;
		case RUNNER_WAIT:
			return;
		case RUNNER_DONE:
			r->no_more = 1;
			return;
		}
		if (launch(r, j, i, now) == -1) {
			*wake = r->waiting_at;
			return;
		}
		settle(r);
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
	int		 fd = spawner_tty(r->spawner);

	if (fd == -1 || from <= 0 || to <= 0 || tcgetpgrp(fd) != from)
		return;
	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	sigprocmask(SIG_BLOCK, &ttou, &old);
	(void)tcsetpgrp(fd, to);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/*
 * Job j stopped on signal sig.  Without --tty, a job that touched the
 * terminal from its background group would wait forever: say so and end
 * it.  With --tty, the job has the terminal, and a stop there (Ctrl-Z)
 * is the user's: forkpool stops too, as a shell's job would.  SIGSTOP is
 * forkpool's own Ctrl-Z, or someone's kill(1): not the terminal's.
 */
static void
job_stopped(struct runner *r, struct job *j, int sig)
{
	if (sig == SIGSTOP)
		return;
	if (spawner_tty(r->spawner) != -1) {
		r->suspend_due = 1;
		return;
	}
	if (sig != SIGTTIN && sig != SIGTTOU)
		return;
	if (!j->tty_stopped)
		warnx("job %llu: stopped on terminal %s; ending it: --tty "
		    "gives jobs the terminal", j->seq, sig == SIGTTIN ?
		    "input (SIGTTIN)" : "output or settings (SIGTTOU)");
	j->tty_stopped = 1;
	j->failed = 1;
	terminate(r, j, now_ms());
}

/* Reap every child that has exited; look at every job that stopped. */
static void
reap(struct runner *r)
{
	struct job	*j;
	unsigned int	 i;
	pid_t		 pid;
	int		 status;

	while ((pid = waitpid(-1, &status, WNOHANG | WUNTRACED)) > 0) {
		for (i = 0; i < r->o.jobs; i++) {
			if ((j = r->slots[i]) == NULL || j->pid != pid)
				continue;
			if (WIFSTOPPED(status)) {
				job_stopped(r, j, WSTOPSIG(status));
				break;
			}
			job_set_status(j, status);
			if (j->timed_out || j->tty_stopped)
				j->failed = 1;
			/* The next --tty job gets it from forkpool's group. */
			pass_foreground(r, j->pid, getpgrp());
			break;
		}
	}
}

/* SIGCONT: continue every job, and give a --tty job the foreground. */
static void
continue_jobs(struct runner *r)
{
	struct job	*j;
	unsigned int	 i;

	for (i = 0; i < r->o.jobs; i++) {
		if ((j = r->slots[i]) == NULL || j->state != JOB_RUNNING ||
		    j->pid <= 0)
			continue;
		if (!j->reaped)
			pass_foreground(r, getpgrp(), j->pid);
		kill(-j->pid, SIGCONT);
	}
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
	struct job	*j;
	unsigned int	 i;
	long long	 stopped_at, stopped;

	for (i = 0; i < r->o.jobs; i++) {
		if ((j = r->slots[i]) == NULL || j->state != JOB_RUNNING ||
		    j->pid <= 0)
			continue;
		kill(-j->pid, SIGSTOP);
		pass_foreground(r, j->pid, getpgrp());
	}
	stopped_at = now_ms();
	(void)kill(getpid(), SIGSTOP);
	stopped = now_ms() - stopped_at;
	for (i = 0; i < r->o.jobs; i++) {
		if ((j = r->slots[i]) == NULL || j->state != JOB_RUNNING)
			continue;
		j->start_ms += stopped;
		if (j->term_step >= 0)
			j->term_at += stopped;
	}
	continue_jobs(r);
}

/* SIGUSR1: list the running jobs on stderr. */
static void
list_jobs(const struct runner *r)
{
	struct buf	 b = { 0 };
	unsigned int	 i, k;
	long long	 now = now_ms();
	char		 line[96];

	for (i = 0; i < r->o.jobs; i++) {
		if (r->slots[i] == NULL || r->slots[i]->state != JOB_RUNNING)
			continue;
		(void)snprintf(line, sizeof(line), "forkpool: running: "
		    "job %llu, slot %u, pid %ld, %.1f s:", r->slots[i]->seq,
		    i + 1,
		    (long)r->slots[i]->pid,
		    (now - r->slots[i]->start_ms) / 1000.0);
		buf_adds(&b, line);
		for (k = 0; r->slots[i]->argv[k] != NULL; k++) {
			buf_addc(&b, ' ');
			buf_adds(&b, r->slots[i]->argv[k]);
		}
		buf_addc(&b, '\n');
	}
	if (b.len == 0)
		buf_adds(&b, "forkpool: running: no job\n");
	(void)write_all(STDERR_FILENO, b.data, b.len);
	buf_free(&b);
}

/*
 * Drain the signalfd.  SIGINT and SIGTERM end every job; a first SIGHUP
 * only drains, a second one ends them too.  SIGTSTP stops the jobs and
 * forkpool, SIGCONT continues the jobs.
 */
static void
read_signals(struct runner *r)
{
	struct signalfd_siginfo	 si;
	int			 sig;

	while (read(r->sigfd, &si, sizeof(si)) == sizeof(si)) {
		sig = (int)si.ssi_signo;
		if (sig == SIGCHLD)
			continue;
		if (sig == SIGUSR1) {
			list_jobs(r);
			continue;
		}
		if (sig == SIGTSTP) {
			suspend(r);
			continue;
		}
		if (sig == SIGCONT) {
			continue_jobs(r);
			continue;
		}
		if (sig == SIGHUP && r->signal == 0) {
			r->signal = SIGHUP;
			runner_drain(r);
			continue;
		}
		if (r->signal == 0 || r->signal == SIGHUP)
			r->signal = sig;
		runner_stop(r);
	}
	reap(r);
	if (r->suspend_due) {
		r->suspend_due = 0;
		suspend(r);
	}
}

/*
 * Read what a job wrote on one stream.  Returns the bytes taken, 0 once
 * the stream is closed, or -1 when nothing is there yet.
 */
static ssize_t
read_pipe(struct runner *r, struct job *j, int stream)
{
	ssize_t	 n = RUNNER_READ;

	if (r->cb->take != NULL)
		n = r->cb->take(r->cb->ctx, j, stream, j->fd[stream]);
	if (n > 0)
		return n;
	if (n == RUNNER_READ &&
	    (n = read(j->fd[stream], r->rbuf, READ_CHUNK)) > 0) {
		r->cb->output(r->cb->ctx, j, stream, r->rbuf, (size_t)n);
		return n;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return -1;
	close(j->fd[stream]);
	j->fd[stream] = -1;
	return 0;
}

/*
 * Stop waiting for the end of a job's output: take what its pipes hold
 * now (at most a bound, as a process outside the job may write on), then
 * close them.  Whoever else keeps them open gets EPIPE.
 */
static void
abandon_output(struct runner *r, struct job *j)
{
	size_t	 taken;
	ssize_t	 n;
	int	 s;

	for (s = 0; s < 2; s++) {
		for (taken = 0; j->fd[s] != -1 && taken < ABANDON_MAX;
		    taken += (size_t)n)
			if ((n = read_pipe(r, j, s)) <= 0)
				break;
		if (j->fd[s] != -1) {
			close(j->fd[s]);
			j->fd[s] = -1;
		}
	}
}

/* Check timers of running jobs; returns the next time one is due. */
static long long
check_timers(struct runner *r, long long wake)
{
	struct job	*j;
	unsigned int	 i;
	long long	 now = now_ms(), due;

	for (i = 0; i < r->o.jobs; i++) {
		if ((j = r->slots[i]) == NULL || j->state != JOB_RUNNING)
			continue;
		/*
		 * Until its output ends too: a program that exits while a
		 * child of its keeps the pipe open is not done yet.
		 */
		if (j->term_step < 0 && (due = deadline(r, j)) > 0) {
			if (now >= due) {
				j->timed_out = 1;
				j->failed = 1;
				terminate(r, j, now);
			} else if (wake == 0 || due < wake)
				wake = due;
		}
		if (j->term_step >= 0) {
			terminate_step(r, j, now);
			if ((size_t)j->term_step < r->o.ntermseq &&
			    (wake == 0 || j->term_at < wake))
				wake = j->term_at;
			/*
			 * Grandchildren dying leave no trace forkpool can
			 * wait on: look for the group's end every 10 ms.
			 */
			if (j->reaped && (wake == 0 || now + 10 < wake))
				wake = now + 10;
		} else if (j->reaped && (wake == 0 ||
		    now + GROUP_RECHECK_MS < wake))
			wake = now + GROUP_RECHECK_MS;
	}
	return wake;
}

/* Run until no job is left; see runner.h. */
int
runner_run(struct runner *r)
{
	unsigned int	 i;
	nfds_t		 n, k;
	int		 wait_fd, timeout, s, npend, pend[2], flushed;
	long long	 wake, left;

	for (;;) {
		wake = 0;
		start_jobs(r, &wait_fd, &wake);
		npend = r->cb->pending != NULL ?
		    r->cb->pending(r->cb->ctx, pend) : 0;
		/* Output that waits is written, unless a signal ends the run. */
		if (r->nrunning == 0 && r->waiting == NULL &&
		    (r->no_more || r->draining) &&
		    (npend == 0 || (r->stopping && r->signal != 0)))
			break;
		n = 0;
		r->pfds[n].fd = r->sigfd;
		r->pfds[n++].events = POLLIN;
		/*
		 * While output waits for a stalled reader, the jobs' pipes
		 * are not read: the jobs wait in their writes, as they would
		 * writing to the stream themselves, and nothing piles up.
		 */
		for (i = 0; npend == 0 && i < r->o.jobs; i++) {
			for (s = 0; r->slots[i] != NULL && s < 2; s++) {
				if (r->slots[i]->fd[s] == -1)
					continue;
				r->pfds[n].fd = r->slots[i]->fd[s];
				r->pfds[n].events = POLLIN;
				r->pjobs[n] = r->slots[i];
				r->pstream[n++] = s;
			}
		}
		for (s = 0; s < npend; s++) {
			r->pfds[n].fd = pend[s];
			r->pfds[n].events = POLLOUT;
			r->pjobs[n] = NULL;
			r->pstream[n++] = STREAM_OUT;
		}
		if (wait_fd != -1) {
			r->pfds[n].fd = wait_fd;
			r->pfds[n].events = POLLIN;
			r->pjobs[n] = NULL;
			r->pstream[n++] = STREAM_INPUT;
		}
		wake = check_timers(r, wake);
		timeout = -1;
		if (wake != 0) {
			left = wake - now_ms();
			timeout = left < 0 ? 0 : left > 60000 ? 60000 :
			    (int)left;
		}
		if (n == 1 && r->nrunning == 0 && wait_fd == -1 &&
		    timeout == -1) {
			warnx("internal error: nothing to wait for");
			return -1;
		}
		if (poll(r->pfds, n, timeout) == -1) {
			if (errno == EINTR)
				continue;
			warn("poll");
			return -1;
		}
		if (r->pfds[0].revents != 0)
			read_signals(r);
		for (k = 1, flushed = 0; k < n; k++) {
			if (r->pfds[k].revents == 0)
				continue;
			if (r->pjobs[k] != NULL)
				(void)read_pipe(r, r->pjobs[k], r->pstream[k]);
			else if (r->pstream[k] == STREAM_OUT && !flushed++)
				r->cb->writable(r->cb->ctx);
		}
		(void)check_timers(r, 0);
		settle(r);
	}
	if (r->ncannot_start > 1)
		warnx("%llu more job%s could not start: %s",
		    r->ncannot_start - 1, r->ncannot_start == 2 ? "" : "s",
		    r->cannot_start);
	return r->signal;
}
