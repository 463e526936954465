/*
 * Pipe mode: the source of jobs made of blocks of input rather than of
 * values.  --pipe cuts stdin into blocks of about --block bytes that end
 * where a record ends (--recend, --recstart, --regexp), or of -N records,
 * and feeds each to one job's stdin; --pipe-part cuts a regular file the
 * same way, reading only around each cut, and splices each block's range
 * of the file to its job.  With --round-robin, -j jobs are started and
 * the blocks are dealt to whichever can take one.  With --cat, a block
 * goes into a file that {} names instead.  --header's bytes start every
 * block.
 *
 * A block is the longest run of whole records that fits in --block
 * bytes; a record longer than that is a block of its own.  At most one
 * block is held beyond those of the running jobs.
 */
#ifndef FORKPOOL_PIPE_H
#define FORKPOOL_PIPE_H

struct opts;
struct pipe_src;
struct source;
struct template;

/*
 * The pipe-mode source; it borrows its arguments until pipe_free().
 * tag is --tagstring's template or NULL.  NULL after a message naming the
 * option, the pattern or the file at fault.
 */
struct pipe_src	*pipe_new(const struct opts *, const struct template *,
		    const struct template *);
void		 pipe_free(struct pipe_src *);

/* The pipe-mode source as a job source (source.h). */
struct source	*pipe_source(struct pipe_src *);

#endif
