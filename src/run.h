/*
 * The run's policy: what forkpool does with each job the runner reports
 * and what the whole run comes to.  It takes jobs from a source, hands
 * their output to the output collector, tells the sinks, and decides:
 * retries (--retries), requeues, --halt, the -k window (counted by the
 * jobs queued for printing), -t, the counters and the exit status.  It
 * answers the runner's callbacks with verdicts (runner.h) and never calls
 * into the runner but to ask whether it is draining.
 *
 * The run borrows the options, the source, the output collector, the
 * template and the sinks until run_free().
 */
#ifndef FORKPOOL_RUN_H
#define FORKPOOL_RUN_H

struct opts;
struct output;
struct prompt;
struct run;
struct runner;
struct runner_callbacks;
struct sink;
struct source;
struct template;

struct run	*run_new(const struct opts *, struct source *,
		    const struct template *);
void		 run_free(struct run *);

/*
 * Let jobs keep their values until they are released, for the sinks
 * that name a job's files or rows by them (see builder_keep_values()).
 */
void		 run_keep_values(struct run *);

/* Tell sink of every event from now on (in the order added). */
void		 run_add_sink(struct run *, struct sink *);

/*
 * The callbacks for a runner that prints through output; the runner is
 * set once made, for run_callbacks()' draining question.
 */
const struct runner_callbacks *run_callbacks(struct run *, struct output *);
void		 run_set_runner(struct run *, struct runner *);

/*
 * Another engine than the runner (the workers): draining(engine) says
 * whether it starts no more jobs.
 */
void		 run_set_engine(struct run *, int (*)(const void *),
		    const void *);

/*
 * -p: before each job, ask on the terminal of p (borrowed) whether to
 * run it; the jobs the user says no to are dropped.  An end of file on
 * the terminal ends the run with forkpool's error status.
 */
void		 run_set_prompt(struct run *, struct prompt *);

/*
 * --dry-run: print each job's command on stdout instead of running it.
 * Returns the exit status.
 */
int		 run_dry(struct run *);

/* The run is over: the sinks hear of it. */
void		 run_close(struct run *);

/*
 * The exit status once the runner returned ran (0, a signal, or -1 for
 * its own error).
 */
int		 run_status(const struct run *, int);

#endif
