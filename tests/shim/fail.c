/*
 * Preloaded into forkpool by tests/runner.bats to make calls fail on
 * demand: while the file named by FP_FAILPOLL exists, poll(2) and
 * epoll_wait(2) fail with ENOMEM (the event loop's own failure); while
 * the one named by FP_FAILSPAWN exists, posix_spawnp(3) fails with
 * EAGAIN (out of processes).
 */
#define _GNU_SOURCE
#include <sys/epoll.h>

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <spawn.h>
#include <stdlib.h>
#include <unistd.h>

/* Whether the calls the flag file named by variable var stands for fail. */
static int
flagged(const char *var)
{
	const char	*flag = getenv(var);

	return flag != NULL && access(flag, F_OK) == 0;
}

static int
failing(void)
{
	return flagged("FP_FAILPOLL");
}

int
poll(struct pollfd *fds, nfds_t n, int timeout)
{
	static int	(*real)(struct pollfd *, nfds_t, int);

	if (failing()) {
		errno = ENOMEM;
		return -1;
	}
	if (real == NULL)
		real = (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT,
		    "poll");
	return real(fds, n, timeout);
}

int
epoll_wait(int ep, struct epoll_event *ev, int n, int timeout)
{
	static int	(*real)(int, struct epoll_event *, int, int);

	if (failing()) {
		errno = ENOMEM;
		return -1;
	}
	if (real == NULL)
		real = (int (*)(int, struct epoll_event *, int, int))dlsym(
		    RTLD_NEXT, "epoll_wait");
	return real(ep, ev, n, timeout);
}

int
posix_spawnp(pid_t *pid, const char *file,
    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
    char *const argv[], char *const envp[])
{
	static int	(*real)(pid_t *, const char *,
			    const posix_spawn_file_actions_t *,
			    const posix_spawnattr_t *, char *const[],
			    char *const[]);

	if (flagged("FP_FAILSPAWN"))
		return EAGAIN;
	if (real == NULL)
		real = (int (*)(pid_t *, const char *,
		    const posix_spawn_file_actions_t *,
		    const posix_spawnattr_t *, char *const[],
		    char *const[]))dlsym(RTLD_NEXT, "posix_spawnp");
	return real(pid, file, fa, attr, argv, envp);
}
