#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "job.h"
#include "opts.h"
#include "output.h"
#include "results.h"
#include "sink.h"
#include "util.h"

/* A table's rows are written when this much is buffered, and at row ends. */
#define FLUSH_AT	(64 * 1024)

/*
 * An escaped value longer than NAME_MAX is cut to this many bytes and
 * given "\#" and 16 hex digits of a hash of the value: 237 + 2 + 16 is
 * NAME_MAX (255).
 */
#define CUT_AT		(NAME_MAX - 2 - 16)

enum results_kind {
	RESULTS_DIR,
	RESULTS_CSV,
	RESULTS_TSV,
	RESULTS_JSON
};

/* A UTF-8 sequence a chunk cut short, waiting for the next chunk. */
struct utf8_state {
	unsigned char	 b[4];
	size_t		 n;
};

struct results {
	struct sink		 sink;
	enum results_kind	 kind;
	const char		*name;		/* as given, for messages */
	struct buf		 dir;		/* NAME without trailing slashes */
	struct capture		*cap;		/* borrowed */
	int			 fd;		/* a table's */
	int			 header_done;
	size_t			 nv;		/* V columns, fixed by the first job */
	size_t			 nv_default;	/* when no job ever starts */
	const char * const	*names;		/* borrowed: --header's, */
	size_t			 nnames;	/* or 0 */
	int			 broken;	/* a write failed: stop the run */
	struct buf		 out;		/* a table's row, buffered */
	struct buf		 path;		/* a job's directory, scratch */
	struct buf		 tmp;
	struct utf8_state	 u8;		/* JSON: of the string written */
	int			 on_stdout;	/* "-.csv" and the like */
	/* When the run started, by the clock file times are taken from. */
	struct timespec		 start;
	struct output		*output;	/* borrowed: where stdout goes */
};

/* Whether s ends in suffix. */
static int
ends_with(const char *s, const char *suffix)
{
	size_t	 n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Whether NAME is a table; see results.h. */
int
results_is_table(const char *name)
{
	return ends_with(name, ".csv") || ends_with(name, ".tsv") ||
	    ends_with(name, ".json");
}

/*
 * Make directory path, and the missing ones above it, up to the first
 * keep bytes (NAME, made at the start).  The leaf is tried first: in a
 * tree being filled, its parent is there.  -1 after a message.
 */
static int
make_dirs(char *path, size_t keep)
{
	char	*slash;
	int	 rv;

	if (mkdir(path, 0777) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT || (slash = strrchr(path, '/')) == NULL ||
	    (size_t)(slash - path) <= keep) {
		warn("--results: cannot create %s", path);
		return -1;
	}
	*slash = '\0';
	rv = make_dirs(path, keep);
	*slash = '/';
	if (rv == -1)
		return -1;
	if (mkdir(path, 0777) == -1 && errno != EEXIST) {
		warn("--results: cannot create %s", path);
		return -1;
	}
	return 0;
}

/* Open the results; see results.h. */
struct results *
results_open(const struct opts *o)
{
	struct results	*r;
	struct stat	 st;
	const char	*name = o->results;
	size_t		 len, i;
	int		 fd;

	r = xcalloc(1, sizeof(*r));
	r->name = name;
	r->fd = -1;
	(void)clock_gettime(CLOCK_REALTIME_COARSE, &r->start);
	r->kind = ends_with(name, ".csv") ? RESULTS_CSV :
	    ends_with(name, ".tsv") ? RESULTS_TSV :
	    ends_with(name, ".json") ? RESULTS_JSON : RESULTS_DIR;
	r->nv_default = o->nsources > 0 ? o->nsources : 1;
	if (o->max_replace_args > 0)
		r->nv_default *= o->max_replace_args;
	if (r->kind == RESULTS_DIR) {
		/* "r/" names r: no empty component in the paths. */
		for (len = strlen(name); len > 1 && name[len - 1] == '/'; len--)
			;
		buf_add(&r->dir, name, len);
		if (mkdir(r->dir.data, 0777) == -1 && (errno != EEXIST ||
		    stat(r->dir.data, &st) == -1 || !S_ISDIR(st.st_mode))) {
			if (errno == EEXIST)
				errno = ENOTDIR;
			warn("--results %s", name);
			goto fail;
		}
		return r;
	}
	/*
	 * "-.csv": stdout, as GNU parallel has it, through the output
	 * collector (results_set_output()), which never blocks.
	 */
	i = strcspn(name, ".");
	if (i == 1 && name[0] == '-') {
		r->on_stdout = 1;
		return r;
	}
	fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd == -1) {
		warn("--results %s", name);
		goto fail;
	}
	r->fd = fd;
	return r;
fail:
	buf_free(&r->dir);
	free(r);
	return NULL;
}

