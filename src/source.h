/*
 * Job sources: where the jobs of a run come from, in seq order.  The
 * builder (records from the input) is one; --retry-failed (commands from
 * a joblog) another; pipe mode's blocks (pipe.c) a third.  A source makes
 * each job with its command as far as it is known, and renders it at
 * launch, once the runner has set the job's slot and host: {%} is known
 * only then.
 *
 * A job returned by next() is the caller's; the source keeps nothing of
 * it, so render() works from what the job holds.
 */
#ifndef FORKPOOL_SOURCE_H
#define FORKPOOL_SOURCE_H

#include <sys/types.h>

struct job;

enum source_status {
	SOURCE_JOB,		/* *jobp is a new job, owned by the caller */
	SOURCE_WAIT,		/* input must be polled (fd()) */
	SOURCE_IDLE,		/* nothing until a running job finishes */
	SOURCE_DONE,		/* no more jobs */
	SOURCE_ERROR,		/* input failed; a message was printed */
	SOURCE_REJECTED		/* records were reported instead of run
				   (rejected()); call again for the next */
};

struct source_ops {
	enum source_status (*next)(void *, struct job **);
	/* The fd to poll after SOURCE_WAIT. */
	int		 (*fd)(void *);
	/* Fill in the job's command for its slot and host. */
	void		 (*render)(void *, struct job *);
	/*
	 * How many records were rejected so far; *last gets the input
	 * record number of the latest.
	 */
	unsigned long long (*rejected)(void *, unsigned long long *);
	/*
	 * Optional: build jobs ahead of need from what input is ready, a
	 * bounded amount per call.  Returns 1 when more can be built at
	 * once; else 0 with *fd the fd to poll before more can, or -1.
	 */
	int		 (*prefetch)(void *, int *);
	/*
	 * Optional: write the job's input (job.h: input) to fd, its stdin,
	 * as the runner's feed callback does (runner.h).
	 */
	ssize_t		 (*feed)(void *, struct job *, int);
};

struct source {
	const struct source_ops	*ops;
	void			*ctx;
};

#endif
