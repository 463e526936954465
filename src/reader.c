#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reader.h"
#include "util.h"

/* Large reads keep the per-record cost down; a record may grow past it. */
#define READ_SIZE	(64 * 1024)

/* Blank as Perl's \s has it, which GNU parallel follows. */
#define BLANKS		" \t\r\n\v\f"

/* Reads delimited records from one fd. */
struct reader {
	int		 fd;		/* borrowed from the caller */
	int		 eof;
	char		 delim;
	char		*name;		/* for messages */
	char		*buf;
	size_t		 start;		/* first byte of the next record */
	size_t		 scan;		/* bytes before it hold no delimiter */
	size_t		 end;
	size_t		 cap;
	size_t		 limit;		/* longer records are skipped; 0: none */
	int		 skipping;	/* inside a record over the limit */
	size_t		 skipped;	/* its bytes so far */
	int		 skipped_nul;	/* they hold a NUL byte */
	int		 skipped_blank;	/* they are all blanks */
};

/* Whether c is a blank byte (NUL is not). */
int
reader_is_blank(char c)
{
	return c != '\0' && strchr(BLANKS, c) != NULL;
}

/* Make a reader of the records on fd; see reader.h for who owns what. */
struct reader *
reader_new(int fd, char delim, const char *name)
{
	struct reader	*r;

	r = xcalloc(1, sizeof(*r));
	r->fd = fd;
	r->delim = delim;
	r->name = xstrdup(name);
	r->cap = READ_SIZE;
	r->buf = xmalloc(r->cap);
	return r;
}

/* Release a reader, leaving its fd open. */
void
reader_free(struct reader *r)
{
	if (r == NULL)
		return;
	free(r->name);
	free(r->buf);
	free(r);
}

/* The fd to poll after READER_WAIT. */
int
reader_fd(const struct reader *r)
{
	return r->fd;
}

/* Skip records over limit bytes; see reader.h. */
void
reader_set_limit(struct reader *r, size_t limit)
{
	r->limit = limit;
}

/* Whether a read() would not block now. */
static int
reader_ready(const struct reader *r)
{
	struct pollfd	 pfd = { .fd = r->fd, .events = POLLIN };

	return poll(&pfd, 1, 0) != 0;
}

/* Count n bytes of a record that is over the limit, and drop them. */
static void
reader_skip(struct reader *r, const char *p, size_t n)
{
	size_t	 i;

	r->skipped += n;
	if (r->delim != '\0' && memchr(p, '\0', n) != NULL)
		r->skipped_nul = 1;
	for (i = 0; r->skipped_blank && i < n; i++)
		if (!reader_is_blank(p[i]))
			r->skipped_blank = 0;
}

/*
 * Drop the buffered part of the record being read once it is over the
 * limit.  A record that cannot be used is not held: a 256 MiB line cost
 * 1 GiB by the time it was rejected.
 */
static void
reader_drop(struct reader *r)
{
	if (!r->skipping) {
		if (r->limit == 0 || r->end - r->start <= r->limit)
			return;
		r->skipping = 1;
		r->skipped = 0;
		r->skipped_nul = 0;
		r->skipped_blank = 1;
	}
	reader_skip(r, r->buf + r->start, r->end - r->start);
	r->start = r->scan = r->end;
}

/*
 * Hand out the record that ends at d, or at the end of the buffer when d
 * is NULL (the last record, without its delimiter), and move past it.
 */
static enum reader_status
reader_take(struct reader *r, char *d, struct reader_rec *rec)
{
	char	*end = d != NULL ? d : r->buf + r->end;
	size_t	 next = (size_t)(end - r->buf) + (d != NULL ? 1 : 0);

	memset(rec, 0, sizeof(*rec));
	if (r->skipping) {
		reader_skip(r, r->buf + r->start, (size_t)(end - r->buf) -
		    r->start);
		r->start = r->scan = next;
		r->skipping = 0;
		rec->len = r->skipped;
		rec->nul = r->skipped_nul;
		rec->blank = r->skipped_blank;
		return READER_LONG;
	}
	/* The buffer keeps a byte spare past the data for this NUL. */
	*end = '\0';
	rec->p = r->buf + r->start;
	rec->len = (size_t)(end - rec->p);
	rec->nul = r->delim != '\0' && memchr(rec->p, '\0', rec->len) != NULL;
	r->start = r->scan = next;
	return READER_OK;
}

/*
 * Read what the fd has after the buffered data: READER_OK when the buffer
 * or the eof flag may have changed, READER_WAIT when block is unset and
 * the read would block, READER_ERROR after a message.
 */
static enum reader_status
reader_fill(struct reader *r, int block)
{
	ssize_t	 n;

	if (!block && !reader_ready(r))
		return READER_WAIT;
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->scan -= r->start;
		r->start = 0;
	}
	/* Keep one byte spare for the NUL of a last partial record. */
	if (r->cap - r->end < READ_SIZE / 2 + 1) {
		r->cap *= 2;
		r->buf = xreallocarray(r->buf, r->cap, 1);
	}
	n = read(r->fd, r->buf + r->end, r->cap - r->end - 1);
	if (n == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return READER_OK;
		warn("%s", r->name);
		return READER_ERROR;
	}
	if (n == 0)
		r->eof = 1;
	r->end += (size_t)n;
	return READER_OK;
}

/* The next record; see reader.h. */
enum reader_status
reader_next(struct reader *r, int block, struct reader_rec *rec)
{
	enum reader_status	 st;
	char			*d;

	for (;;) {
		d = memchr(r->buf + r->scan, r->delim, r->end - r->scan);
		if (d != NULL)
			return reader_take(r, d, rec);
		r->scan = r->end;
		reader_drop(r);
		if (r->eof) {
			if (!r->skipping && r->start == r->end)
				return READER_EOF;
			/* A last record without its delimiter still counts. */
			return reader_take(r, NULL, rec);
		}
		if ((st = reader_fill(r, block)) != READER_OK)
			return st;
	}
}
