#include <sys/types.h>

#include <sys/sendfile.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spill.h"
#include "util.h"

/*
 * Without hole punching, a free run of the file gets new bytes only when
 * it takes this many, or all of them: filling every small gap would cut
 * what a holder stores into many small extents.
 */
#define MIN_REUSE	(64 * 1024)

/* A run of the file: held by someone, or free. */
struct span {
	off_t	 off;
	off_t	 len;
};

/*
 * Disk use follows what is held.  The hazard: sendfile(2) to a pipe or a
 * socket hands over the file's pages themselves, not a copy, and a
 * reader may splice them on to further pipes, so bytes given back may
 * still be read from their page long after; writing new bytes into that
 * page, or the kernel zeroing part of it when a hole is punched or the
 * file cut there, would change what the reader gets.  Only dropping a
 * page whole from the file is safe: the reader keeps the old one.
 *
 * So, where the file system can punch holes (FALLOC_FL_PUNCH_HOLE), new
 * bytes always go at the end, and of what is given back, the parts that
 * are whole units (see spill_open()) are punched out, or cut off with
 * ftruncate(2) at the end; disk use is then what is held plus at most a
 * unit at each end of each free run.  Where it cannot (EOPNOTSUPP), free
 * runs are reused instead, lowest offset first, and cut off at the end,
 * so that the file never grows past the most held at once plus the free
 * runs too small to reuse; in exchange, the pages are never lent out:
 * spill_send() copies, refusing pipes and sockets.
 */
struct spill {
	const char	*tmpdir;	/* borrowed */
	int		 fd;		/* -1 until first used */
	off_t		 end;		/* the file's size */
	off_t		 unit;		/* punched and cut in whole units */
	int		 no_punch;	/* the file system cannot punch holes */
	struct span	*free;		/* free runs below end, by offset, none
					   touching another */
	size_t		 nfree;
	size_t		 capfree;
};

/* A store in tmpdir; its file is created on first use. */
struct spill *
spill_new(const char *tmpdir)
{
	struct spill	*sp;

	sp = xcalloc(1, sizeof(*sp));
	sp->tmpdir = tmpdir;
	sp->fd = -1;
	return sp;
}

/* Close the file and free the store. */
void
spill_free(struct spill *sp)
{
	if (sp == NULL)
		return;
	if (sp->fd != -1)
		close(sp->fd);
	free(sp->free);
	free(sp);
}

/* Open the file on first use: created and unlinked at once. */
static int
spill_open(struct spill *sp)
{
	long		 pagesize;
	int		 fd;

	if (sp->fd != -1)
		return 0;
	if ((fd = temp_file(sp->tmpdir, NULL)) == -1) {
		warn("cannot create a spill file in %s", sp->tmpdir);
		return -1;
	}
	sp->fd = fd;
	/*
	 * No page cache folio is larger than a PMD huge page (the kernel's
	 * MAX_PAGECACHE_ORDER), and each is aligned to its size: a page
	 * table page holds pagesize / 8 entries, so that is pagesize^2 / 8,
	 * 2 MiB for 4 KiB pages.  Punched or cut in these units, a page is
	 * always dropped whole.
	 */
	if ((pagesize = sysconf(_SC_PAGESIZE)) <= 0)
		pagesize = 4096;
	sp->unit = (off_t)pagesize * (pagesize / 8);
	/* Ask once, on the empty file, whether holes can be punched. */
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
	    sp->unit) == -1)
		sp->no_punch = 1;
	return 0;
}

/*
 * Where up to len new bytes go: the end, or without hole punching the
 * first free run that takes MIN_REUSE of them or all.  Puts the offset in
 * *off and returns how many fit there.
 */
static size_t
place(const struct spill *sp, size_t len, off_t *off)
{
	size_t	 i, want;

	want = len < MIN_REUSE ? len : MIN_REUSE;
	for (i = 0; sp->no_punch && i < sp->nfree; i++)
		if (sp->free[i].len >= (off_t)want) {
			*off = sp->free[i].off;
			return sp->free[i].len < (off_t)len ?
			    (size_t)sp->free[i].len : len;
		}
	*off = sp->end;
	return len;
}

/* The len bytes at off, where place() put them, are now held. */
static void
take(struct spill *sp, off_t off, size_t len)
{
	size_t	 i;

	if (off == sp->end) {
		sp->end += (off_t)len;
		return;
	}
	/* place() only gives the start of a free run. */
	for (i = 0; i < sp->nfree && sp->free[i].off != off; i++)
		;
	if (i == sp->nfree)
		return;
	sp->free[i].off += (off_t)len;
	if ((sp->free[i].len -= (off_t)len) == 0) {
		memmove(&sp->free[i], &sp->free[i + 1],
		    (sp->nfree - i - 1) * sizeof(*sp->free));
		sp->nfree--;
	}
}

/* Round off down to a whole unit. */
static off_t
unit_down(const struct spill *sp, off_t off)
{
	return off - off % sp->unit;
}

/*
 * Punch out the whole units of the free run r that the len bytes given
 * back at off complete; a unit partly held stays, and is punched once the
 * rest of it is given back.
 */
