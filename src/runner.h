/*
 * The runner: an event loop that keeps up to N jobs running.  It asks
 * its caller for the next job, starts it, passes on each chunk of output
 * and reports each job once it is finished (reaped and its pipes at
 * EOF).  It knows nothing of ordering, tags, logs or exit-status policy:
 * those belong to the callbacks (git's run_processes_parallel model).
 *
 * It never busy-waits: it sleeps in poll(2) on the jobs' pipes, a
 * signalfd for SIGCHLD and the termination signals, and, when the caller
 * asks for it, the input's fd.
 */
#ifndef FORKPOOL_RUNNER_H
#define FORKPOOL_RUNNER_H

#include <stddef.h>

struct job;
struct runner;
struct spawner;

enum runner_next {
	RUNNER_JOB,		/* *jobp holds a job, now the runner's */
	RUNNER_WAIT_FD,		/* nothing yet: poll *fdp for input */
	RUNNER_WAIT,		/* nothing until a running job finishes */
	RUNNER_DONE		/* no more jobs */
};

struct runner_callbacks {
	/* The next job to run in slot (1..N). */
	enum runner_next (*next)(void *, unsigned int, struct job **, int *);
	/* Called just before the job is spawned. */
	void	(*started)(void *, struct job *);
	/* A chunk of the job's stdout (stream 0) or stderr (stream 1). */
	void	(*output)(void *, struct job *, int, const char *, size_t);
	/* The job is finished (or could not start); the callee owns it. */
	void	(*finished)(void *, struct job *);
	void	*ctx;
};

/* The runner borrows cb and spawner until runner_free(). */
struct runner	*runner_new(unsigned int, const struct runner_callbacks *,
		    struct spawner *);
void		 runner_free(struct runner *);

/*
 * Run until no job is left.  Returns 0, or the signal number that ended
 * the run early (SIGINT, SIGTERM, SIGHUP), or -1 after runner_stop()
 * or an error of the runner's own.
 */
int		 runner_run(struct runner *);

/* Start no more jobs; end the running ones (SIGTERM, then SIGKILL). */
void		 runner_stop(struct runner *);

#endif