/* Close the results. */
void
results_close(struct results *r)
{
	if (r == NULL)
		return;
	if (r->fd != -1)
		(void)close(r->fd);
	buf_free(&r->dir);
	buf_free(&r->out);
	buf_free(&r->path);
	buf_free(&r->tmp);
	free(r);
}

/* Set the column names; see results.h. */
void
results_set_names(struct results *r, const char * const *names, size_t n)
{
	r->names = names;
	r->nnames = names != NULL ? n : 0;
}

void
results_set_capture(struct results *r, struct capture *cap)
{
	r->cap = cap;
}

/* Where a table on stdout goes. */
void
results_set_output(struct results *r, struct output *out)
{
	r->output = out;
}

/* FNV-1a, 64 bits: tells apart long values that share their start. */
static uint64_t
hash(const char *s, size_t len)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	size_t		 i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * Append value v as one path component that no other value gives:
 * backslash becomes \\ and slash \_ (as GNU parallel writes them); the
 * empty value is \e, "." is \. and ".." is \.. (forms the first two
 * rules never make); a result over NAME_MAX bytes is cut, never inside
 * an escape or a UTF-8 character, and ends in \# and the hash of v.
 */
static void
add_component(struct buf *b, struct buf *tmp, const char *v, size_t len)
{
	char	 tail[24];
	size_t	 i, cut;

	if (len == 0 || strcmp(v, ".") == 0 || strcmp(v, "..") == 0) {
		buf_adds(b, len == 0 ? "\\e" : "\\");
		buf_add(b, v, len);
		return;
	}
	buf_reset(tmp);
	for (i = 0; i < len; i++) {
		if (v[i] == '\\')
			buf_add(tmp, "\\\\", 2);
		else if (v[i] == '/')
			buf_add(tmp, "\\_", 2);
		else
			buf_addc(tmp, v[i]);
	}
	if (tmp->len <= NAME_MAX) {
		buf_add(b, tmp->data, tmp->len);
		return;
	}
	/* An escape is a backslash and one byte: do not end on its first. */
	for (i = 0; i < CUT_AT; i += tmp->data[i] == '\\' ? 2 : 1)
		;
	cut = i > CUT_AT ? i - 2 : i;
	while (cut > 0 && ((unsigned char)tmp->data[cut] & 0xc0) == 0x80)
		cut--;
	buf_add(b, tmp->data, cut);
	(void)snprintf(tail, sizeof(tail), "\\#%016llx",
	    (unsigned long long)hash(v, len));
	buf_adds(b, tail);
}

/*
 * The name of the i-th value's column: --header's, as GNU parallel
 * has it (they repeat for the records of a job of several), else
 * prefix and its number, into name (size bytes).
 */
static const char *
column_name(const struct results *r, size_t i, const char *prefix,
    char *name, size_t size)
{
	if (r->nnames > 0)
		return r->names[i % r->nnames];
	(void)snprintf(name, size, "%s%zu", prefix, i + 1);
	return name;
}

/*
 * The job's directory into r->path: NAME/1/V1/2/V2/... with each value
 * of the job under its place among them, or under its column's name
 * with --header, as GNU parallel does.
 */
static void
job_dir(struct results *r, const struct job *j)
{
	char		 num[24];
	const char	*p = j->vals.data, *name;
	size_t		 i, len;

	buf_reset(&r->path);
	buf_add(&r->path, r->dir.data, r->dir.len);
	for (i = 0; i < j->nvals; i++) {
		len = strlen(p);
		name = column_name(r, i, "", num, sizeof(num));
		buf_addc(&r->path, '/');
		add_component(&r->path, &r->tmp, name, strlen(name));
		buf_addc(&r->path, '/');
		add_component(&r->path, &r->tmp, p, len);
		p += len + 1;
	}
}

