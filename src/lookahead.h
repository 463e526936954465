/*
 * Read-ahead: a job source that builds the jobs of another ahead of need,
 * so that a progress display knows how many there are.  Jobs are built
 * only from input that is ready and only while the runner wants none,
 * a bounded number per call, so that no job starts later for it; what
 * is held ahead is bounded by memory (LOOKAHEAD_MAX bytes).  The total
 * is exact once the inner source said it had no more within that bound.
 *
 * Jobs and rejected records come out in the inner source's order: a
 * record rejected while reading ahead is counted (rejected()) only when
 * the jobs before it were handed out.
 */
#ifndef FORKPOOL_LOOKAHEAD_H
#define FORKPOOL_LOOKAHEAD_H

/* The most bytes of jobs held ahead, their commands and values. */
#define LOOKAHEAD_MAX	(64 * 1024 * 1024)

struct lookahead;
struct source;

/* Read ahead of src, which is borrowed until lookahead_free(). */
struct lookahead	*lookahead_new(struct source *);

/* Release it and the jobs it holds. */
void			 lookahead_free(struct lookahead *);

/*
 * Hand out no job before the inner source has no more, so that the
 * count is the total before the first job starts ({##}).  What is held
 * beyond LOOKAHEAD_MAX goes to an unlinked file in directory tmpdir
 * (borrowed), in order, and memory stays bounded whatever the input.
 */
void			 lookahead_read_all(struct lookahead *, const char *);

/* It as a job source (source.h), valid until lookahead_free(). */
struct source		*lookahead_source(struct lookahead *);

/*
 * The jobs seen so far, handed out or held; *final is set once the
 * inner source has no more, and the count is the total.
 */
unsigned long long	 lookahead_count(const struct lookahead *, int *);

#endif
