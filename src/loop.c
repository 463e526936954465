#include <sys/signalfd.h>
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "opts.h"
#include "util.h"

/* Whether a pipe is full; see loop.h. */
int
loop_pipe_full(int fd)
{
	struct pollfd	 pfd = { .events = POLLOUT };
	char		 path[32];
	int		 full;

	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if ((pfd.fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return 0;
	full = poll(&pfd, 1, 0) == 0;
	(void)close(pfd.fd);
	return full;
}

/* Monotonic milliseconds. */
long long
loop_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wall-clock seconds since the epoch, for the joblog. */
double
loop_now_epoch(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The earlier of two wake times (0: none). */
long long
loop_earlier(long long a, long long b)
{
	return a == 0 || (b != 0 && b < a) ? b : a;
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

/* Take the signals forkpool handles through a signalfd; see loop.h. */
int
loop_catch_signals(sigset_t *old)
{
	static const int handled[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1,
	    SIGTSTP, SIGCONT };
	sigset_t	 set;
	size_t		 i;
	int		 fd;

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
	sigprocmask(SIG_BLOCK, &set, old);
	if ((fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		err(EXIT_FORKPOOL_ERROR, "signalfd");
	return fd;
}

/*
 * Drain the signalfd.  SIGINT and SIGTERM end every job; a first SIGHUP
 * only drains, a second one ends them too.  SIGTSTP stops the jobs and
 * forkpool, SIGCONT continues the jobs.
 */
void
loop_read_signals(int fd, int *signal, const struct loop_signals *ops,
    void *ctx)
{
	struct signalfd_siginfo	 si;
	int			 sig;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		sig = (int)si.ssi_signo;
		if (sig == SIGCHLD)
			continue;
		if (sig == SIGUSR1)
			ops->list(ctx);
		else if (sig == SIGTSTP)
			ops->suspend(ctx);
		else if (sig == SIGCONT)
			ops->resume(ctx);
		else if (sig == SIGHUP && *signal == 0) {
			*signal = SIGHUP;
			ops->drain(ctx);
		} else {
			if (*signal == 0 || *signal == SIGHUP)
				*signal = sig;
			ops->stop(ctx);
		}
	}
}

/* Whether process group pgid has no process left. */
int
loop_group_gone(pid_t pgid)
{
	return pgid <= 0 || (kill(-pgid, 0) == -1 && errno == ESRCH);
}

/* Take the due steps of a termination sequence; see loop.h. */
void
loop_term_step(struct loop_term *t, const struct term_step *seq, size_t n,
    pid_t pgid, long long now, void (*send)(void *, int), void *ctx)
{
	int	 sig;

	while (t->step >= 0 && (size_t)t->step < n && now >= t->at) {
		if (loop_group_gone(pgid)) {
			t->step = (int)n;
			break;
		}
		sig = seq[t->step].sig;
		send(ctx, sig);
		if (sig != SIGSTOP && sig != SIGTSTP && sig != SIGTTIN &&
		    sig != SIGTTOU)
			send(ctx, SIGCONT);
		t->at = now + seq[t->step].ms;
		t->step++;
	}
}
