#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "input.h"
#include "shuffle.h"
#include "util.h"

/*
 * Bytes gathered before they are written: few write(2) calls for many
 * small records.
 */
#define SHUFFLE_WRITE_AT	(64 * 1024)

/* Where one record is in the file. */
struct extent {
	off_t		 off;
	size_t		 len;
};

/*
 * How a record is kept in the file: this header, then nfields lengths
 * (size_t), then the fields, each with its NUL.
 */
struct stored {
	unsigned long long	 num;
	int			 flaw;
	size_t			 nfields;
};

struct shuffle {
	const char	*tmpdir;	/* borrowed */
	int		 fd;		/* -1 until the first record */
	struct buf	 pending;	/* bytes not written yet */
	off_t		 end;		/* the file's size with pending */
	struct extent	*index;		/* one per record, owned */
	size_t		 n, cap;
	size_t		 next;		/* records handed out */
	int		 shuffled;
	struct buf	 scratch;	/* a record read back */
};

/* A new, empty store; see shuffle.h. */
struct shuffle *
shuffle_new(const char *tmpdir)
{
	struct shuffle	*sh;

	sh = xcalloc(1, sizeof(*sh));
	sh->tmpdir = tmpdir;
	sh->fd = -1;
	return sh;
}

/* Close the file and release the index. */
void
shuffle_free(struct shuffle *sh)
{
	if (sh == NULL)
		return;
	if (sh->fd != -1)
		(void)close(sh->fd);
	buf_free(&sh->pending);
	buf_free(&sh->scratch);
	free(sh->index);
	free(sh);
}

/* Write what is pending; -1 after a message. */
static int
flush(struct shuffle *sh)
{
	if (sh->pending.len == 0)
		return 0;
	if (write_all(sh->fd, sh->pending.data, sh->pending.len) == -1) {
		warn("--shuf: cannot write to a temporary file in %s",
		    sh->tmpdir);
		return -1;
	}
	buf_reset(&sh->pending);
	return 0;
}

/* Keep a copy of the record; see shuffle.h. */
int
shuffle_add(struct shuffle *sh, const struct record *r)
{
	struct stored	 h;
	size_t		 start = sh->pending.len, i;

	if (sh->fd == -1 && (sh->fd = temp_file(sh->tmpdir, NULL)) == -1) {
		warn("--shuf: cannot create a temporary file in %s",
		    sh->tmpdir);
		return -1;
	}
	memset(&h, 0, sizeof(h));
	h.num = r->num;
	h.flaw = (int)r->flaw;
	h.nfields = r->nfields;
	buf_add(&sh->pending, &h, sizeof(h));
	if (r->nfields > 0)
		buf_add(&sh->pending, r->lens, r->nfields * sizeof(*r->lens));
	for (i = 0; i < r->nfields; i++)
		buf_add(&sh->pending, r->fields[i], r->lens[i] + 1);
	if (sh->n == sh->cap) {
		sh->cap = sh->cap == 0 ? 1024 : sh->cap * 2;
		sh->index = xreallocarray(sh->index, sh->cap,
		    sizeof(*sh->index));
	}
	sh->index[sh->n].off = sh->end;
	sh->index[sh->n].len = sh->pending.len - start;
	sh->n++;
	sh->end += (off_t)(sh->pending.len - start);
	return sh->pending.len >= SHUFFLE_WRITE_AT ? flush(sh) : 0;
}

/*
 * Put the index in a random order: Fisher-Yates, every order equally
 * likely.  arc4random_uniform() draws below 2^32; a larger input is
 * rare enough that two draws make the index there.
 */
static void
shuffle_index(struct shuffle *sh)
{
	struct extent	 t;
	size_t		 i, j;

	for (i = sh->n; i > 1; i--) {
		if (i <= UINT32_MAX)
			j = arc4random_uniform((uint32_t)i);
		else
			j = (size_t)(((uint64_t)arc4random() << 32 |
			    arc4random()) % i);
		t = sh->index[i - 1];
		sh->index[i - 1] = sh->index[j];
		sh->index[j] = t;
	}
}

/* Read the len bytes at off into the scratch buffer; -1 after a message. */
static int
read_extent(struct shuffle *sh, const struct extent *e)
{
	size_t	 got = 0;
	ssize_t	 n;

	buf_reset(&sh->scratch);
	buf_reserve(&sh->scratch, e->len);
	while (got < e->len) {
		n = pread(sh->fd, sh->scratch.data + got, e->len - got,
		    e->off + (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			warn("--shuf: cannot read a temporary file in %s",
			    sh->tmpdir);
			return -1;
		}
		got += (size_t)n;
	}
	sh->scratch.len = got;
	return 0;
}

/* The next record in the shuffled order; see shuffle.h. */
int
shuffle_next(struct shuffle *sh, struct record **recp)
{
	struct stored	 h;
	struct record	*r;
	const char	*p;
	char		*data;
	size_t		 off, bytes, i;

	if (!sh->shuffled) {
		sh->shuffled = 1;
		if (sh->fd != -1 && flush(sh) == -1)
			return -1;
		shuffle_index(sh);
	}
	if (sh->next == sh->n)
		return 0;
	if (read_extent(sh, &sh->index[sh->next++]) == -1)
		return -1;
	/* The record as input.c makes it: one allocation, see input.h. */
	memcpy(&h, sh->scratch.data, sizeof(h));
	p = sh->scratch.data + sizeof(h) + h.nfields * sizeof(size_t);
	bytes = sh->scratch.len - (size_t)(p - sh->scratch.data);
	off = sizeof(*r) + h.nfields * (sizeof(char *) + sizeof(size_t));
	r = xmalloc(off + bytes);
	r->num = h.num;
	r->flaw = (enum record_flaw)h.flaw;
	r->nfields = h.nfields;
	r->fields = (char **)(r + 1);
	r->lens = (size_t *)(r->fields + h.nfields);
	if (h.nfields > 0)
		memcpy(r->lens, sh->scratch.data + sizeof(h),
		    h.nfields * sizeof(size_t));
	data = (char *)r + off;
	memcpy(data, p, bytes);
	for (i = 0; i < h.nfields; i++) {
		r->fields[i] = data;
		data += r->lens[i] + 1;
	}
	*recp = r;
	return 1;
}
