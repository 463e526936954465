#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "job.h"
#include "spill.h"
#include "util.h"

/* The most one splice(2) or read moves. */
#define CHUNK	(64 * 1024)

/* A run of a stream's bytes in the store. */
struct extent {
	off_t	 off;
	size_t	 len;
};

/* One stream of one job: a named file, or extents of the store. */
struct stream_cap {
	int			 fd;	/* the named file while it runs */
	char			*path;
	dev_t			 dev;	/* which file that is, for */
	ino_t			 ino;	/* capture_owns() */
	struct extent		*ext;
	size_t			 next;
	size_t			 capext;
	unsigned long long	 size;
};

struct capture_job {
	struct stream_cap	 s[2];
};

struct capture {
	int			 keeps;
	int			 prints;
	capture_opener		*open;
	void			*open_ctx;
	struct spill		*store;
	char			*iobuf;
	int			 no_splice;	/* the file system refuses */
};

/* A capture of the streams in keeps, of which those in prints print. */
struct capture *
capture_new(const char *tmpdir, int keeps, int prints)
{
	struct capture	*cap;

	cap = xcalloc(1, sizeof(*cap));
	cap->keeps = keeps;
	cap->prints = prints & keeps;
	cap->store = spill_new(tmpdir);
	return cap;
}

void
capture_free(struct capture *cap)
{
	if (cap == NULL)
		return;
	spill_free(cap->store);
	free(cap->iobuf);
	free(cap);
}

/* Who names the files; without one, every stream is in the store. */
void
capture_set_opener(struct capture *cap, capture_opener *fn, void *ctx)
{
	cap->open = fn;
	cap->open_ctx = ctx;
}

/* A new file in the temporary directory for stdout, for --files. */
int
capture_open_temp(void *ctx, const struct job *j, int s, char **path)
{
	const char	*tmpdir = ctx;
	int		 fd;

	(void)j;
	if (s != 0)
		return CAPTURE_STORE;
	if ((fd = temp_file(tmpdir, path)) == -1)
		warn("cannot create a file for a job's output in %s", tmpdir);
	return fd;
}

/* Whether stream s is captured. */
int
capture_keeps(const struct capture *cap, int s)
{
	return cap != NULL && (cap->keeps & (1 << s)) != 0;
}

/* Whether stream s is printed as well as captured. */
int
capture_prints(const struct capture *cap, int s)
{
	return cap == NULL || (cap->keeps & (1 << s)) == 0 ||
	    (cap->prints & (1 << s)) != 0;
}

/* Open the job's files; a retry keeps those it has. */
int
capture_start(struct capture *cap, struct job *j)
{
	struct stream_cap	*sc;
	struct stat		 st;
	int			 s, fd;

	if (j->cap != NULL)
		return 0;
	j->cap = xcalloc(1, sizeof(*j->cap));
	for (s = 0; s < 2; s++) {
		sc = &j->cap->s[s];
		sc->fd = -1;
		if (!capture_keeps(cap, s) || cap->open == NULL)
			continue;
		if ((fd = cap->open(cap->open_ctx, j, s, &sc->path)) == -1)
			return -1;
		if (fd < 0)
			continue;
		sc->fd = fd;
		if (fstat(fd, &st) == 0) {
			sc->dev = st.st_dev;
			sc->ino = st.st_ino;
		}
	}
	return 0;
}

/* Whether the job's stream s has a file that its name still gives. */
int
capture_owns(const struct job *j, int s)
{
	const struct stream_cap	*sc;
	struct stat		 st;

	if (j->cap == NULL || (sc = &j->cap->s[s])->path == NULL)
		return 0;
	return stat(sc->path, &st) == 0 && st.st_dev == sc->dev &&
	    st.st_ino == sc->ino;
}

/* Note where n bytes of the store went, after what the stream has. */
static void
add_extent(struct stream_cap *sc, off_t off, size_t n)
{
	if (sc->next > 0 && sc->ext[sc->next - 1].off +
	    (off_t)sc->ext[sc->next - 1].len == off) {
		sc->ext[sc->next - 1].len += n;
		return;
	}
	if (sc->next == sc->capext) {
		sc->capext = sc->capext == 0 ? 4 : sc->capext * 2;
		sc->ext = xreallocarray(sc->ext, sc->capext, sizeof(*sc->ext));
	}
	sc->ext[sc->next].off = off;
	sc->ext[sc->next].len = n;
	sc->next++;
}

/* Bytes of the job's stream s. */
int
capture_write(struct capture *cap, struct job *j, int s, const char *p,
    size_t len)
{
	struct stream_cap	*sc = &j->cap->s[s];
	ssize_t			 n;
	off_t			 off;

	sc->size += len;
	if (sc->path != NULL) {
		if (write_all(sc->fd, p, len) == -1) {
			warn("cannot write output to %s", sc->path);
			return -1;
		}
		return 0;
	}
	for (; len > 0; len -= (size_t)n, p += n) {
		if ((n = spill_write(cap->store, p, len, &off)) == -1)
			return -1;
		add_extent(sc, off, (size_t)n);
	}
	return 0;
}

