/*
 * The command template: parsed once, expanded for every job.  It decides
 * whether jobs can be exec'd directly or need a shell, and it quotes
 * values for the shell so that a value is always data, never code.
 */
#ifndef FORKPOOL_TEMPLATE_H
#define FORKPOOL_TEMPLATE_H

#include <stddef.h>

#include "opts.h"
#include "util.h"

struct template;

/* What a job's command is made of: its arguments and its numbers. */
struct template_args {
	char * const		*v;	/* the values, NUL-terminated */
	const size_t		*len;
	size_t			 n;
	unsigned long long	 seq;	/* {#} */
	unsigned int		 slot;	/* {%} */
	unsigned long long	 total;	/* {##}: the number of jobs */
	const char		*host;	/* {host}: ":" for this machine;
					   NULL: not known yet */
};

enum template_kind {
	TEMPLATE_COMMAND,	/* a command: quotes, appends {} when absent */
	TEMPLATE_TEXT		/* --tagstring: plain text, values as they are */
};

/* The column names --header read: {name} is {n} for the n-th of v. */
struct column_names {
	const char * const	*v;	/* NULL: the header was not read */
	size_t			 n;
};

/*
 * Parse words (the command's words, borrowed until template_free()).
 * NULL after printing a message naming the problem.
 */
struct template	*template_new(char **, size_t, enum template_kind,
		    const struct opts *);

/*
 * template_new() knowing the column names (borrowed until
 * template_free(); NULL: none were read).  A {word} that names no
 * column is left as it is, with a warning; one that names two is
 * refused.
 */
struct template	*template_new_named(char **, size_t, enum template_kind,
		    const struct opts *, const struct column_names *);
void		 template_free(struct template *);

/* Whether jobs run through the shell. */
int		 template_uses_shell(const struct template *);

/*
 * Whether an expansion depends on the slot ({%}) or its host ({host}),
 * known only at launch (NULL: no template, no).
 */
int		 template_uses_slot(const struct template *);

/*
 * Whether an expansion depends on the number of jobs ({##}, {0#}), known
 * only once every record was read (NULL: no template, no).
 */
int		 template_uses_total(const struct template *);

/*
 * The first replacement string written in the template whose value is
 * the job's (a value, {#}, {##}, a column's name: all but {%}, {0%} and
 * {slot}), as written: *len bytes at the pointer returned, which lives
 * as long as the template.  NULL if there is none; the values forkpool
 * appends to a command that has none are not counted.
 */
const char	*template_job_repl(const struct template *, size_t *);

/* The shell's path (meaningful when template_uses_shell()). */
const char	*template_shell(const struct template *);

/*
 * Why an expansion is not the job's command: a --plus edit that PCRE2
 * gave up on (its match limit) cannot edit the value as asked.
 */
struct template_failure {
	int		 failed;
	size_t		 value;		/* its index in template_args's v */
	char		 why[160];	/* the replacement string and why */
};

/*
 * Expand for one job into out (reset first).  A direct command becomes
 * its argv elements one after another, each NUL-terminated, and the
 * count is returned; a shell command line or a text is returned as one
 * string and the count is 1.  The first edit that fails is noted in
 * *fail (reset first; NULL: not asked), and the value is then left as
 * it is in out.
 */
size_t		 template_expand(const struct template *,
		    const struct template_args *, struct buf *,
		    struct template_failure *);

/*
 * Expand a text template (TEMPLATE_TEXT) once for each value, its
 * replacement strings of every value ({}, {.}, ...) taking that value
 * alone, as a file name does (--transferfile, --return); once when it
 * holds none or there are no values.  The expansions go into out (reset
 * first), each NUL-terminated; returns how many.
 */
size_t		 template_expand_each(const struct template *,
		    const struct template_args *, struct buf *);

/* Bytes the exec'd argv takes for an expansion of the given length. */
size_t		 template_line_cost(const struct template *, size_t);

/* Bytes a command line of this template takes with no values. */
size_t		 template_base_cost(const struct template *);

/* Bytes one more value adds to a command line (exact but for {n}). */
size_t		 template_value_cost(const struct template *, const char *,
		    size_t);

/* Append s as one shell word: plain stays plain, else '...' quoting. */
void		 shell_quote(struct buf *, const char *, size_t);

#endif
