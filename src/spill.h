/*
 * The spill store: bytes held on disk, in one file of the temporary
 * directory that is unlinked as soon as it is created, so that nothing is
 * left behind even if forkpool is killed.  It knows nothing of what the
 * bytes are.
 *
 * Ownership: the store owns the file and its descriptor.  Every byte
 * stored lands in an extent (offset, length) of the file that is handed to
 * the caller; the caller owns that extent, may read it or send it on as
 * often as it likes, may pass it to someone else, and gives it back with
 * spill_release() once it needs it no more.  Until then the store never
 * hands those bytes out again; after it, the caller must not touch them.
 * Disk use follows what is held, not what was ever stored.
 *
 * Failures to create, write or read the file print a message naming the
 * directory (warn(3) style) and return -1; the caller decides what that
 * means for the run.
 */
#ifndef FORKPOOL_SPILL_H
#define FORKPOOL_SPILL_H

#include <sys/types.h>

struct spill;

/*
 * A store whose file goes in directory tmpdir, created on first use.
 * tmpdir is borrowed: it must outlive the store.
 */
struct spill	*spill_new(const char *);

/* Close the file; every extent handed out is gone with it. */
void		 spill_free(struct spill *);

/*
 * Store the first bytes of p (len of them) and put where they went in
 * *off.  Returns how many were stored, at least 1 and perhaps fewer than
 * len (then store the rest with another call: it goes elsewhere), or -1.
 */
ssize_t		 spill_write(struct spill *, const void *, size_t, off_t *);

/*
 * Move at most len bytes from the pipe fd into the store with splice(2),
 * never copying them through forkpool, and put where they went in *off.
 * Returns how many were moved, 0 at the pipe's end, or -1 with errno
 * EAGAIN (nothing to read yet), EINVAL (splice cannot be used here: read
 * the bytes and call spill_write()) or another (a message was printed).
 */
ssize_t		 spill_splice(struct spill *, int, size_t, off_t *);

/*
 * Read at most len held bytes at off into p.  Returns how many were read,
 * at least 1, or -1.
 */
ssize_t		 spill_read(struct spill *, void *, size_t, off_t);

/*
 * Send at most len held bytes at *off to fd with sendfile(2), advancing
 * *off by what was sent.  Returns what sendfile(2) returns (EINTR aside):
 * -1 with errno EAGAIN when fd takes no more now, EINVAL or ENOSYS when fd
 * cannot be written that way (read the bytes and write them instead; the
 * store also says EINVAL for a pipe or socket when it must not lend the
 * file's pages, see spill.c); no message is printed.
 */
ssize_t		 spill_send(struct spill *, int, off_t *, size_t);

/* Give back the len bytes at off: their owner needs them no more. */
void		 spill_release(struct spill *, off_t, size_t);

#endif