/* Move bytes of the job's stream s from the pipe in without reading them. */
ssize_t
capture_take(struct capture *cap, struct job *j, int s, int in)
{
	struct stream_cap	*sc = &j->cap->s[s];
	ssize_t			 n;
	off_t			 off;

	if (cap->no_splice)
		return TAKE_READ;
	if (sc->path == NULL) {
		n = spill_splice(cap->store, in, CHUNK, &off);
		if (n > 0)
			add_extent(sc, off, (size_t)n);
	} else {
		do {
			n = splice(in, NULL, sc->fd, NULL, CHUNK,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		} while (n == -1 && errno == EINTR);
		if (n == -1 && errno != EAGAIN && errno != EINVAL)
			warn("cannot write output to %s", sc->path);
	}
	if (n == -1 && errno == EINVAL) {
		cap->no_splice = 1;
		return TAKE_READ;
	}
	if (n > 0)
		sc->size += (size_t)n;
	return n;
}

/* Give back the stream's part of the store. */
static void
clear_store(struct capture *cap, struct stream_cap *sc)
{
	size_t	 i;

	for (i = 0; i < sc->next; i++)
		spill_release(cap->store, sc->ext[i].off, sc->ext[i].len);
	free(sc->ext);
	sc->ext = NULL;
	sc->next = sc->capext = 0;
}

/* Forget what the job wrote so far. */
int
capture_reset(struct capture *cap, struct job *j)
{
	struct stream_cap	*sc;
	int			 s;

	if (j->cap == NULL)
		return 0;
	for (s = 0; s < 2; s++) {
		sc = &j->cap->s[s];
		sc->size = 0;
		clear_store(cap, sc);
		if (sc->fd != -1 && (ftruncate(sc->fd, 0) == -1 ||
		    lseek(sc->fd, 0, SEEK_SET) == -1)) {
			warn("cannot empty %s", sc->path);
			return -1;
		}
	}
	return 0;
}

/* The job ended: close its files, which are complete now. */
int
capture_finish(struct capture *cap, struct job *j)
{
	struct stream_cap	*sc;
	int			 s, rc = 0;

	(void)cap;
	if (j->cap == NULL)
		return 0;
	for (s = 0; s < 2; s++) {
		sc = &j->cap->s[s];
		if (sc->fd == -1)
			continue;
		if (close(sc->fd) == -1) {
			warn("cannot write output to %s", sc->path);
			rc = -1;
		}
		sc->fd = -1;
	}
	return rc;
}

/* The job ended early: remove its files. */
void
capture_drop(struct capture *cap, struct job *j)
{
	struct stream_cap	*sc;
	int			 s;

	if (j->cap == NULL)
		return;
	(void)capture_finish(cap, j);
	for (s = 0; s < 2; s++) {
		sc = &j->cap->s[s];
		/* Another job's file by that name now is left alone. */
		if (capture_owns(j, s) && unlink(sc->path) == -1 &&
		    errno != ENOENT)
			warn("cannot remove %s", sc->path);
		free(sc->path);
		sc->path = NULL;
		sc->size = 0;
		clear_store(cap, sc);
	}
}

/* The job is released. */
void
capture_release(struct capture *cap, struct job *j)
{
	int	 s;

	if (j->cap == NULL)
		return;
	(void)capture_finish(cap, j);
	for (s = 0; s < 2; s++) {
		clear_store(cap, &j->cap->s[s]);
		free(j->cap->s[s].path);
	}
	free(j->cap);
	j->cap = NULL;
}

/* How many bytes the job wrote to stream s. */
unsigned long long
capture_size(const struct job *j, int s)
{
	return j->cap != NULL ? j->cap->s[s].size : 0;
}

/* The name of the file holding the job's stream s, or NULL. */
const char *
capture_path(const struct job *j, int s)
{
	return j->cap != NULL ? j->cap->s[s].path : NULL;
}

/* Hand a named file's bytes to fn. */
static int
each_in_file(struct capture *cap, const struct stream_cap *sc,
    int (*fn)(void *, const char *, size_t), void *ctx)
{
	ssize_t	 n;
	int	 fd, rc = 0;

	if ((fd = open(sc->path, O_RDONLY | O_CLOEXEC)) == -1) {
		warn("cannot read %s", sc->path);
		return -1;
	}
	for (;;) {
		if ((n = read(fd, cap->iobuf, CHUNK)) == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			warn("cannot read %s", sc->path);
			rc = -1;
		}
		if (n <= 0 || rc == -1)
			break;
		if (fn(ctx, cap->iobuf, (size_t)n) == -1) {
			rc = -1;
			break;
		}
	}
	(void)close(fd);
	return rc;
}

/* Hand what the job wrote to stream s to fn, in order. */
int
capture_each(struct capture *cap, const struct job *j, int s,
    int (*fn)(void *, const char *, size_t), void *ctx)
{
	const struct stream_cap	*sc;
	size_t			 i, left, want;
	ssize_t			 n;
	off_t			 off;

	if (j->cap == NULL)
		return 0;
	sc = &j->cap->s[s];
	if (cap->iobuf == NULL)
		cap->iobuf = xmalloc(CHUNK);
	if (sc->path != NULL)
		return each_in_file(cap, sc, fn, ctx);
	for (i = 0; i < sc->next; i++) {
		off = sc->ext[i].off;
		for (left = sc->ext[i].len; left > 0; left -= (size_t)n) {
			want = left > CHUNK ? CHUNK : left;
			if ((n = spill_read(cap->store, cap->iobuf, want,
			    off)) == -1 || fn(ctx, cap->iobuf, (size_t)n) == -1)
				return -1;
			off += n;
		}
	}
	return 0;
}
