/*
 * The summary (--summary): a sink that reports on stderr, once the run is
 * over, how many jobs ran, succeeded and failed, each failed job with its
 * status, the rejected records, the wall time of the run and the CPU
 * time of its jobs, the five slowest jobs and the one with the highest
 * peak RSS.  It is also printed when --halt or a signal ends the run,
 * for what ran so far.
 *
 * Memory does not grow with the jobs: the failed jobs' lines wait in an
 * unlinked file of the temporary directory, made at the first failure,
 * and are copied to stderr at the end.
 */
#ifndef FORKPOOL_SUMMARY_H
#define FORKPOOL_SUMMARY_H

struct sink;
struct summary;

/*
 * A summary whose file goes in tmpdir, which is borrowed until
 * summary_free(); the run's wall time starts now.
 */
struct summary	*summary_new(const char *);
void		 summary_free(struct summary *);

/* The summary as a sink (sink.h), valid until summary_free(). */
struct sink	*summary_sink(struct summary *);

#endif