static void
punch(struct spill *sp, const struct span *r, off_t off, off_t len)
{
	off_t	 lo, hi;

	lo = unit_down(sp, off);
	if (lo < r->off)
		lo = unit_down(sp, r->off + sp->unit - 1);
	hi = unit_down(sp, off + len + sp->unit - 1);
	if (hi > r->off + r->len)
		hi = unit_down(sp, r->off + r->len);
	/* Failing, it only leaves the space taken until the file is cut. */
	if (hi > lo)
		(void)fallocate(sp->fd, FALLOC_FL_PUNCH_HOLE |
		    FALLOC_FL_KEEP_SIZE, lo, hi - lo);
}

ssize_t
spill_write(struct spill *sp, const void *p, size_t len, off_t *off)
{
	ssize_t	 n;

	if (spill_open(sp) == -1)
		return -1;
	len = place(sp, len, off);
	while ((n = pwrite(sp->fd, p, len, *off)) == -1 && errno == EINTR)
		;
	if (n <= 0) {
		/* pwrite(2) of a regular file only returns 0 for 0 bytes. */
		if (n == 0)
			errno = EIO;
		warn("cannot hold output in a spill file in %s", sp->tmpdir);
		return -1;
	}
	take(sp, *off, (size_t)n);
	return n;
}

/* Move bytes from a pipe where place() puts them, never copying them. */
ssize_t
spill_splice(struct spill *sp, int fd, size_t len, off_t *off)
{
	ssize_t	 n;
	off_t	 at;

	if (spill_open(sp) == -1)
		return -1;
	len = place(sp, len, off);
	at = *off;
	while ((n = splice(fd, NULL, sp->fd, &at, len, SPLICE_F_MOVE)) == -1 &&
	    errno == EINTR)
		;
	if (n > 0)
		take(sp, *off, (size_t)n);
	else if (n == -1 && errno != EAGAIN && errno != EINVAL)
		warn("cannot hold output in a spill file in %s", sp->tmpdir);
	return n;
}

/* Read held bytes back. */
ssize_t
spill_read(struct spill *sp, void *p, size_t len, off_t off)
{
	ssize_t	 n;

	while ((n = pread(sp->fd, p, len, off)) == -1 && errno == EINTR)
		;
	if (n == -1)
		warn("cannot read back held output");
	else if (n == 0) {
		/* The file is shorter than what it holds: cut under us. */
		warnx("cannot read back held output");
		n = -1;
	}
	return n;
}

/* Send held bytes to fd without copying them through forkpool. */
ssize_t
spill_send(struct spill *sp, int fd, off_t *off, size_t len)
{
	struct stat	 st;
	ssize_t		 n;

	/* Without hole punching the pages are reused: never lend them. */
	if (sp->no_punch && (fstat(fd, &st) == -1 || (!S_ISREG(st.st_mode) &&
	    !S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)))) {
		errno = EINVAL;
		return -1;
	}

	while ((n = sendfile(fd, sp->fd, off, len)) == -1 && errno == EINTR)
		;
	return n;
}

/*
 * The owner of the len bytes at off is done with them: they join the free
 * runs, merged with those they touch; a free run at the end is cut off,
 * any other is punched out.
 */
void
spill_release(struct spill *sp, off_t off, size_t len)
{
	struct span	*r;
	size_t		 lo, hi, mid;
	off_t		 end;

	if (len == 0)
		return;
	/* lo: the first free run after off. */
	for (lo = 0, hi = sp->nfree; lo < hi;) {
		mid = lo + (hi - lo) / 2;
		if (sp->free[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && sp->free[lo - 1].off + sp->free[lo - 1].len == off) {
		r = &sp->free[lo - 1];
		r->len += (off_t)len;
	} else {
		if (sp->nfree == sp->capfree) {
			sp->capfree = sp->capfree == 0 ? 8 : sp->capfree * 2;
			sp->free = xreallocarray(sp->free, sp->capfree,
			    sizeof(*sp->free));
		}
		memmove(&sp->free[lo + 1], &sp->free[lo],
		    (sp->nfree - lo) * sizeof(*sp->free));
		sp->nfree++;
		r = &sp->free[lo];
		r->off = off;
		r->len = (off_t)len;
		lo++;
	}
	/* Now lo is the run after r: merge it when they touch. */
	if (lo < sp->nfree && r->off + r->len == sp->free[lo].off) {
		r->len += sp->free[lo].len;
		memmove(&sp->free[lo], &sp->free[lo + 1],
		    (sp->nfree - lo - 1) * sizeof(*sp->free));
		sp->nfree--;
	}
	if (r->off + r->len < sp->end) {
		if (!sp->no_punch)
			punch(sp, r, off, (off_t)len);
		return;
	}
	/* The last run is free: cut it off, in whole units if lent out. */
	end = sp->no_punch ? r->off : unit_down(sp, r->off + sp->unit - 1);
	if (end < sp->end && ftruncate(sp->fd, end) == 0) {
		sp->end = end;
		if ((r->len = end - r->off) == 0)
			sp->nfree--;
	}
}
