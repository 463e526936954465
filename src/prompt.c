/*
 * -p: the questions go to the terminal itself, not to stderr as GNU
 * xargs's do, so that they are seen when stderr goes to a file; the
 * answers are read from it a byte at a time, and only once poll(2) says
 * one is there, so that the runner's loop never blocks on the user.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "prompt.h"
#include "util.h"

struct prompt {
	const char	*opt;		/* -p or --interactive, borrowed */
	int		 in;		/* owned: /dev/tty, non-blocking */
	int		 out;		/* owned: /dev/tty, for the questions */
	int		 first;		/* the answer's first byte, or -1 */
	int		 ended;		/* PROMPT_END was returned */
};

/* Open the terminal for the questions and answers; see prompt.h. */
struct prompt *
prompt_new(const char *opt)
{
	struct prompt	*p;
	int		 in, out;

	/* Its own open file: O_NONBLOCK reaches no job's descriptor. */
	if ((in = open("/dev/tty", O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		warn("%s: /dev/tty", opt);
		return NULL;
	}
	if ((out = open("/dev/tty", O_WRONLY | O_CLOEXEC)) == -1) {
		warn("%s: /dev/tty", opt);
		close(in);
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	p->opt = opt;
	p->in = in;
	p->out = out;
	p->first = -1;
	return p;
}

/* Close the terminal. */
void
prompt_free(struct prompt *p)
{
	if (p == NULL)
		return;
	close(p->in);
	close(p->out);
	free(p);
}

/* Show a question; see prompt.h. */
void
prompt_ask(struct prompt *p, const char *q, size_t len)
{
	static const char	 tail[] = " ?...";

	p->first = -1;
	/* A terminal that cannot be written to shows up as its answer. */
	if (write_all(p->out, q, len) == -1 ||
	    write_all(p->out, tail, sizeof(tail) - 1) == -1)
		warn("%s: /dev/tty", p->opt);
}

/* Read what was typed of the answer; see prompt.h. */
enum prompt_answer
prompt_answer(struct prompt *p)
{
	ssize_t	 n;
	char	 c;

	if (p->ended)
		return PROMPT_END;
	for (;;) {
		n = read(p->in, &c, 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return PROMPT_WAIT;
		if (n <= 0)
			break;
		if (c == '\n') {
			n = p->first == 'y' || p->first == 'Y';
			p->first = -1;
			return n ? PROMPT_YES : PROMPT_NO;
		}
		if (p->first == -1)
			p->first = (unsigned char)c;
	}
	/* Ctrl-D, a hangup, or a read from the background (EIO). */
	if (n == 0)
		warnx("%s: end of file on /dev/tty; starting no more jobs",
		    p->opt);
	else
		warn("%s: /dev/tty; starting no more jobs", p->opt);
	p->ended = 1;
	return PROMPT_END;
}

/* The terminal's input; see prompt.h. */
int
prompt_fd(const struct prompt *p)
{
	return p->in;
}

/*
 * Whether stderr is the terminal; see prompt.h.  /dev/tty is a device of
 * its own, which names no terminal: stderr is the controlling one when
 * it is a terminal whose session is forkpool's.
 */
int
prompt_on_stderr(const struct prompt *p)
{
	pid_t	 sid;

	(void)p;
	return (sid = tcgetsid(STDERR_FILENO)) != -1 && sid == getsid(0);
}
