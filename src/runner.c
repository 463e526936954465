#include <sys/signalfd.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "job.h"
#include "runner.h"
#include "spawn.h"
#include "util.h"

/* One read per ready pipe per turn keeps a fast writer from starving. */
#define READ_CHUNK	(128 * 1024)

/* How long ended jobs get between SIGTERM and SIGKILL. */
#define KILL_GRACE_MS	500

struct runner {
	unsigned int			 max;
	const struct runner_callbacks	*cb;
	struct spawner			*spawner;
	struct job			**slots;	/* running jobs by slot */
	unsigned int			 nrunning;
	int				 sigfd;
	sigset_t			 oldmask;
	int				 no_more;	/* next() said DONE */
	int				 stopping;	/* runner_stop() called */
	int				 signal;	/* that ended the run */
	long long			 kill_at;	/* ms; 0: not armed */
	struct pollfd			*pfds;
	struct job			**pjobs;	/* job of each pfd */
	int				*pstream;
	char				*rbuf;
};

/* Monotonic milliseconds. */
static long long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A runner with max slots. */
struct runner *
runner_new(unsigned int max, const struct runner_callbacks *cb,
    struct spawner *sp)
{
	struct runner	*r;
	sigset_t	 set;

	r = xcalloc(1, sizeof(*r));
	r->max = max;
	r->cb = cb;
	r->spawner = sp;
	r->slots = xcalloc(max, sizeof(*r->slots));
	r->pfds = xcalloc((size_t)max * 2 + 2, sizeof(*r->pfds));
	r->pjobs = xcalloc((size_t)max * 2 + 2, sizeof(*r->pjobs));
	r->pstream = xcalloc((size_t)max * 2 + 2, sizeof(*r->pstream));
	r->rbuf = xmalloc(READ_CHUNK);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &r->oldmask);
	if ((r->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		err(EXIT_FORKPOOL_ERROR, "signalfd");
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

/* Send sig to the process group of every running, unreaped job. */
static void
signal_jobs(struct runner *r, int sig)
{
	unsigned int	 i;

	for (i = 0; i < r->max; i++)
		if (r->slots[i] != NULL && !r->slots[i]->reaped &&
		    r->slots[i]->pid > 0)
			kill(-r->slots[i]->pid, sig);
}

/* Start no more jobs and end the running ones. */
void
runner_stop(struct runner *r)
{
	if (r->stopping)
		return;
	r->stopping = 1;
	signal_jobs(r, SIGTERM);
	r->kill_at = now_ms() + KILL_GRACE_MS;
}

/* Hand a finished job in slot i to the caller. */
static void
finish(struct runner *r, unsigned int i)
{
	struct job	*j = r->slots[i];

	r->slots[i] = NULL;
	r->nrunning--;
	j->state = JOB_DONE;
	r->cb->finished(r->cb->ctx, j);
}

/* Whether the job in slot i is reaped with both pipes at EOF. */
static int
is_finished(const struct job *j)
{
	return j->reaped && j->fd[0] == -1 && j->fd[1] == -1;
}

/* Fill the free slots; sets *wait_fd when the input must be polled. */
static void
start_jobs(struct runner *r, int *wait_fd)
{
	struct job	*j;
	unsigned int	 i;
	int		 fd = -1;

	*wait_fd = -1;
	for (i = 0; i < r->max && !r->stopping && !r->no_more &&
	    r->nrunning < r->max; i++) {
		if (r->slots[i] != NULL)
			continue;
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
		r->slots[i] = j;
		r->nrunning++;
		r->cb->started(r->cb->ctx, j);
		if (spawn_job(r->spawner, j) == -1 || is_finished(j))
			finish(r, i);
		/* The slot may be free again: look at it once more. */
		if (r->slots[i] == NULL)
			i--;
	}
}

/* Reap every child that has exited. */
static void
reap(struct runner *r)
{
	unsigned int	 i;
	pid_t		 pid;
	int		 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < r->max; i++) {
			if (r->slots[i] != NULL && r->slots[i]->pid == pid) {
				job_set_status(r->slots[i], status);
				break;
			}
		}
	}
}

/* Drain the signalfd: reap children, note termination signals. */
static void
read_signals(struct runner *r)
{
	struct signalfd_siginfo	 si;

	while (read(r->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue;
		if (r->signal == 0)
			r->signal = (int)si.ssi_signo;
		runner_stop(r);
	}
	reap(r);
}

/* Read what a job wrote on one stream. */
static void
read_pipe(struct runner *r, struct job *j, int stream)
{
	ssize_t	 n;

	n = read(j->fd[stream], r->rbuf, READ_CHUNK);
	if (n > 0) {
		r->cb->output(r->cb->ctx, j, stream, r->rbuf, (size_t)n);
		return;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	close(j->fd[stream]);
	j->fd[stream] = -1;
}

/* Run until no job is left; see runner.h. */
int
runner_run(struct runner *r)
{
	unsigned int	 i;
	nfds_t		 n, k;
	int		 wait_fd, timeout, s;
	long long	 left;

	for (;;) {
		start_jobs(r, &wait_fd);
		if (r->nrunning == 0 && (r->no_more || r->stopping))
			break;
		n = 0;
		r->pfds[n].fd = r->sigfd;
		r->pfds[n++].events = POLLIN;
		for (i = 0; i < r->max; i++) {
			for (s = 0; r->slots[i] != NULL && s < 2; s++) {
				if (r->slots[i]->fd[s] == -1)
					continue;
				r->pfds[n].fd = r->slots[i]->fd[s];
				r->pfds[n].events = POLLIN;
				r->pjobs[n] = r->slots[i];
				r->pstream[n++] = s;
			}
		}
		if (wait_fd != -1) {
			r->pfds[n].fd = wait_fd;
			r->pfds[n].events = POLLIN;
			r->pjobs[n++] = NULL;
		}
		timeout = -1;
		if (r->kill_at != 0) {
			left = r->kill_at - now_ms();
			if (left <= 0) {
				signal_jobs(r, SIGKILL);
				r->kill_at = 0;
				left = 0;
			}
			timeout = r->kill_at != 0 ? (int)left : -1;
		}
		if (n == 1 && r->nrunning == 0 && wait_fd == -1) {
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
		for (k = 1; k < n; k++) {
			if (r->pfds[k].revents == 0 || r->pjobs[k] == NULL)
				continue;
			read_pipe(r, r->pjobs[k], r->pstream[k]);
		}
		for (i = 0; i < r->max; i++)
			if (r->slots[i] != NULL && is_finished(r->slots[i]))
				finish(r, i);
	}
	if (r->signal != 0)
		return r->signal;
	return r->stopping ? -1 : 0;
}
