#include <sys/types.h>

#include <sys/sendfile.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "spill.h"
#include "util.h"

struct spill {
	const char	*tmpdir;	/* borrowed */
	int		 fd;		/* -1 until first used */
	off_t		 end;		/* past the last byte ever stored */
	size_t		 held;		/* bytes handed out, not given back */
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
	free(sp);
}

/* Open the file on first use: created and unlinked at once. */
static int
spill_open(struct spill *sp)
{
	struct buf	 path = { 0 };
	int		 fd;

	if (sp->fd != -1)
		return 0;
	buf_adds(&path, sp->tmpdir);
	buf_adds(&path, "/forkpool.XXXXXX");
	if ((fd = mkostemp(path.data, O_CLOEXEC)) == -1) {
		warn("cannot create a spill file in %s", sp->tmpdir);
		buf_free(&path);
		return -1;
	}
	unlink(path.data);
	buf_free(&path);
	sp->fd = fd;
	return 0;
}

/* Where up to len new bytes go: *off; returns how many fit there. */
static size_t
place(const struct spill *sp, size_t len, off_t *off)
{
	*off = sp->end;
	return len;
}

/* The len bytes at off are now held. */
static void
take(struct spill *sp, off_t off, size_t len)
{
	if (off + (off_t)len > sp->end)
		sp->end = off + (off_t)len;
	sp->held += len;
}

/* Store bytes where place() puts them. */
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
	ssize_t	 n;

	while ((n = sendfile(fd, sp->fd, off, len)) == -1 && errno == EINTR)
		;
	return n;
}

/* The owner of the len bytes at off is done with them. */
void
spill_release(struct spill *sp, off_t off, size_t len)
{
	(void)off;
	if (len == 0)
		return;
	sp->held -= len;
	/* Nothing left in the file: start it over. */
	if (sp->held == 0 && sp->end > 0 && ftruncate(sp->fd, 0) == 0)
		sp->end = 0;
}
