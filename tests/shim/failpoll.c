/*
 * Preloaded into forkpool by tests/runner.bats: once the file named by
 * FP_FAILPOLL exists, poll(2) and epoll_wait(2) fail with ENOMEM, so
 * that the event loop's own failure can be tested.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

/* Whether the calls are to fail now. */
static int
failing(void)
{
	const char	*flag = getenv("FP_FAILPOLL");

	return flag != NULL && access(flag, F_OK) == 0;
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
