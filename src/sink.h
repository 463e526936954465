/*
 * Sinks: what a run leaves behind besides the jobs' output.  The run
 * tells every sink of each event, in order: a job started, a job
 * finished for good (no retry follows), a job's output was all printed
 * (its result is final then), an input record was rejected, the clock
 * moved, the run is over.  The joblog is the first sink; results
 * files, reports, a progress display and a summary are others.
 *
 * A sink borrows the job for the length of the call.  A callback may be
 * NULL when the sink has nothing to do with that event.
 */
#ifndef FORKPOOL_SINK_H
#define FORKPOOL_SINK_H

struct job;

struct sink_ops {
	void	(*started)(void *, const struct job *);
	/* -1 after a message: the run cannot go on (the log is broken). */
	int	(*printed)(void *, const struct job *);
	void	(*rejected)(void *, unsigned long long);
	void	(*close)(void *);
	void	(*finished)(void *, const struct job *);
	/*
	 * The time is now (monotonic ms); returns when the sink wants to be
	 * told again, 0 for not until the next event.
	 */
	long long (*tick)(void *, long long);
};

struct sink {
	const struct sink_ops	*ops;
	void			*ctx;
};

#endif