/* Whether a file was changed since the run started. */
static int
changed_since(const struct stat *st, const struct timespec *t)
{
	return st->st_mtim.tv_sec > t->tv_sec ||
	    (st->st_mtim.tv_sec == t->tv_sec &&
	    st->st_mtim.tv_nsec >= t->tv_nsec) ||
	    st->st_ctim.tv_sec > t->tv_sec ||
	    (st->st_ctim.tv_sec == t->tv_sec &&
	    st->st_ctim.tv_nsec >= t->tv_nsec);
}

/*
 * A file at path that a job of this run wrote: the job j, whose values
 * are the same, takes the directory over.  The file is removed, not
 * emptied, so that the earlier job, if it still runs, writes on into a
 * file of its own that no name gives; its seq is not written then
 * (capture_owns()).  -1 after a message.
 */
static int
take_over(struct results *r, const struct job *j, int s, size_t dirlen)
{
	struct stat	 st;

	if (lstat(r->path.data, &st) == -1 || !changed_since(&st, &r->start))
		return 0;
	if (s == 0) {
		r->path.data[dirlen] = '\0';
		warnx("--results: job %llu has the same values as an earlier "
		    "job: %s now holds its output only", j->seq, r->path.data);
		r->path.data[dirlen] = '/';
	}
	if (unlink(r->path.data) == -1 && errno != ENOENT) {
		warn("--results: cannot remove %s", r->path.data);
		return -1;
	}
	return 0;
}

/* The capture's opener for a directory; see results.h. */
int
results_open_file(void *ctx, const struct job *j, int s, char **path)
{
	struct results	*r = ctx;
	size_t		 dirlen;
	int		 fd;

	job_dir(r, j);
	dirlen = r->path.len;
	buf_adds(&r->path, s == 0 ? "/stdout" : "/stderr");
	if (take_over(r, j, s, dirlen) == -1)
		return -1;
	fd = open(r->path.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0666);
	if (fd == -1 && errno == ENOENT) {
		r->path.data[dirlen] = '\0';
		if (make_dirs(r->path.data, r->dir.len) == -1)
			return -1;
		r->path.data[dirlen] = '/';
		fd = open(r->path.data, O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0666);
	} else if (fd != -1 && s == 0) {
		/*
		 * The directory was there: seq comes once the output is
		 * whole, so an earlier run's goes now.
		 */
		buf_reset(&r->tmp);
		buf_add(&r->tmp, r->path.data, dirlen);
		buf_adds(&r->tmp, "/seq");
		if (unlink(r->tmp.data) == -1 && errno != ENOENT) {
			warn("--results: cannot remove %s", r->tmp.data);
			(void)close(fd);
			return -1;
		}
	}
	if (fd == -1) {
		warn("--results: cannot create %s", r->path.data);
		return -1;
	}
	*path = xstrdup(r->path.data);
	return fd;
}

/* Write the job's number to seq, next to its stdout. */
static int
write_seq(struct results *r, const struct job *j)
{
	const char	*out = capture_path(j, 0);
	char		 num[24];
	int		 fd, rv;

	/* A later job with the same values took the directory over. */
	if (out == NULL || !capture_owns(j, 0))
		return 0;
	buf_reset(&r->path);
	buf_add(&r->path, out, strlen(out) - strlen("stdout"));
	buf_adds(&r->path, "seq");
	(void)snprintf(num, sizeof(num), "%llu", j->seq);
	if ((fd = open(r->path.data, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0666)) == -1) {
		warn("--results: cannot create %s", r->path.data);
		return -1;
	}
	rv = write_all(fd, num, strlen(num));
	if (close(fd) == -1)
		rv = -1;
	if (rv == -1)
		warn("--results: cannot write %s", r->path.data);
	return rv;
}

/*
 * A job forkpool ended early: its files are gone (capture_drop()); its
 * seq and the directories it leaves empty go too, so that the tree
 * holds the jobs that ended by themselves only.
 */
