/*
 * The runner: an event loop that keeps up to N jobs running.  It asks
 * its caller for the next job, starts it, passes on each chunk of output
 * and reports each job once it is finished (reaped, its pipes at EOF, and
 * its process group gone if it was being ended).  It owns everything
 * about time and processes: timeouts, the termination sequence, --delay,
 * --load and --memfree gates, retrying a spawn that ran out of processes,
 * and the signals sent to forkpool.  It knows nothing of ordering, tags,
 * logs or exit-status policy: those belong to the callbacks (git's
 * run_processes_parallel model).
 *
 * It never busy-waits: it sleeps in poll(2) on the jobs' pipes, a
 * signalfd, and, when the caller asks for it, the input's fd, with a
 * timeout only when a timer is due.
 */
#ifndef FORKPOOL_RUNNER_H
#define FORKPOOL_RUNNER_H

#include <sys/types.h>

#include <stddef.h>

struct job;
struct runner;
struct spawner;
struct term_step;

/* take(): the runner must read the bytes itself. */
#define RUNNER_READ	(-2)

enum runner_next {
	RUNNER_JOB,		/* *jobp holds a job, now the runner's */
	RUNNER_WAIT_FD,		/* nothing yet: poll *fdp for input */
	RUNNER_WAIT,		/* nothing until a running job finishes */
	RUNNER_DONE		/* no more jobs */
};

/* What the caller wants done with a finished job. */
enum runner_verdict {
	RUNNER_RELEASE,		/* the caller keeps it */
	RUNNER_RETRY		/* run it again now, in the same slot */
};

struct runner_callbacks {
	/* The next job to run in slot (1..N). */
	enum runner_next (*next)(void *, unsigned int, struct job **, int *);
	/* Called just before the job is spawned (again, on a retry). */
	void	(*started)(void *, struct job *);
	/* A chunk of the job's stdout (stream 0) or stderr (stream 1). */
	void	(*output)(void *, struct job *, int, const char *, size_t);
	/*
	 * Optional: the job's stream is readable on fd; move its bytes
	 * without a read.  Returns bytes moved, 0 at EOF, -1 with errno
	 * set, or RUNNER_READ: read them and call output.
	 */
	ssize_t	(*take)(void *, struct job *, int, int);
	/* The job is finished or could not start. */
	enum runner_verdict (*finished)(void *, struct job *);
	/*
	 * Optional: whether output waits to be written; puts the fds to
	 * poll for POLLOUT in the array (room for 2) and returns how many.
	 * While some waits, no job's output is read, and the run does not
	 * end before it is written, unless a signal ends it.
	 */
	int	(*pending)(void *, int *);
	/* One of those fds can be written: write what it takes. */
	void	(*writable)(void *);
	void	*ctx;
};

struct runner_opts {
	unsigned int		 jobs;
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
		    const struct runner_callbacks *, struct spawner *);
void		 runner_free(struct runner *);

/*
 * Run until no job is left.  Returns 0; or the signal (SIGINT, SIGTERM,
 * SIGHUP) that ended the run early; or -1 after an error of its own.
 */
int		 runner_run(struct runner *);

/* Start no more jobs; let the running ones finish. */
void		 runner_drain(struct runner *);

/* Whether runner_drain() or runner_stop() was called, or a signal came. */
int		 runner_draining(const struct runner *);

/*
 * Start no more jobs; end the running ones with the termination sequence
 * (each is marked interrupted).
 */
void		 runner_stop(struct runner *);

#endif
