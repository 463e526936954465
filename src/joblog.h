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
struct resume;

/* Open for writing; append keeps what is there.  NULL after a message. */
struct joblog	*joblog_open(const char *, int);
void		 joblog_close(struct joblog *);

/* Write j's row; -1 after a message. */
int		 joblog_write(struct joblog *, const struct job *);

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
 * --retry-failed: the next failed job in seq order, its number and its
 * command line (valid until resume_free()); 0 when there is none left.
 */
int		 resume_next_failed(struct resume *, unsigned long long *,
		    const char **);

#endif
