/*
 * --shuf: the input's records, all of them, handed out again in a random
 * order.  GNU parallel reads every record before it runs a job and
 * shuffles them in memory; here they go to a file of the temporary
 * directory, unlinked at once, and only an index (an offset and a length,
 * 16 bytes a record) stays in memory.  The order is a Fisher-Yates
 * shuffle drawn from arc4random_uniform(3), which the kernel's
 * getrandom(2) seeds.
 *
 * Ownership: the store owns its file, its descriptor and its index.  A
 * record given to shuffle_add() stays the caller's (it is copied); a
 * record shuffle_next() returns is the caller's, released with
 * record_free().
 */
#ifndef FORKPOOL_SHUFFLE_H
#define FORKPOOL_SHUFFLE_H

struct record;
struct shuffle;

/*
 * A store whose file goes in directory tmpdir (borrowed: it must outlive
 * the store), created with the first record.
 */
struct shuffle	*shuffle_new(const char *);
void		 shuffle_free(struct shuffle *);

/* Keep a copy of the record; -1 after a message. */
int		 shuffle_add(struct shuffle *, const struct record *);

/*
 * After the last shuffle_add(): the records in a random order, one a
 * call, into *recp; 1 for a record, 0 when none is left, -1 after a
 * message.
 */
int		 shuffle_next(struct shuffle *, struct record **);

#endif
