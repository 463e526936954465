/*
 * Small helpers shared by every subsystem: allocation that cannot fail
 * (running out of memory is fatal, as in OpenBSD xargs and git's xmalloc)
 * and a growable byte buffer.
 */
#ifndef FORKPOOL_UTIL_H
#define FORKPOOL_UTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Exit status for forkpool's own errors (GNU parallel's contract). */
#define EXIT_FORKPOOL_ERROR	255

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);

/*
 * A growable byte buffer.  data is owned by the buffer, is always
 * NUL-terminated once anything was added, and may move on every add.
 */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

void	 buf_reserve(struct buf *, size_t);
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_addc(struct buf *, char);
void	 buf_adds(struct buf *, const char *);
void	 buf_reset(struct buf *);
void	 buf_free(struct buf *);

/* An argv under construction: v is NULL-terminated, its strings borrowed. */
struct argv {
	char	**v;
	size_t	 n;
};

/* Append s (borrowed) to the argv. */
void	 argv_add(struct argv *, const char *);

/*
 * The file that running program name would run, searched in PATH as
 * execvp(3) does (name itself when it has a slash); owned by the caller.
 */
char	*find_program(const char *);

/*
 * Start argv, looked for in PATH, with stdin, stdout and stderr on
 * /dev/null, and in a process group of its own if own_group; 0 with
 * *pid set, or an errno.
 */
int	 spawn_quiet(char *const [], int, pid_t *);

/* Split s into words at blanks: *bufp owns their bytes; *np counts them. */
char	**split_words(const char *, char **, size_t *);

/*
 * What a take() function returns when it moved nothing and its caller
 * must read the bytes itself (the runner's and the output collector's).
 */
#define TAKE_READ	(-2)

/*
 * The length of the UTF-8 sequence at s (n bytes there): its length when
 * it is whole and well-formed (RFC 3629: no overlong forms, surrogates or
 * code points above U+10FFFF), 0 when it is so far but cut short, -1 when
 * s[0] starts none.
 */
int	 utf8_len(const unsigned char *, size_t);

/*
 * Before any output file is opened, and so emptied: whether path can be
 * opened for writing, without changing it (a file that was not there is
 * removed again; what is no regular file is not tried); -1 after a
 * message naming opt and path.
 */
int	 check_writable(const char *, const char *);

/*
 * A new file in directory dir, open for reading and writing: unlinked at
 * once, so that nothing is left behind even if forkpool is killed, or,
 * with keep, kept, its name (allocated) in *keep.  -1 with errno set.
 */
int	 temp_file(const char *, char **);

/* Whether a temporary file can be made in dir; -1 after a message. */
int	 check_tmpdir(const char *);

/*
 * A duration as GNU parallel writes it, in milliseconds: seconds with an
 * optional fraction ("90", "1.5"), or numbers each followed by a unit s,
 * m, h or d, in either case, and added up ("1d2h3m4.5s"; a last number
 * without a unit is seconds).  From 0 to maxsecs seconds; otherwise 0
 * with *errstr set to a phrase for a message, as strtonum(3) does.
 */
long long	 duration_ms(const char *, long long, const char **);

/* Write all of buf to fd, retrying on EINTR and short writes; -1 on error. */
int	 write_all(int, const void *, size_t);

#endif
