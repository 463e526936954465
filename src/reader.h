/*
 * The record reader: splits what it reads from one fd into records at a
 * one-byte delimiter (newline, NUL or any other byte).  It reads in large
 * blocks and hands each record out in place, without a copy.  A record
 * over the limit is not held: it is read to its delimiter and only summed
 * up (its length, whether it holds a NUL byte, whether it is all blank),
 * so memory follows the limit, not the longest record.
 *
 * The reader knows nothing of where its fd came from or what its records
 * are for: input.c makes sources of it.
 */
#ifndef FORKPOOL_READER_H
#define FORKPOOL_READER_H

#include <stddef.h>

struct reader;

enum reader_status {
	READER_OK,		/* a record, held */
	READER_LONG,		/* a record over the limit, only summed up */
	READER_WAIT,		/* no whole record yet: poll reader_fd() */
	READER_EOF,		/* no more records, now or on later calls */
	READER_ERROR		/* a read failed; a message was printed */
};

/* A record as reader_next() hands it out; the delimiter is not part of it. */
struct reader_rec {
	/*
	 * READER_OK: the record's bytes, NUL-terminated.  They belong to
	 * the reader and stay valid until the next reader_next() or
	 * reader_free().  READER_LONG: NULL.
	 */
	const char	*p;
	size_t		 len;		/* bytes in the record */
	int		 nul;		/* it holds a NUL byte */
	int		 blank;		/* READER_LONG: all its bytes are blank */
};

/*
 * A reader of the records on fd that end at delim.  The fd stays the
 * caller's: the reader only reads it, never closes it, and needs it open
 * until reader_free().  name says what fd is in messages; it is copied.
 */
struct reader		*reader_new(int fd, char delim, const char *name);
void			 reader_free(struct reader *);

/*
 * The next record into *rec.  With block unset, answers READER_WAIT rather
 * than wait in read() when poll() finds nothing to read yet.
 */
enum reader_status	 reader_next(struct reader *, int block,
			    struct reader_rec *rec);

/* The fd to poll for POLLIN after READER_WAIT. */
int			 reader_fd(const struct reader *);

/*
 * Stop holding a record once it is over limit bytes (0, the default:
 * never); from then on it comes out as READER_LONG.
 */
void			 reader_set_limit(struct reader *, size_t limit);

/* Whether c is blank, as Perl's \s (NUL is not); see struct reader_rec. */
int			 reader_is_blank(char);

#endif
