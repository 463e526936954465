#include <sys/stat.h>

#include <spawn.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* Allocate n bytes; running out of memory ends forkpool with status 255. */
void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		err(EXIT_FORKPOOL_ERROR, "malloc");
	return p;
}

/* Allocate a zeroed array of n elements of size sz. */
void *
xcalloc(size_t n, size_t sz)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, sz == 0 ? 1 : sz)) == NULL)
		err(EXIT_FORKPOOL_ERROR, "calloc");
	return p;
}

/* Resize an array with overflow checking. */
void *
xreallocarray(void *p, size_t n, size_t sz)
{
	if ((p = reallocarray(p, n == 0 ? 1 : n, sz == 0 ? 1 : sz)) == NULL)
		err(EXIT_FORKPOOL_ERROR, "realloc");
	return p;
}

/* Duplicate a string. */
char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		err(EXIT_FORKPOOL_ERROR, "strdup");
	return p;
}

/* Make room for at least extra more bytes plus a terminating NUL. */
void
buf_reserve(struct buf *b, size_t extra)
{
	size_t	 want;

	if (extra >= (size_t)-1 - b->len - 1)
		errx(EXIT_FORKPOOL_ERROR, "buffer too large");
	want = b->len + extra + 1;
	if (want <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 64;
	while (b->cap < want)
		b->cap = b->cap > (size_t)-1 / 2 ? want : b->cap * 2;
	b->data = xreallocarray(b->data, b->cap, 1);
}

/* Append len bytes. */
void
buf_add(struct buf *b, const void *p, size_t len)
{
	buf_reserve(b, len);
	if (len > 0)
		memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
}

/* Append one byte. */
void
buf_addc(struct buf *b, char c)
{
	buf_reserve(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

/* Append a NUL-terminated string. */
void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Empty the buffer, keeping its memory. */
void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Release the buffer's memory. */
void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Write everything, retrying after EINTR and short writes. */
int
write_all(int fd, const void *p, size_t len)
{
	const char	*s = p;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, s, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A duration in milliseconds; see util.h. */
long long
duration_ms(const char *s, long long maxsecs, const char **errstr)
{
	static const char	 units[] = "smhd";
	static const double	 scale[] = { 1, 60, 3600, 86400 };
	const char		*p = s, *u;
	char			 num[64];
	size_t			 len;
	double			 secs = 0;

	*errstr = "not a duration such as 90, 1.5s or 1d2h3m4.5s";
	if (*p == '\0')
		return 0;
	while (*p != '\0') {
		/*
		 * Digits and one point only: strtod() alone would also take
		 * blanks, a sign, an exponent, hex, "inf" and "nan".
		 */
		len = strspn(p, "0123456789");
		if (p[len] == '.')
			len += 1 + strspn(p + len + 1, "0123456789");
		if (len == 0 || (len == 1 && *p == '.') || len >= sizeof(num))
			return 0;
		memcpy(num, p, len);
		num[len] = '\0';
		p += len;
		if (*p == '\0')
			u = units;
		else if ((u = strchr(units, (char)(*p | 0x20))) == NULL)
			return 0;
		else
			p++;
		secs += strtod(num, NULL) * scale[u - units];
	}
	if (secs > (double)maxsecs) {
		*errstr = "too large";
		return 0;
	}
	*errstr = NULL;
	return (long long)(secs * 1000 + 0.5);
}

/* The length of the well-formed UTF-8 sequence at s; see util.h. */
int
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char	 lo = 0x80, hi = 0xbf;
	int		 len, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return -1;
	for (i = 1; i < len; i++) {
		if ((size_t)i == n)
			return 0;
		if (s[i] < lo || s[i] > hi)
			return -1;
		lo = 0x80;
		hi = 0xbf;
	}
	return len;
}

/* Whether path can be written, left as it was; see util.h. */
int
check_writable(const char *opt, const char *path)
{
	struct stat	 st;
	int		 fd, existed;

	/*
	 * Only a regular file is emptied by opening it; opening a FIFO or a
	 * device twice could change what its reader sees.
	 */
	existed = stat(path, &st) == 0;
	if (existed && !S_ISREG(st.st_mode))
		return 0;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK,
	    0666)) == -1) {
		warn("%s %s", opt, path);
		return -1;
	}
	(void)close(fd);
	if (!existed)
		(void)unlink(path);
	return 0;
}

/* A new file in dir, unlinked unless its name is wanted; see util.h. */
int
temp_file(const char *dir, char **keep)
{
	struct buf	 name = { 0 };
	int		 fd, saved;

	buf_adds(&name, dir);
	buf_adds(&name, "/forkpool.XXXXXX");
	if ((fd = mkostemp(name.data, O_CLOEXEC)) == -1) {
		saved = errno;
		buf_free(&name);
		errno = saved;
		return -1;
	}
	if (keep != NULL) {
		*keep = name.data;
		return fd;
	}
	(void)unlink(name.data);
	buf_free(&name);
	return fd;
}

/* Whether a temporary file can be made in dir; see util.h. */
int
check_tmpdir(const char *dir)
{
	int	 fd;

	if ((fd = temp_file(dir, NULL)) == -1) {
		warn("cannot create a temporary file in %s", dir);
		return -1;
	}
	(void)close(fd);
	return 0;
}

/* Append s (borrowed) to the argv. */
void
argv_add(struct argv *a, const char *s)
{
	a->v = xreallocarray(a->v, a->n + 2, sizeof(*a->v));
	a->v[a->n++] = (char *)s;
	a->v[a->n] = NULL;
}

/* Split s into words at blanks: *bufp owns their bytes. */
char **
split_words(const char *s, char **bufp, size_t *np)
{
	char	**v = NULL, *p, *save = NULL, *w;
	size_t	 n = 0;

	*bufp = xstrdup(s);
	for (p = *bufp; (w = strtok_r(p, " \t\n", &save)) != NULL; p = NULL) {
		v = xreallocarray(v, n + 2, sizeof(*v));
		v[n++] = w;
	}
	if (v == NULL)
		v = xcalloc(1, sizeof(*v));
	v[n] = NULL;
	*np = n;
	return v;
}

/* The program file would run, searched in PATH as execvp(3) does. */
char *
find_program(const char *name)
{
	struct buf	 b = { 0 };
	const char	*path = getenv("PATH"), *p, *e;

	if (strchr(name, '/') != NULL || path == NULL)
		return xstrdup(name);
	for (p = path; ; p = e + 1) {
		e = strchr(p, ':');
		buf_reset(&b);
		if (e == NULL)
			e = p + strlen(p);
		if (e > p)
			buf_add(&b, p, (size_t)(e - p));
		else
			buf_addc(&b, '.');
		buf_addc(&b, '/');
		buf_adds(&b, name);
		if (access(b.data, X_OK) == 0 || *e == '\0')
			break;
	}
	return b.data;
}

/* See util.h. */
int
spawn_quiet(char *const argv[], int own_group, pid_t *pid)
{
	extern char			**environ;
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	int				 rc;

	posix_spawnattr_init(&attr);
	if (own_group) {
		(void)posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
		(void)posix_spawnattr_setpgroup(&attr, 0);
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
	    O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null",
	    O_WRONLY, 0);
	rc = posix_spawnp(pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return rc;
}
