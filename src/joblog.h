/*
 * The joblog: one row per finished job in GNU parallel's format, written
 * with a single write(2) once the job's output is printed, so a crash of
 * forkpool loses no finished row.  The Command column escapes backslash and
 * control bytes, so a row is one line whatever the values hold.  Reading it
 * back gives what --resume, --resume-failed and --retry-failed need; what
 * it holds grows with the rows, not with the job numbers.
 */
#ifndef FORKPOOL_JOBLOG_H
#define FORKPOOL_JOBLOG_H

#include "opts.h"

struct job;
struct joblog;
struct output;
struct resume;
struct sink;
struct source;

/* Open for writing; append keeps what is there.  NULL after a message. */
struct joblog	*joblog_open(const char *, int);
void		 joblog_close(struct joblog *);

/* Where a joblog on stdout ("-") is written (borrowed); else nothing. */
void		 joblog_set_output(struct joblog *, struct output *);

/* Write j's row; -1 after a message. */
int		 joblog_write(struct joblog *, const struct job *);

/*
 * The joblog as a sink (sink.h): the row of each printed job, except one
 * cut short by forkpool's stopping.  Valid until joblog_close().
 */
struct sink	*joblog_sink(struct joblog *);

/*
 * Read a joblog for mode (RESUME, RESUME_FAILED or RETRY_FAILED).  A
 * missing file is an empty log.  NULL after a message, such as one naming
 * the line of a bad row.
 */
struct resume	*resume_load(const char *, enum resume_mode);
void		 resume_free(struct resume *);

/* Whether job seq is to be skipped; O(log rows). */
int		 resume_skip(const struct resume *, unsigned long long);

/*
 * --retry-failed as a job source (source.h): the failed jobs in seq
 * order, each running its logged command line again through shell.
 * Valid until resume_free().
 */
struct source	*resume_source(struct resume *, const char *);

#endif
