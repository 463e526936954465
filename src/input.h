/*
 * Input: the sources (stdin, -a FILE, ::: values, :::: FILE), each file
 * split into records by a reader (reader.h), how several sources
 * combine (cross product, :::+ links, --link), column splitting (--colsep,
 * PCRE2), --trim and blank record skipping.
 *
 * With --header, the first records of every source are its header, read
 * at start; with --csv a record is an RFC 4180 record, which may take
 * several lines.
 *
 * The first source is streamed when it is a file or stdin standing alone
 * in its group: records come out as they are read, and memory does not
 * grow with their number.  Every other source is read whole at start,
 * because the cross product walks it again for every record of the first.
 */
#ifndef FORKPOOL_INPUT_H
#define FORKPOOL_INPUT_H

#include <stddef.h>

struct opts;
struct input;

/* Why a record cannot run, in the order they are looked for. */
enum record_flaw {
	RECORD_OK,
	RECORD_NUL,		/* a value holds a NUL byte */
	RECORD_TOO_LONG,	/* a value is over input_set_limit()'s bytes */
	RECORD_NO_SPLIT,	/* --colsep matching hit one of PCRE2's limits */
	RECORD_CSV_QUOTE,	/* --csv: a quote inside a field, or after one */
	RECORD_CSV_OPEN		/* --csv: a quoted field open at the end */
};

/*
 * One record: the values of every source combined, each value split into
 * columns when --colsep is set and trimmed as --trim says.  A flawed
 * record has no fields, but for a RECORD_NUL one whose values are all
 * held and could be split.  A record is one allocation, owned by whoever
 * input_next() handed it to, released with record_free().
 */
struct record {
	unsigned long long	  num;		/* 1-based record number */
	enum record_flaw	  flaw;
	size_t			  nfields;
	char			**fields;	/* NUL-terminated each */
	size_t			 *lens;
};

enum input_status {
	INPUT_RECORD,		/* *recp is set */
	INPUT_WAIT,		/* no complete record yet: poll input_fd() */
	INPUT_EOF,		/* no more records */
	INPUT_ERROR		/* a read failed; a message was printed */
};

/* Open and preload the sources; NULL after printing a message. */
struct input		*input_new(const struct opts *);
void			 input_free(struct input *);

/* The next record without blocking on a streamed source. */
enum input_status	 input_next(struct input *, struct record **);

/*
 * The column names --header read, in column order ({1} first), n of them
 * in *n; NULL without --header, or when the input ended before a header
 * was complete.  They belong to the input.
 */
const char * const	*input_names(const struct input *, size_t *n);

/* The fd to poll for POLLIN after INPUT_WAIT. */
int			 input_fd(const struct input *);

/*
 * Stop holding a streamed record once it is over limit bytes (0: never):
 * it is read to its delimiter, only counted, and comes out with flaw
 * RECORD_TOO_LONG.  For a caller that knows such a record cannot run.
 */
void			 input_set_limit(struct input *, size_t);

void			 record_free(struct record *);

#endif