static void
remove_dir(struct results *r, const struct job *j)
{
	size_t	 dirlen;
	char	*slash;

	job_dir(r, j);
	dirlen = r->path.len;
	/* Unless a job with the same values has its files there. */
	buf_adds(&r->path, "/stdout");
	if (access(r->path.data, F_OK) == 0)
		return;
	r->path.data[dirlen] = '\0';
	r->path.len = dirlen;
	buf_adds(&r->path, "/seq");
	(void)unlink(r->path.data);
	r->path.data[dirlen] = '\0';
	while (r->path.len > r->dir.len && rmdir(r->path.data) == 0 &&
	    (slash = strrchr(r->path.data, '/')) != NULL) {
		*slash = '\0';
		r->path.len = (size_t)(slash - r->path.data);
	}
}

/* Write what the row buffer holds; -1 after a message. */
static int
flush_out(struct results *r)
{
	if (r->broken)
		return -1;
	if (r->on_stdout) {
		/* A stdout that fails or was closed is the output's to tell. */
		output_write(r->output, 0, r->out.data, r->out.len);
		buf_reset(&r->out);
		if (output_status(r->output) != OUTPUT_OK) {
			r->broken = 1;
			return -1;
		}
		return 0;
	}
	if (write_all(r->fd, r->out.data, r->out.len) == -1) {
		warn("--results %s", r->name);
		r->broken = 1;
		return -1;
	}
	buf_reset(&r->out);
	return 0;
}

/* Append to the row; written as it grows past FLUSH_AT. */
static int
put(struct results *r, const char *p, size_t len)
{
	buf_add(&r->out, p, len);
	return r->out.len >= FLUSH_AT ? flush_out(r) : 0;
}

