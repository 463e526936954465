/*
 * The progress display (--bar, --progress, --eta): one line on stderr,
 * redrawn in place, only when stderr is a terminal.  It is a sink: the
 * run tells it of each job started and finished, and of the clock.  It
 * is redrawn at most every REDRAW_MS, and only when something changed or
 * a second went by.  It is erased before anything else is written to its
 * terminal, and drawn again once that line is finished: the output
 * collector calls progress_before_write() and progress_after_write()
 * around its writes there, and forkpool's own messages reach them
 * through stdio's stderr, which the display replaces while it is up.
 *
 * With -u or --tty the jobs write to the terminal themselves, and typed
 * records are echoed there: then no display is drawn at all, and a
 * warning says why.
 */
#ifndef FORKPOOL_PROGRESS_H
#define FORKPOOL_PROGRESS_H

struct lookahead;
struct opts;
struct progress;
struct sink;

/*
 * The display the options ask for, or NULL when there is none to draw:
 * none was asked for, stderr is no terminal, or the terminal carries
 * lines forkpool does not see (a warning says so).
 */
struct progress		*progress_new(const struct opts *);

/* Release it; stdio's stderr is forkpool's own again. */
void			 progress_free(struct progress *);

/* It as a sink (sink.h), valid until progress_free(). */
struct sink		*progress_sink(struct progress *);

/* Where the total of jobs comes from; borrowed until progress_free(). */
void			 progress_count_from(struct progress *,
			    const struct lookahead *);

/* The terminal it is drawn on. */
int			 progress_fd(const struct progress *);

/*
 * Bytes are about to be written to its terminal: erase the display.
 * Then some were, the last one c: draw it again once the line is ended.
 * ctx is the struct progress.
 */
void			 progress_before_write(void *);
void			 progress_after_write(void *, char);

#endif
