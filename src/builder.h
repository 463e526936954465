/*
 * The job builder: takes records from the input, groups them into jobs
 * (-n, -N, -X, -s) and expands the command template and the tag for each.
 * A record that cannot become a job (a NUL byte inside, too long for the
 * command line) is reported here, with its record number, and counted.
 */
#ifndef FORKPOOL_BUILDER_H
#define FORKPOOL_BUILDER_H

struct builder;
struct input;
struct job;
struct opts;
struct template;

enum build_status {
	BUILD_JOB,		/* *jobp is a new job, owned by the caller */
	BUILD_WAIT,		/* input must be polled (builder_fd()) */
	BUILD_DONE,		/* no more jobs */
	BUILD_ERROR,		/* input failed; a message was printed */
	BUILD_REJECTED		/* a record was reported and counted as a
				   failed job; call again for the next */
};

/* The builder borrows every argument until builder_free(). */
struct builder		*builder_new(const struct opts *, struct input *,
			    const struct template *, const struct template *);
void			 builder_free(struct builder *);

/* The next job, to run in slot. */
enum build_status	 builder_next(struct builder *, unsigned int,
			    struct job **);

/* The fd to poll after BUILD_WAIT. */
int			 builder_fd(const struct builder *);

/*
 * Skip (number but do not build) the jobs resume_skip() names; the
 * resume state is borrowed until builder_free().
 */
struct resume;
void			 builder_set_resume(struct builder *, const struct resume *);

/* Records reported and counted as failed jobs so far. */
unsigned long long	 builder_rejected(const struct builder *);

/* The input record number of the record rejected last. */
unsigned long long	 builder_last_rejected(const struct builder *);

#endif
