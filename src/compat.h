/*
 * GNU parallel's and xargs's options that forkpool refuses, and what to
 * do instead.  docs/compat.md lists every option of those programs; the
 * notes here are word for word its notes for the rows marked unsupported
 * (tests/compat_doc.bats compares them).
 */
#ifndef FORKPOOL_COMPAT_H
#define FORKPOOL_COMPAT_H

#include <stddef.h>

/*
 * Why option is not supported and what to use instead, or NULL if it is
 * not one of the refused options.  option is a word as given, "--name" or
 * "--name=value", or "-c" for a short option; the note is a constant.
 */
const char	*compat_refusal(const char *option);

/*
 * How many refused long options begin with the len bytes of prefix (a
 * name without its "--"); *option is set to the n-th of them, "--name",
 * if there is one.  An abbreviation that is also one of these is
 * ambiguous, as it is in GNU parallel.
 */
size_t		 compat_refused_prefix(const char *prefix, size_t len,
		    size_t n, const char **option);

/*
 * Whether the len bytes of given spell the long option name (both without
 * their "--") as GNU parallel also takes it: without its hyphens
 * (--pipepart, --numberofcores), with hyphens elsewhere (--tag-string),
 * or with colour for color.
 */
int		 compat_same_spelling(const char *given, size_t len,
		    const char *name);

/*
 * The refused long option, "--name", that the len bytes of given spell
 * as compat_same_spelling() reads them, or NULL.
 */
const char	*compat_refused_spelling(const char *given, size_t len);

#endif
