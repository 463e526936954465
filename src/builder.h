/*
 * The job builder: the source of jobs made from input records.  It takes
 * records from the input, keeps those of its --partition, groups them
 * into jobs (-n, -N, -X, -s) and expands the command template and the
 * tag for each; with {%} it renders them again at launch, once the slot
 * is known.  A record that cannot
 * become a job (a NUL byte inside, too long for the command line) is
 * reported here, with its record number, and counted.
 */
#ifndef FORKPOOL_BUILDER_H
#define FORKPOOL_BUILDER_H

#include <stddef.h>

struct builder;
struct input;
struct lookahead;
struct opts;
struct resume;
struct source;
struct template;

/*
 * The builder borrows every argument until builder_free().  line_max is
 * the most bytes a command line may take (the executor's), room the most
 * an argv may take with its pointers, slots the highest {%}.  NULL after
 * a message when -s asks for more than room.
 */
struct builder		*builder_new(const struct opts *, struct input *,
			    const struct template *, const struct template *,
			    size_t, size_t, unsigned int);
void			 builder_free(struct builder *);

/* The builder as a job source (source.h), valid until builder_free(). */
struct source		*builder_source(struct builder *);

/*
 * Skip (number but do not build) the jobs resume_skip() names; the
 * resume state is borrowed until builder_free().
 */
void			 builder_set_resume(struct builder *, const struct resume *);

/*
 * Take the total number of jobs ({##}) from la's count when a job is
 * rendered; la (borrowed until builder_free()) must have read all.
 */
void			 builder_count_from(struct builder *,
			    const struct lookahead *);

/*
 * Keep each job's values (job.h: vals) in the job, for the sinks that
 * name its files, rows or test case by them (run_keep_values() keeps them
 * until the job is released); without {%} they are dropped once built.
 */
void			 builder_keep_values(struct builder *);

/*
 * The values go to a process's stdin, ended by delim, not into a command
 * line (--workers): no command-line limit applies to a record, and one
 * whose value holds delim, which would reach the process as two, is
 * rejected.  Call before the first job is built.
 */
void			 builder_stdin_values(struct builder *, char);

#endif
