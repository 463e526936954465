/*
 * -p, --interactive: asking on the terminal, before each job, whether to
 * run it, as xargs -p does, without blocking the runner.  The caller
 * shows the question with prompt_ask(), then polls prompt_fd() for
 * input until prompt_answer() has the answer.
 */
#ifndef FORKPOOL_PROMPT_H
#define FORKPOOL_PROMPT_H

#include <stddef.h>

struct prompt;

enum prompt_answer {
	PROMPT_YES,		/* a line that starts with y or Y */
	PROMPT_NO,		/* any other line, an empty one too */
	PROMPT_WAIT,		/* no whole line yet: poll prompt_fd() */
	PROMPT_END		/* end of file or an error on the terminal:
				   a message was printed */
};

/*
 * Open /dev/tty for the option opt (borrowed, for messages); NULL after
 * a message naming it when there is no terminal.
 */
struct prompt	*prompt_new(const char *);
void		 prompt_free(struct prompt *);

/* Show the question (len bytes, no newline) and " ?..." after it. */
void		 prompt_ask(struct prompt *, const char *, size_t);

/* The answer to the last question, as far as it was typed. */
enum prompt_answer prompt_answer(struct prompt *);

/* The descriptor to poll for input while the answer is PROMPT_WAIT. */
int		 prompt_fd(const struct prompt *);

/* Whether stderr is the terminal the questions are shown on. */
int		 prompt_on_stderr(const struct prompt *);

#endif