/* Escape bytes for a quoted CSV field: a quote is doubled (RFC 4180). */
static int
csv_bytes(struct results *r, const char *p, size_t len)
{
	const char	*q;
	size_t		 n;

	while (len > 0) {
		if ((q = memchr(p, '"', len)) == NULL)
			return put(r, p, len);
		n = (size_t)(q - p) + 1;
		if (put(r, p, n) == -1 || put(r, "\"", 1) == -1)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* Escape bytes for TSV: TAB, LF, CR and backslash as \t \n \r \\. */
static int
tsv_bytes(struct results *r, const char *p, size_t len)
{
	size_t	 i, plain;
	char	 e[2] = { '\\', 0 };

	for (i = plain = 0; i < len; i++) {
		switch (p[i]) {
		case '\t':
			e[1] = 't';
			break;
		case '\n':
			e[1] = 'n';
			break;
		case '\r':
			e[1] = 'r';
			break;
		case '\\':
			e[1] = '\\';
			break;
		default:
			continue;
		}
		if (put(r, p + plain, i - plain) == -1 || put(r, e, 2) == -1)
			return -1;
		plain = i + 1;
	}
	return put(r, p + plain, len - plain);
}

/* A byte that is no part of valid UTF-8, as \udcXX (surrogateescape). */
static int
json_raw_byte(struct results *r, unsigned char c)
{
	char	 e[8];

	(void)snprintf(e, sizeof(e), "\\udc%02x", c);
	return put(r, e, 6);
}

/* An ASCII byte in a JSON string. */
static int
json_ascii(struct results *r, unsigned char c)
{
	char	 e[8];

	if (c == '"' || c == '\\') {
		e[0] = '\\';
		e[1] = (char)c;
		return put(r, e, 2);
	}
	if (c < 0x20) {
		(void)snprintf(e, sizeof(e), "\\u%04x", c);
		return put(r, e, 6);
	}
	e[0] = (char)c;
	return put(r, e, 1);
}

/*
 * Escape bytes for a JSON string: valid UTF-8 as it is, quote, backslash
 * and control bytes escaped, any other byte as \udcXX.  Unless last, a
 * sequence cut short at the end waits in r->u8 for the next chunk.
 */
static int
json_scan(struct results *r, const unsigned char *s, size_t len, int last)
{
	size_t	 i, plain;
	int	 n;

	for (i = plain = 0; i < len;) {
		if (s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\') {
			i++;
			continue;
		}
		if (put(r, (const char *)s + plain, i - plain) == -1)
			return -1;
		if (s[i] < 0x80)
			n = json_ascii(r, s[i]) == -1 ? -2 : 1;
		else if ((n = utf8_len(s + i, len - i)) == 0 && !last) {
			memcpy(r->u8.b, s + i, len - i);
			r->u8.n = len - i;
			return 0;
		} else if (n <= 0)
			n = json_raw_byte(r, s[i]) == -1 ? -2 : 1;
		else if (put(r, (const char *)s + i, (size_t)n) == -1)
			n = -2;
		if (n == -2)
			return -1;
		i += (size_t)n;
		plain = i;
	}
	return put(r, (const char *)s + plain, len - plain);
}

/*
 * Escape a chunk of a JSON string, taking up first a sequence the last
 * chunk cut short.
 */
static int
json_bytes(struct results *r, const char *p, size_t len)
{
	const unsigned char	*s = (const unsigned char *)p;
	unsigned char		 seq[4];
	size_t			 n;

	while (r->u8.n > 0 && len > 0) {
		r->u8.b[r->u8.n++] = *s++;
		len--;
		if (utf8_len(r->u8.b, r->u8.n) == 0)
			continue;
		/* Whole or broken: json_scan() decides, and may keep a start. */
		n = r->u8.n;
		memcpy(seq, r->u8.b, n);
		r->u8.n = 0;
		if (json_scan(r, seq, n, 0) == -1)
			return -1;
	}
	return json_scan(r, s, len, 0);
}

/* The string ends: a sequence still waiting was cut short for good. */
static int
json_flush_seq(struct results *r)
{
	unsigned char	 seq[4];
	size_t		 n = r->u8.n;

	memcpy(seq, r->u8.b, n);
	r->u8.n = 0;
	return json_scan(r, seq, n, 1);
}

/* capture_each()'s callback: a chunk of a stream, escaped for the table. */
static int
stream_chunk(void *ctx, const char *p, size_t len)
{
	struct results	*r = ctx;

	switch (r->kind) {
	case RESULTS_CSV:
		return csv_bytes(r, p, len);
	case RESULTS_TSV:
		return tsv_bytes(r, p, len);
	case RESULTS_JSON:
		return json_bytes(r, p, len);
	case RESULTS_DIR:
		break;
	}
	return 0;
}

/* The separator before a field (none before the first). */
static int
separator(struct results *r, int first)
{
	if (first || r->kind == RESULTS_JSON)
		return 0;
	return put(r, r->kind == RESULTS_CSV ? "," : "\t", 1);
}

/*
 * One text field whose bytes are all at hand: CSV quotes it when it
 * holds a comma, quote, CR or LF; JSON makes it a string, with its name
 * unless name is NULL.
 */
static int
text_field(struct results *r, const char *name, const char *p, size_t len,
    int first)
{
	size_t	 i;

	if (separator(r, first) == -1)
		return -1;
	switch (r->kind) {
	case RESULTS_CSV:
		for (i = 0; i < len && p[i] != ',' && p[i] != '"' &&
		    p[i] != '\r' && p[i] != '\n'; i++)
			;
		if (i == len)
			return put(r, p, len);
		if (put(r, "\"", 1) == -1 || csv_bytes(r, p, len) == -1)
			return -1;
		return put(r, "\"", 1);
	case RESULTS_TSV:
		return tsv_bytes(r, p, len);
	case RESULTS_JSON:
		if (name != NULL) {
			buf_reset(&r->tmp);
			buf_adds(&r->tmp, ", \"");
			buf_adds(&r->tmp, name);
			buf_adds(&r->tmp, "\": ");
			if (put(r, r->tmp.data, r->tmp.len) == -1)
				return -1;
		}
		memset(&r->u8, 0, sizeof(r->u8));
		if (put(r, "\"", 1) == -1 || json_bytes(r, p, len) == -1 ||
		    json_flush_seq(r) == -1)
			return -1;
		return put(r, "\"", 1);
	case RESULTS_DIR:
		break;
	}
	return 0;
}

/*
 * A number (already formatted; empty for unknown, JSON's null) named
 * name.
 */
static int
number_field(struct results *r, const char *name, const char *num, int first)
{
	if (r->kind != RESULTS_JSON)
		return separator(r, first) == -1 ? -1 :
		    put(r, num, strlen(num));
	buf_reset(&r->tmp);
	buf_adds(&r->tmp, first ? "{ \"" : ", \"");
	buf_adds(&r->tmp, name);
	buf_adds(&r->tmp, "\": ");
	buf_adds(&r->tmp, num[0] != '\0' ? num : "null");
	return put(r, r->tmp.data, r->tmp.len);
}

/* A stream of the job, read back from the capture, as one field. */
static int
stream_field(struct results *r, const struct job *j, int s)
{
	int	 quote;

	if (r->kind == RESULTS_JSON) {
		buf_reset(&r->tmp);
		buf_adds(&r->tmp, s == 0 ? ", \"Stdout\": \"" :
		    ", \"Stderr\": \"");
		memset(&r->u8, 0, sizeof(r->u8));
		if (put(r, r->tmp.data, r->tmp.len) == -1 ||
		    capture_each(r->cap, j, s, stream_chunk, r) == -1 ||
		    json_flush_seq(r) == -1)
			return -1;
		return put(r, "\"", 1);
	}
	if (separator(r, 0) == -1)
		return -1;
	/* Not known before it is read: any non-empty CSV field is quoted. */
	quote = r->kind == RESULTS_CSV && capture_size(j, s) > 0;
	if (quote && put(r, "\"", 1) == -1)
		return -1;
	if (capture_each(r->cap, j, s, stream_chunk, r) == -1)
		return -1;
	return quote ? put(r, "\"", 1) : 0;
}

/* The end of a row: CRLF for CSV (RFC 4180), LF for TSV, } LF for JSON. */
static int
end_row(struct results *r)
{
	if (r->kind == RESULTS_CSV)
		return put(r, "\r\n", 2);
	return put(r, r->kind == RESULTS_JSON ? " }\n" : "\n",
	    r->kind == RESULTS_JSON ? 3 : 1);
}

static const char *const columns[] = {
	"Seq", "Host", "Starttime", "JobRuntime", "Send", "Receive",
	"Exitval", "Signal", "Command"
};
static const char *const more_columns[] = {
	"Stdout", "Stderr", "UserTime", "SystemTime", "MaxRSS"
};

/*
 * The header row of a CSV or TSV table, with nv V columns, named by
 * --header's names when there are some.
 */
static int
write_header(struct results *r, size_t nv)
{
	char		 num[32];
	const char	*name;
	size_t		 i;
	int		 first = 1;

	r->header_done = 1;
	r->nv = nv;
	if (r->kind == RESULTS_JSON)
		return 0;
	for (i = 0; i < sizeof(columns) / sizeof(columns[0]); i++, first = 0)
		if (text_field(r, NULL, columns[i], strlen(columns[i]),
		    first) == -1)
			return -1;
	for (i = 0; i < nv; i++) {
		name = column_name(r, i, "V", num, sizeof(num));
		if (text_field(r, NULL, name, strlen(name), 0) == -1)
			return -1;
	}
	for (i = 0; i < sizeof(more_columns) / sizeof(more_columns[0]); i++)
		if (text_field(r, NULL, more_columns[i],
		    strlen(more_columns[i]), 0) == -1)
			return -1;
	return end_row(r) == -1 ? -1 : flush_out(r);
}

/*
 * The V fields: in CSV and TSV exactly nv of them, the missing ones
 * empty and those past nv left out; in JSON the array V of them all.
 */
static int
value_fields(struct results *r, const struct job *j)
{
	const char	*p = j->vals.data;
	size_t		 i, len, n;

	n = r->kind == RESULTS_JSON ? j->nvals : r->nv;
	if (r->kind == RESULTS_JSON && put(r, ", \"V\": [", 8) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		len = i < j->nvals ? strlen(p) : 0;
		if (r->kind == RESULTS_JSON && i > 0 && put(r, ",", 1) == -1)
			return -1;
		if (r->kind == RESULTS_JSON && put(r, " ", 1) == -1)
			return -1;
		if (text_field(r, NULL, i < j->nvals ? p : "", len, 0) == -1)
			return -1;
		if (i < j->nvals)
			p += len + 1;
	}
	if (r->kind == RESULTS_JSON)
		return put(r, n > 0 ? " ]" : "]", n > 0 ? 2 : 1);
	return 0;
}

/* Seconds from microseconds, or "" when unknown. */
static void
format_us(char *s, size_t size, long long us)
{
	if (us < 0)
		s[0] = '\0';
	else
		(void)snprintf(s, size, "%.3f", us / 1e6);
}

/*
 * The job's row: GNU parallel's columns (Receive is the bytes of
 * stdout; Exitval -1 for a job ended by --timeout and Signal the signal
 * that ended a job, as in the joblog), then the CPU times and peak RSS.
 */
static int
write_row(struct results *r, const struct job *j)
{
	char	 n[9][32];
	int	 sig = 0, code = j->exit_code;
	size_t	 i;

	if (j->started && j->signal != 0) {
		sig = j->signal;
		code = 0;
	}
	if (j->timed_out)
		code = -1;
	(void)snprintf(n[0], sizeof(n[0]), "%llu", j->seq);
	(void)snprintf(n[1], sizeof(n[1]), "%.3f", j->start_time);
	(void)snprintf(n[2], sizeof(n[2]), "%.3f",
	    (j->end_ms - j->start_ms) / 1000.0);
	(void)snprintf(n[3], sizeof(n[3]), "%llu", capture_size(j, 0));
	(void)snprintf(n[4], sizeof(n[4]), "%d", code);
	(void)snprintf(n[5], sizeof(n[5]), "%d", sig);
	format_us(n[6], sizeof(n[6]), j->utime_us);
	format_us(n[7], sizeof(n[7]), j->stime_us);
	/* As the joblog's: a worker's record and delimiter, else 0. */
	(void)snprintf(n[8], sizeof(n[8]), "%llu", j->sent);
	buf_reset(&r->tmp);
	job_display(j, &r->tmp);
	/* job_display() may use tmp no more: the command is copied out. */
	buf_reset(&r->path);
	buf_add(&r->path, r->tmp.data, r->tmp.len);
	if (number_field(r, "Seq", n[0], 1) == -1 ||
	    text_field(r, "Host", j->host != NULL ? j->host : ":",
	    strlen(j->host != NULL ? j->host : ":"), 0) == -1 ||
	    number_field(r, "Starttime", n[1], 0) == -1 ||
	    number_field(r, "JobRuntime", n[2], 0) == -1 ||
	    number_field(r, "Send", n[8], 0) == -1 ||
	    number_field(r, "Receive", n[3], 0) == -1 ||
	    number_field(r, "Exitval", n[4], 0) == -1 ||
	    number_field(r, "Signal", n[5], 0) == -1 ||
	    text_field(r, "Command", r->path.data, r->path.len, 0) == -1 ||
	    value_fields(r, j) == -1)
		return -1;
	for (i = 0; i < 2; i++)
		if (stream_field(r, j, (int)i) == -1)
			return -1;
	if (j->maxrss_kb >= 0)
		(void)snprintf(n[0], sizeof(n[0]), "%ld", j->maxrss_kb);
	else
		n[0][0] = '\0';
	if (number_field(r, "UserTime", n[6], 0) == -1 ||
	    number_field(r, "SystemTime", n[7], 0) == -1 ||
	    number_field(r, "MaxRSS", n[0], 0) == -1 || end_row(r) == -1)
		return -1;
	return flush_out(r);
}

/* Sink: the first job to start fixes the table's V columns. */
static void
results_started(void *ctx, const struct job *j)
{
	struct results	*r = ctx;

	if (r->kind == RESULTS_DIR || r->header_done)
		return;
	(void)write_header(r, j->nvals);
}

/* Sink: the job's row or seq file, or, if it was ended, no trace of it. */
static int
results_printed(void *ctx, const struct job *j)
{
	struct results	*r = ctx;

	if (r->kind == RESULTS_DIR) {
		if (j->interrupted) {
			remove_dir(r, j);
			return 0;
		}
		return write_seq(r, j);
	}
	if (r->broken)
		return -1;
	if (j->interrupted)
		return 0;
	if (write_row(r, j) == -1) {
		/* Half a row is not left half written in the buffer. */
		buf_reset(&r->out);
		r->broken = 1;
		return -1;
	}
	return 0;
}

/* Sink: a table no job was written to still has its header. */
static void
results_end(void *ctx)
{
	struct results	*r = ctx;

	if (r->kind != RESULTS_DIR && !r->header_done)
		(void)write_header(r, r->nv_default);
}

static const struct sink_ops	results_ops = {
	.started = results_started,
	.printed = results_printed,
	.close = results_end,
};

/* The results as a sink; see results.h. */
struct sink *
results_sink(struct results *r)
{
	r->sink.ops = &results_ops;
	r->sink.ctx = r;
	return &r->sink;
}
