/*
 * The runner: an event loop that keeps a job running in every usable
 * slot of an executor.  It asks its caller for the next job, has it
 * rendered for the slot, launches it through the executor, passes on
 * each chunk of output and reports each job once it is finished (its
 * process reaped, its pipes at EOF, its process group gone if it was
 * being ended).  It owns everything about time and processes: the
 * process records, timeouts, the termination sequence, --delay, the
 * --load and --memfree gates, retrying a launch that ran out of
 * processes, reaping, and the signals sent to forkpool.  It knows
 * nothing of ordering, tags, logs or exit-status policy: those belong to
 * the callbacks, which answer with verdicts and never call back into
 * the runner.
 *
 * It feeds a job's stdin when the job has input (pipe mode), through
 * the feed callback, as the pipe can take it.
 *
 * It never busy-waits, and its cost per job does not grow with the
 * number of slots: job pipes, stdin's included, are watched with epoll(7), timers are kept
 * in start order, a reaped pid is found by hashing, a free slot by a
 * heap.
 */
#ifndef FORKPOOL_RUNNER_H
#define FORKPOOL_RUNNER_H

#include <sys/types.h>

#include <stddef.h>

struct executor;
struct job;
struct runner;
struct term_step;

/*
 * Verdicts: what a callback wants done next, as bits.  RETRY and
 * REQUEUE are answers to a finished (or never started) job.
 */
#define RUNNER_GO	0x0	/* nothing */
#define RUNNER_RETRY	0x1	/* run it again now, in the same slot, as
				   its next attempt */
#define RUNNER_REQUEUE	0x2	/* run it again in the next usable slot,
				   as the same attempt */
#define RUNNER_DRAIN	0x4	/* start no more jobs */
#define RUNNER_STOP	0x8	/* and end the running ones (each is marked
				   interrupted) */

/* What feed answers when it has nothing to write yet, or later. */
#define FEED_IDLE	(-3)
#define FEED_RETRY	(-4)

enum runner_next {
	RUNNER_JOB,		/* *jobp holds a job, now the runner's */
	RUNNER_WAIT_FD,		/* nothing yet: poll *fdp for input */
	RUNNER_WAIT,		/* nothing until a running job finishes */
	RUNNER_DONE		/* no more jobs */
};

struct runner_callbacks {
	/* The next job to run; a verdict in the last argument. */
	enum runner_next (*next)(void *, struct job **, int *, int *);
	/* Fill in the job's command: its slot and host are set now. */
	void	(*render)(void *, struct job *);
	/* The job was launched (again, on a retry). */
	int	(*started)(void *, struct job *);
	/* The job could not start, for good: it is marked failed. */
	int	(*not_started)(void *, struct job *);
	/* A chunk of the job's stdout (stream 0) or stderr (stream 1). */
	int	(*output)(void *, struct job *, int, const char *, size_t);
	/*
	 * Optional: the job's stream is readable on fd; move its bytes
	 * without a read.  Returns bytes moved, 0 at EOF, -1 with errno
	 * set, or TAKE_READ: read them and call output.  The verdict goes
	 * in the last argument.
	 */
	ssize_t	(*take)(void *, struct job *, int, int, int *);
	/*
	 * Optional: feed a job's stdin.  A job whose input is set (job.h)
	 * gets a pipe as stdin; whenever its write end, fd (non-blocking),
	 * can take more, this writes what it can without blocking and
	 * returns the bytes written (or -1 with errno EAGAIN: fd took
	 * none after all); 0 once the job's input is complete (the runner
	 * closes fd: the job sees EOF); FEED_IDLE when there is nothing to
	 * write yet (the runner stops watching fd until the next prefetch
	 * that built something, or until another job's input is complete);
	 * FEED_RETRY when it cannot know before some time passed (the
	 * runner looks again FEED_RETRY_MS later); -1 with another errno
	 * (EPIPE: the job closed its stdin) drops the rest of the input,
	 * which is no error of forkpool's.  A job whose input_fd is set
	 * gets no pipe: that fd is fed (and closed) instead.  The verdict
	 * goes in the last argument.
	 */
	ssize_t	(*feed)(void *, struct job *, int, int *);
	/* The job is finished; its result is final. */
	int	(*finished)(void *, struct job *);
	/*
	 * Optional: whether output waits to be written; puts the fds to
	 * poll for POLLOUT in the array (room for 2) and returns how many.
	 * While some waits, no job's output is read, and the run does not
	 * end before it is written, unless a signal ends it.
	 */
	int	(*pending)(void *, int *);
	/* One of those fds can be written: write what it takes. */
	int	(*writable)(void *);
	/*
	 * Optional: no job is wanted now; build some ahead from what input
	 * is ready.  Returns 1 to be called again at once, else 0 with the
	 * fd to poll for more in the last argument, or -1.
	 */
	int	(*prefetch)(void *, int *);
	/*
	 * Optional: called once a turn with the time (monotonic ms), before
	 * the loop waits; returns when it wants to be called again, 0 for
	 * no sooner than the next event.
	 */
	long long (*tick)(void *, long long);
	void	*ctx;
};

struct runner_opts {
	long long		 timeout_ms;	/* 0: none */
	unsigned int		 timeout_pct;	/* of the median success */
	const struct term_step	*termseq;
	size_t			 ntermseq;
	long long		 delay_ms;
	double			 load;		/* 0: no gate */
	unsigned long long	 memfree;	/* 0: no gate */
};

/* The runner borrows every argument until runner_free(). */
struct runner	*runner_new(const struct runner_opts *,
		    const struct runner_callbacks *, struct executor *);
void		 runner_free(struct runner *);

/*
 * Run until no job is left.  Returns 0; or the signal (SIGINT, SIGTERM,
 * SIGHUP) that ended the run early; or -1 after an error of its own, once
 * every running job was ended, reaped and reported.
 */
int		 runner_run(struct runner *);

/* Whether the runner starts no more jobs (a verdict or a signal). */
int		 runner_draining(const struct runner *);

#endif
