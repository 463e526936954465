/*
 * The workers (--workers): the second engine beside the runner.  The
 * runner starts a process per job; here -j processes of the command are
 * started once and kept, and each job (an input record) is written to
 * an idle worker's stdin, followed by the delimiter (NUL with -0, else
 * a newline).  The worker's answer is its stdout up to and including the
 * next delimiter; what it writes on stderr meanwhile is the job's too.
 * One record at a time is in flight per worker.
 *
 * It drives the same callbacks as the runner (runner.h), so the run's
 * policy (retries, --halt, -k, tags, the joblog, results, progress) is
 * the same for both engines.  It launches the workers through the
 * executor, with their stdin on a pipe it makes.
 *
 * A worker that exits or is ended (--timeout, the termination sequence)
 * fails the record it had in flight, with its exit status; another is
 * started when a record waits for one.  With --max-tasks N, a worker's
 * stdin is closed after N answers and a fresh one takes its place.  At
 * the end of the input every worker's stdin is closed and the worker is
 * waited for.  Output with no record in flight goes to stderr, with a
 * warning.
 */
#ifndef FORKPOOL_WORKERS_H
#define FORKPOOL_WORKERS_H

struct executor;
struct opts;
struct runner_callbacks;
struct runner_opts;
struct source;
struct template;
struct workers;

/*
 * Whether cmd can be a worker's command: it runs once per worker, so only
 * {%} (and {0%}, {slot}) has a value there.  -1 after a message naming
 * the first replacement string that is a job's, else 0.
 */
int		 workers_check_command(const struct template *);

/*
 * Workers for the executor's slots, running cmd (no value in it, {%} at
 * most).  Every argument is borrowed until workers_free().
 */
struct workers	*workers_new(const struct runner_opts *,
		    const struct runner_callbacks *, struct executor *,
		    const struct template *, const struct opts *);
void		 workers_free(struct workers *);

/*
 * Run until every record is answered or failed and every worker has
 * exited.  Returns as runner_run() does: 0, the signal that ended the
 * run early, or -1 after an error of the loop.
 */
int		 workers_run(struct workers *);

/* Whether the workers take no more records (a struct workers *). */
int		 workers_draining(const void *);

/*
 * --dry-run: print on stdout the command of each worker that would
 * start: one per record read from the source, up to -j, none for no
 * input.  Returns the exit status.
 */
int		 workers_dry(const struct template *, struct source *,
		    const struct opts *);

#endif
