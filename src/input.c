#include <sys/types.h>

#include <err.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH	8
#include <pcre2.h>

#include "input.h"
#include "opts.h"
#include "reader.h"
#include "shuffle.h"
#include "util.h"

/* One value of a source. */
struct value {
	char	*s;			/* NUL-terminated; NULL if too_long */
	size_t	 len;
	int	 bad;			/* holds a NUL byte */
	int	 too_long;		/* over the reader's limit: not held */
	int	 blank;			/* too_long: every byte is blank */
};

/* A column of the current tuple: a piece of one of its values. */
struct column {
	const char	*p;
	size_t		 len;
};

/* A source read whole. */
struct source {
	struct value	*values;
	size_t		 n;
	int		 owns;		/* values[].s were allocated */
};

/* Where a scan of a CSV record stands (RFC 4180, section 2). */
enum csv_state {
	CSV_START,		/* at the start of a field */
	CSV_PLAIN,		/* in a field that began without a quote */
	CSV_QUOTED,		/* inside quotes */
	CSV_QUOTE		/* past a quote inside quotes: "" or the end */
};

/* A CSV record being put together from the lines a reader hands out. */
struct csv_lines {
	struct buf	 rec;		/* its lines, joined by the delimiter */
	enum csv_state	 st;
	int		 open;		/* rec ends inside a quoted field */
	int		 nul;		/* rec holds a NUL byte */
};

/* Sources consumed in lockstep: :::+ links or --link. */
struct group {
	size_t		*src;		/* indices into input->sources */
	size_t		 nsrc;
	size_t		 count;		/* tuples in the group */
	int		 wrap;		/* --link: shorter sources wrap around */
};

struct input {
	struct reader	*stream;	/* group 0 when streamed, else NULL */
	struct source	*sources;
	size_t		 nsources;
	struct group	*groups;
	size_t		 ngroups;
	size_t		*odometer;	/* position in each group */
	int		 need_first;	/* group 0 must step to its next tuple */
	int		 started;	/* group 0 in memory: odometer[0] is valid */
	struct buf	 first;		/* streamed group 0's current value */
	struct value	 first_long;	/* ... unless it is too long: this */
	int		 first_bad;
	int		 done;
	const pcre2_code *colsep;	/* borrowed from the opts, or NULL */
	pcre2_match_data *match;	/* for colsep, made once */
	enum trim	 trim;
	struct column	*cols;		/* scratch for make_record() */
	size_t		 ncols;
	size_t		 capcols;
	int		 skip_blank;
	int		 lines;		/* -L: blank lines skipped, a line
					   ending in a blank goes on */
	int		 continuing;	/* streamed: the line goes on */
	const char	*eof_str;	/* -E: the input ends there, or NULL */
	unsigned long long num;
	struct shuffle	*shuffle;	/* --shuf, or NULL */
	int		 spooled;	/* shuffle holds every record */
	char		 delim;		/* the record delimiter */
	int		 csv;		/* --csv: records are CSV */
	char		 csv_sep;
	struct csv_lines stream_csv;	/* --csv: the streamed record so far */
	struct buf	 unquoted;	/* --csv: the fields of the tuple */
	struct source	 pending;	/* streamed records read past the header */
	size_t		 next_pending;
	char		**names;	/* --header's column names, or NULL */
	size_t		 nnames;
	int		 header_short;	/* the input ended within a header */
};

/* Whether the len bytes at p are the -E string. */
static int
is_eof(const char *eof_str, const char *p, size_t len)
{
	return eof_str != NULL && strlen(eof_str) == len &&
	    memcmp(eof_str, p, len) == 0;
}

/* Whether every byte of the len at p is blank (none is). */
static int
all_blank(const char *p, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (!reader_is_blank(p[i]))
			return 0;
	return 1;
}

/*
 * Whether a line goes on on the next, as xargs -L and GNU parallel's say:
 * it ends in a blank.
 */
static int
goes_on(const char *p, size_t len)
{
	return len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t');
}

/*
 * A reader on the file at path ("-" is stdin); NULL after a message.  The
 * file it opens is closed by source_close().
 */
static struct reader *
source_open(const char *path, char delim)
{
	int	 fd;

	if (strcmp(path, "-") == 0)
		return reader_new(STDIN_FILENO, delim, "stdin");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		warn("%s", path);
		return NULL;
	}
	return reader_new(fd, delim, path);
}

/* Free a reader from source_open() and close its file; stdin stays open. */
static void
source_close(struct reader *r)
{
	int	 fd;

	if (r == NULL)
		return;
	fd = reader_fd(r);
	reader_free(r);
	if (fd != STDIN_FILENO)
		close(fd);
}

/* The CSV state after the bytes p..p+len, from state st. */
static enum csv_state
csv_scan(enum csv_state st, char sep, const char *p, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		switch (st) {
		case CSV_START:
			st = p[i] == '"' ? CSV_QUOTED : p[i] == sep ?
			    CSV_START : CSV_PLAIN;
			break;
		case CSV_PLAIN:
			if (p[i] == sep)
				st = CSV_START;
			break;
		case CSV_QUOTED:
			if (p[i] == '"')
				st = CSV_QUOTE;
			break;
		case CSV_QUOTE:
			st = p[i] == '"' ? CSV_QUOTED : p[i] == sep ?
			    CSV_START : CSV_PLAIN;
			break;
		}
	}
	return st;
}

/*
 * The next record from r.  With --csv, lines are joined by the delimiter
 * while a quoted field is open, so a record is handed out as soon as it
 * is complete; at the end of the input an open one is handed out as it
 * is, for split_csv() to report.  Its bytes then are in c->rec.
 */
static enum reader_status
next_record(struct input *in, struct reader *r, struct csv_lines *c,
    int block, struct reader_rec *rec)
{
	enum reader_status	 st;

	if (!in->csv)
		return reader_next(r, block, rec);
	for (;;) {
		st = reader_next(r, block, rec);
		if (st == READER_EOF && c->open) {
			c->open = 0;
			memset(rec, 0, sizeof(*rec));
			rec->p = c->rec.data;
			rec->len = c->rec.len;
			rec->nul = c->nul;
			return READER_OK;
		}
		if (st == READER_WAIT)
			return st;
		if (st != READER_OK) {
			c->open = 0;
			return st;
		}
		if (!c->open) {
			buf_reset(&c->rec);
			buf_add(&c->rec, "", 0);
			c->st = CSV_START;
			c->nul = 0;
		} else {
			buf_addc(&c->rec, in->delim);
			c->nul |= in->delim == '\0';
		}
		buf_add(&c->rec, rec->p, rec->len);
		c->nul |= rec->nul;
		c->st = csv_scan(c->st, in->csv_sep, rec->p, rec->len);
		if ((c->open = c->st == CSV_QUOTED))
			continue;
		rec->p = c->rec.data;
		rec->len = c->rec.len;
		rec->nul = c->nul;
		return READER_OK;
	}
}

/* Append a value to a source. */
static void
source_add(struct source *s, const char *p, size_t len, int bad)
{
	struct value	*v;

	s->values = xreallocarray(s->values, s->n + 1, sizeof(*s->values));
	v = &s->values[s->n++];
	memset(v, 0, sizeof(*v));
	v->s = xmalloc(len + 1);
	memcpy(v->s, p, len);
	v->s[len] = '\0';
	v->len = len;
	v->bad = bad;
}

/*
 * Add record p to source s, in the input's -L lines if it has them: a
 * blank line is dropped, one that ends in a blank waits in line (owned by
 * the caller; empty when nothing waits) for the next.
 */
static void
source_add_line(const struct input *in, struct source *s, struct buf *line,
    int *bad, const char *p, size_t len, int nul)
{
	if (!in->lines) {
		source_add(s, p, len, nul);
		return;
	}
	if (all_blank(p, len))
		return;
	buf_add(line, p, len);
	*bad |= nul;
	if (goes_on(p, len))
		return;
	source_add(s, line->data, line->len, *bad);
	buf_reset(line);
	*bad = 0;
}

/*
 * Read a whole source, up to the -E string, in the input's -L lines if
 * it has them; -1 after a message.  Values of ::: are lines too.
 */
static int
source_load(struct input *in, struct source *s,
    const struct source_spec *spec, char delim)
{
	struct reader		*r;
	struct reader_rec	 rec;
	struct csv_lines	 c = { 0 };
	enum reader_status	 st;
	struct buf		 line = { 0 };
	size_t			 i;
	int			 nul = 0;

	if (spec->kind == SOURCE_VALUES && in->lines) {
		s->owns = 1;
		for (i = 0; i < spec->nvalues; i++) {
			if (line.len == 0 && is_eof(in->eof_str,
			    spec->values[i], strlen(spec->values[i])))
				break;
			source_add_line(in, s, &line, &nul, spec->values[i],
			    strlen(spec->values[i]), 0);
		}
		if (line.len > 0)
			source_add(s, line.data, line.len, nul);
		buf_free(&line);
		return 0;
	}
	if (spec->kind == SOURCE_VALUES) {
		s->values = xcalloc(spec->nvalues, sizeof(*s->values));
		for (i = 0; i < spec->nvalues; i++) {
			s->values[i].s = spec->values[i];
			s->values[i].len = strlen(spec->values[i]);
			if (is_eof(in->eof_str, s->values[i].s,
			    s->values[i].len))
				break;
		}
		s->n = i;
		return 0;
	}
	s->owns = 1;
	if ((r = source_open(spec->path, delim)) == NULL)
		return -1;
	while ((st = next_record(in, r, &c, 1, &rec)) == READER_OK) {
		if (line.len == 0 && is_eof(in->eof_str, rec.p, rec.len))
			break;
		source_add_line(in, s, &line, &nul, rec.p, rec.len, rec.nul);
	}
	if (line.len > 0)
		source_add(s, line.data, line.len, nul);
	buf_free(&line);
	buf_free(&c.rec);
	source_close(r);
	return st == READER_EOF || st == READER_OK ? 0 : -1;
}

/* Arrange the sources in groups: a new group at every unlinked source. */
static void
make_groups(struct input *in, const struct opts *o)
{
	struct group	*g = NULL;
	size_t		 i;

	for (i = 0; i < o->nsources; i++) {
		if (g == NULL || (!o->link && !o->sources[i].linked)) {
			in->groups = xreallocarray(in->groups, in->ngroups + 1,
			    sizeof(*in->groups));
			g = &in->groups[in->ngroups++];
			memset(g, 0, sizeof(*g));
			g->wrap = o->link;
		}
		g->src = xreallocarray(g->src, g->nsrc + 1, sizeof(*g->src));
		g->src[g->nsrc++] = i;
	}
}

/* Count the tuples of each group once its sources are loaded. */
static void
count_groups(struct input *in)
{
	struct group	*g;
	size_t		 i, k, n;

	for (i = 0; i < in->ngroups; i++) {
		g = &in->groups[i];
		for (k = 0; k < g->nsrc; k++) {
			n = in->sources[g->src[k]].n;
			if (k == 0 || (g->wrap ? n > g->count : n < g->count))
				g->count = n;
		}
		/* A wrapped group with an empty source has nothing to pair. */
		for (k = 0; g->wrap && k < g->nsrc; k++)
			if (in->sources[g->src[k]].n == 0)
				g->count = 0;
		if (g->count == 0 && !(i == 0 && in->stream != NULL))
			in->done = 1;
	}
}

/*
 * Say which source read whole is empty when others are not: its values
 * pair with none, so the others' records would not run unreported.  An
 * empty stream is no news: nothing came to do.
 */
static void
warn_empty(const struct input *in, const struct opts *o)
{
	const struct source_spec	*spec;
	size_t				 i, full = 0;

	for (i = 0; i < in->nsources; i++)
		full += in->sources[i].n > 0 || (i == 0 && in->stream != NULL);
	if (full == 0)
		return;
	for (i = in->stream != NULL ? 1 : 0; i < in->nsources; i++) {
		if (in->sources[i].n > 0)
			continue;
		spec = &o->sources[i];
		warnx("input source %zu (%s) is empty, so no job runs", i + 1,
		    spec->kind == SOURCE_VALUES ? ":::" :
		    strcmp(spec->path, "-") == 0 ? "stdin" : spec->path);
	}
}

static int	read_headers(struct input *, const struct opts *,
		    const struct opts *);

/* Open and preload the sources. */
struct input *
input_new(const struct opts *o)
{
	static struct source_spec	 stdin_spec = {
		.kind = SOURCE_FILE, .path = "-"
	};
	struct opts			 copy;
	struct input			*in;
	size_t				 i;

	in = xcalloc(1, sizeof(*in));
	in->skip_blank = o->no_run_if_empty;
	in->lines = o->max_lines > 0;
	in->eof_str = o->eof_str;
	in->need_first = 1;
	in->trim = o->trim;
	in->delim = o->delim;
	in->csv = o->csv;
	in->csv_sep = o->csv_sep;
	if (o->colsep_re != NULL) {
		in->colsep = o->colsep_re;
		in->match = pcre2_match_data_create_from_pattern(in->colsep,
		    NULL);
		if (in->match == NULL)
			errx(EXIT_FORKPOOL_ERROR, "--colsep: out of memory");
	}
	copy = *o;
	if (copy.nsources == 0) {
		copy.sources = &stdin_spec;
		copy.nsources = 1;
	}
	make_groups(in, &copy);
	in->nsources = copy.nsources;
	in->sources = xcalloc(in->nsources, sizeof(*in->sources));
	in->odometer = xcalloc(in->ngroups, sizeof(*in->odometer));
	if (in->groups[0].nsrc == 1 &&
	    copy.sources[in->groups[0].src[0]].kind == SOURCE_FILE) {
		in->stream = source_open(copy.sources[0].path, o->delim);
		if (in->stream == NULL)
			goto fail;
	}
	for (i = in->stream != NULL ? 1 : 0; i < in->nsources; i++)
		if (source_load(in, &in->sources[i], &copy.sources[i],
		    o->delim) == -1)
			goto fail;
	if (o->header != NULL && read_headers(in, o, &copy) == -1)
		goto fail;
	count_groups(in);
	warn_empty(in, &copy);
	if (o->shuf)
		in->shuffle = shuffle_new(opts_tmpdir(o));
	return in;
fail:
	input_free(in);
	return NULL;
}

/* Release the input and every value it read. */
void
input_free(struct input *in)
{
	size_t	 i, k;

	if (in == NULL)
		return;
	source_close(in->stream);
	shuffle_free(in->shuffle);
	for (i = 0; i < in->nsources; i++) {
		for (k = 0; in->sources[i].owns && k < in->sources[i].n; k++)
			free(in->sources[i].values[k].s);
		free(in->sources[i].values);
	}
	for (i = 0; i < in->ngroups; i++)
		free(in->groups[i].src);
	free(in->sources);
	free(in->groups);
	free(in->odometer);
	buf_free(&in->first);
	buf_free(&in->stream_csv.rec);
	buf_free(&in->unquoted);
	for (k = 0; k < in->pending.n; k++)
		free(in->pending.values[k].s);
	free(in->pending.values);
	for (k = 0; k < in->nnames; k++)
		free(in->names[k]);
	free(in->names);
	pcre2_match_data_free(in->match);
	free(in->cols);
	free(in);
}

/* The column names the header gave; see input.h. */
const char * const *
input_names(const struct input *in, size_t *n)
{
	*n = in->nnames;
	return (const char * const *)in->names;
}

/* The fd to poll after INPUT_WAIT. */
int
input_fd(const struct input *in)
{
	return in->stream != NULL ? reader_fd(in->stream) : -1;
}

/* Skip streamed records over limit bytes; see input.h. */
void
input_set_limit(struct input *in, size_t limit)
{
	if (in->stream != NULL)
		reader_set_limit(in->stream, limit);
}

/* Add a column to the current tuple, trimmed as --trim says. */
static void
add_column(struct input *in, const char *p, size_t len)
{
	struct column	*c;

	if (in->trim & TRIM_LEFT)
		for (; len > 0 && reader_is_blank(*p); len--)
			p++;
	if (in->trim & TRIM_RIGHT)
		for (; len > 0 && reader_is_blank(p[len - 1]); len--)
			;
	if (in->ncols == in->capcols) {
		in->capcols = in->capcols == 0 ? 16 : in->capcols * 2;
		in->cols = xreallocarray(in->cols, in->capcols,
		    sizeof(*in->cols));
	}
	c = &in->cols[in->ncols++];
	c->p = p;
	c->len = len;
}

/*
 * Add the fields of CSV record s (RFC 4180): quotes are taken off, ""
 * inside them is one quote, and a CR ending the record is CRLF's.  The
 * fields are copied to in->unquoted, which the caller made room in, so
 * that the columns pointing there stay put.
 */
static enum record_flaw
split_csv(struct input *in, const char *s, size_t len)
{
	enum record_flaw	 flaw = RECORD_OK;
	enum csv_state		 st = CSV_START;
	size_t			 i, start = in->unquoted.len;

	if (len > 0 && s[len - 1] == '\r')
		len--;
	for (i = 0; i < len; i++) {
		if (s[i] == in->csv_sep && st != CSV_QUOTED) {
			add_column(in, in->unquoted.data + start,
			    in->unquoted.len - start);
			start = in->unquoted.len;
			st = CSV_START;
			continue;
		}
		switch (st) {
		case CSV_START:
			st = s[i] == '"' ? CSV_QUOTED : CSV_PLAIN;
			if (st == CSV_QUOTED)
				continue;
			break;
		case CSV_PLAIN:
			if (s[i] == '"')
				flaw = RECORD_CSV_QUOTE;
			break;
		case CSV_QUOTED:
			if (s[i] == '"') {
				st = CSV_QUOTE;
				continue;
			}
			break;
		case CSV_QUOTE:
			/* "" is a quote; anything else is after the end. */
			st = CSV_QUOTED;
			if (s[i] != '"') {
				flaw = RECORD_CSV_QUOTE;
				st = CSV_PLAIN;
			}
			break;
		}
		buf_addc(&in->unquoted, s[i]);
	}
	if (st == CSV_QUOTED && flaw == RECORD_OK)
		flaw = RECORD_CSV_OPEN;
	add_column(in, in->unquoted.data + start, in->unquoted.len - start);
	return flaw;
}

/*
 * Add the columns of a value (the value itself without --colsep);
 * RECORD_NO_SPLIT when PCRE2 gave up matching (its match, depth or heap
 * limit), a CSV flaw with --csv.  The columns
 * are Perl's split with its limit -1, which GNU parallel uses: trailing
 * empty columns stay, an empty match never closes an empty column where
 * the column began, and an empty value is one empty column.
 */
static enum record_flaw
split_value(struct input *in, const char *s, size_t len)
{
	PCRE2_SIZE	*ov;
	size_t		 start = 0;
	int		 rc;

	if (in->csv)
		return split_csv(in, s, len);
	if (in->colsep == NULL) {
		add_column(in, s, len);
		return RECORD_OK;
	}
	ov = pcre2_get_ovector_pointer(in->match);
	/*
	 * Each search starts where the last match ended, so the value is
	 * read once; a search from its start (regexec() had no other way)
	 * made a million columns take 25 s.
	 */
	while (start < len) {
		rc = pcre2_match(in->colsep, (PCRE2_SPTR)s, len, start,
		    PCRE2_NOTEMPTY_ATSTART, in->match, NULL);
		if (rc == PCRE2_ERROR_NOMATCH)
			break;
		if (rc < 0)
			return RECORD_NO_SPLIT;
		/* \K can report a match that does not move on: stop there. */
		if (ov[0] < start || ov[1] < ov[0] || ov[1] <= start)
			break;
		add_column(in, s + start, ov[0] - start);
		start = ov[1];
	}
	add_column(in, s + start, len - start);
	return RECORD_OK;
}

/* The value of source number k of group g at tuple position pos. */
static const struct value *
group_value(const struct input *in, const struct group *g, size_t k,
    size_t pos)
{
	const struct source	*s = &in->sources[g->src[k]];

	return &s->values[pos % s->n];
}

/* What header_end() says besides a number of records. */
#define HEADER_MORE	(-1)	/* the header may go on: read a record more */
#define HEADER_SHORT	(-2)	/* the input ended within it */
#define HEADER_NONE	(-3)	/* --header REGEX does not match */
#define HEADER_ERROR	(-4)	/* a read failed; a message was printed */

/*
 * How many of the n values v of a source make its header, or HEADER_*;
 * eof says that no value will follow.  The pattern is matched on the
 * values with their delimiters, anchored, and may end inside a record:
 * that record is the header's last.
 */
static long
header_end(struct input *in, const struct opts *o, const struct value *v,
    size_t n, int eof)
{
	pcre2_match_data	*md;
	PCRE2_SIZE		*ov;
	struct buf		 text = { 0 };
	size_t			 i, end = 0;
	long			 h = (long)n;
	int			 rc;

	if (o->header_lines > 0)
		return n >= o->header_lines ? (long)o->header_lines :
		    eof ? HEADER_SHORT : HEADER_MORE;
	if (n == 0)
		return eof ? HEADER_SHORT : HEADER_MORE;
	for (i = 0; i < n; i++) {
		buf_add(&text, v[i].s, v[i].len);
		buf_addc(&text, in->delim);
	}
	if ((md = pcre2_match_data_create_from_pattern(o->header_re,
	    NULL)) == NULL)
		errx(EXIT_FORKPOOL_ERROR, "--header: out of memory");
	/* A hard partial match: more input could make a longer header. */
	rc = pcre2_match(o->header_re, (PCRE2_SPTR)text.data, text.len, 0,
	    PCRE2_ANCHORED | (eof ? 0 : PCRE2_PARTIAL_HARD), md, NULL);
	ov = pcre2_get_ovector_pointer(md);
	if (rc == PCRE2_ERROR_PARTIAL)
		h = HEADER_MORE;
	else if (rc < 0 || ov[1] == 0)
		h = HEADER_NONE;
	else
		for (i = 0; i < n; i++) {
			end += v[i].len + 1;
			if (ov[1] <= end) {
				h = (long)i + 1;
				break;
			}
		}
	pcre2_match_data_free(md);
	buf_free(&text);
	return h;
}

/*
 * Read the streamed source's header into in->pending, and the records
 * the pattern needed to see past it; returns header_end()'s answer.
 */
static long
stream_header(struct input *in, const struct opts *o)
{
	struct reader_rec	 rec;
	enum reader_status	 st;
	long			 h;

	do {
		st = next_record(in, in->stream, &in->stream_csv, 1, &rec);
		if (st == READER_ERROR)
			return HEADER_ERROR;
		/* No record is over a limit: the builder sets one later. */
		if (st == READER_OK)
			source_add(&in->pending, rec.p, rec.len, rec.nul);
		h = header_end(in, o, in->pending.values, in->pending.n,
		    st == READER_EOF);
	} while (h == HEADER_MORE);
	return h;
}

/* Drop the first k values of a source. */
static void
drop_values(struct source *s, size_t k)
{
	size_t	 i;

	if (k == 0)
		return;
	for (i = 0; s->owns && i < k; i++)
		free(s->values[i].s);
	memmove(s->values, s->values + k, (s->n - k) * sizeof(*s->values));
	s->n -= k;
}

/*
 * Name the columns after the header's last record v, split as records
 * are; what names them is the source's name.  -1 after a message.
 */
static int
name_columns(struct input *in, const struct opts *o, const struct value *v,
    const char *what)
{
	enum record_flaw	 flaw;
	size_t			 i;

	if (v->bad) {
		warnx("--header %s: the header of %s contains a NUL byte",
		    o->header, what);
		return -1;
	}
	in->ncols = 0;
	buf_reset(&in->unquoted);
	buf_reserve(&in->unquoted, v->len);
	if ((flaw = split_value(in, v->s, v->len)) != RECORD_OK) {
		warnx("--header %s: the header of %s %s", o->header, what,
		    flaw == RECORD_NO_SPLIT ? "is more than --colsep can split" :
		    "is not valid CSV");
		return -1;
	}
	in->names = xreallocarray(in->names, in->nnames + in->ncols,
	    sizeof(*in->names));
	for (i = 0; i < in->ncols; i++) {
		in->names[in->nnames] = xmalloc(in->cols[i].len + 1);
		memcpy(in->names[in->nnames], in->cols[i].p, in->cols[i].len);
		in->names[in->nnames++][in->cols[i].len] = '\0';
	}
	in->ncols = 0;
	return 0;
}

/*
 * Take every source's header off it and name the columns from them; -1
 * after a message.  A source that ends within its header leaves nothing
 * to combine, so then nothing runs and nothing is named.
 */
static int
read_headers(struct input *in, const struct opts *o, const struct opts *all)
{
	const struct source_spec	*spec;
	struct source			*src;
	const char			*what;
	char				 values[40];
	size_t				 i;
	long				 h;

	in->pending.owns = 1;
	for (i = 0; i < in->nsources; i++) {
		spec = &all->sources[i];
		/* Sources of ::: values are told apart by their place. */
		(void)snprintf(values, sizeof(values), "::: source %zu", i + 1);
		what = spec->kind == SOURCE_VALUES ? values :
		    strcmp(spec->path, "-") == 0 ? "stdin" : spec->path;
		if (i == 0 && in->stream != NULL) {
			src = &in->pending;
			h = stream_header(in, o);
		} else {
			src = &in->sources[i];
			h = header_end(in, o, src->values, src->n, 1);
		}
		if (h == HEADER_ERROR)
			return -1;
		if (h == HEADER_NONE) {
			warnx("--header %s: does not match the start of %s",
			    o->header, what);
			return -1;
		}
		if (h == HEADER_SHORT) {
			in->header_short = 1;
			drop_values(src, src->n);
			continue;
		}
		if (name_columns(in, o, &src->values[h - 1], what) == -1)
			return -1;
		drop_values(src, (size_t)h);
	}
	if (in->header_short) {
		for (i = 0; i < in->nnames; i++)
			free(in->names[i]);
		free(in->names);
		in->names = NULL;
		in->nnames = 0;
		in->done = 1;
	}
	return 0;
}

/* Value k of group i in the current tuple; the streamed one for group 0. */
static struct value
current_value(const struct input *in, size_t i, size_t k)
{
	struct value	 v;

	if (i == 0 && in->stream != NULL) {
		if (in->first_long.too_long)
			return in->first_long;
		memset(&v, 0, sizeof(v));
		v.s = in->first.data;
		v.len = in->first.len;
		v.bad = in->first_bad;
		return v;
	}
	return *group_value(in, &in->groups[i], k, in->odometer[i]);
}

/* Split every value of the current tuple into in->cols; a flaw as split_value. */
static enum record_flaw
split_tuple(struct input *in)
{
	struct value		 v;
	enum record_flaw	 flaw;
	size_t			 i, k, bytes = 0;

	in->ncols = 0;
	/* Unquoted fields are never longer than their record. */
	for (i = 0; in->csv && i < in->ngroups; i++)
		for (k = 0; k < in->groups[i].nsrc; k++)
			bytes += current_value(in, i, k).len;
	buf_reset(&in->unquoted);
	buf_reserve(&in->unquoted, bytes);
	for (i = 0; i < in->ngroups; i++)
		for (k = 0; k < in->groups[i].nsrc; k++) {
			v = current_value(in, i, k);
			if ((flaw = split_value(in, v.s, v.len)) != RECORD_OK) {
				in->ncols = 0;
				return flaw;
			}
		}
	return RECORD_OK;
}

/* Whether every value of the current tuple is blank. */
static int
tuple_blank(const struct input *in)
{
	struct value	 v;
	size_t		 i, k, c;

	for (i = 0; i < in->ngroups; i++)
		for (k = 0; k < in->groups[i].nsrc; k++) {
			v = current_value(in, i, k);
			if (v.too_long && !v.blank)
				return 0;
			for (c = 0; !v.too_long && c < v.len; c++)
				if (!reader_is_blank(v.s[c]))
					return 0;
		}
	return 1;
}

/*
 * What keeps the current tuple from running, its columns aside; *held
 * tells whether every value is in memory.
 */
static enum record_flaw
tuple_flaw(const struct input *in, int *held)
{
	struct value	 v;
	size_t		 i, k;
	int		 nul = 0, too_long = 0;

	for (i = 0; i < in->ngroups; i++)
		for (k = 0; k < in->groups[i].nsrc; k++) {
			v = current_value(in, i, k);
			nul |= v.bad;
			too_long |= v.too_long;
		}
	*held = !too_long;
	return nul ? RECORD_NUL : too_long ? RECORD_TOO_LONG : RECORD_OK;
}

/* Make the current tuple into a record. */
static struct record *
make_record(struct input *in)
{
	struct record	*r;
	enum record_flaw flaw, split;
	size_t		 off, bytes = 0, i;
	char		*data;
	int		 held;

	in->ncols = 0;
	flaw = tuple_flaw(in, &held);
	if (held && (split = split_tuple(in)) != RECORD_OK &&
	    flaw == RECORD_OK)
		flaw = split;
	for (i = 0; i < in->ncols; i++)
		bytes += in->cols[i].len + 1;
	off = sizeof(*r) + in->ncols * (sizeof(char *) + sizeof(size_t));
	r = xmalloc(off + bytes);
	r->num = in->num;
	r->flaw = flaw;
	r->nfields = in->ncols;
	r->fields = (char **)(r + 1);
	r->lens = (size_t *)(r->fields + in->ncols);
	data = (char *)r + off;
	for (i = 0; i < in->ncols; i++) {
		memcpy(data, in->cols[i].p, in->cols[i].len);
		data[in->cols[i].len] = '\0';
		r->fields[i] = data;
		r->lens[i] = in->cols[i].len;
		data += in->cols[i].len + 1;
	}
	return r;
}

/* Step the odometer of groups 1..n; returns 1 when it wrapped around. */
static int
advance(struct input *in)
{
	size_t	 i;

	for (i = in->ngroups; i-- > 1;) {
		if (++in->odometer[i] < in->groups[i].count)
			return 0;
		in->odometer[i] = 0;
	}
	return 1;
}

/*
 * Make the first group's next tuple current.  Streamed, a line that
 * goes on (-L) is held in in->first until its end comes.
 */
static enum input_status
next_first(struct input *in)
{
	struct reader_rec	 rec;
	const struct value	*v;

	if (in->stream == NULL) {
		if (in->started)
			in->odometer[0]++;
		in->started = 1;
		return in->odometer[0] < in->groups[0].count ? INPUT_RECORD :
		    INPUT_EOF;
	}
	if (in->next_pending < in->pending.n) {
		v = &in->pending.values[in->next_pending++];
		buf_reset(&in->first);
		buf_add(&in->first, v->s, v->len);
		in->first_bad = v->bad;
		in->first_long.too_long = 0;
		return INPUT_RECORD;
	}
	for (;;)
		switch (next_record(in, in->stream, &in->stream_csv, 0,
		    &rec)) {
		case READER_OK:
			/* The rest of the input is not read: -E ends it. */
			if (!in->continuing && is_eof(in->eof_str, rec.p,
			    rec.len))
				return INPUT_EOF;
			if (in->lines && all_blank(rec.p, rec.len))
				continue;
			if (!in->continuing) {
				buf_reset(&in->first);
				in->first_bad = 0;
			}
			buf_add(&in->first, rec.p, rec.len);
			in->first_bad |= rec.nul;
			in->first_long.too_long = 0;
			in->continuing = in->lines && goes_on(rec.p, rec.len);
			if (!in->continuing)
				return INPUT_RECORD;
			continue;
		case READER_LONG:
			/* What went on before is part of the long line. */
			memset(&in->first_long, 0, sizeof(in->first_long));
			in->first_long.len = rec.len;
			in->first_long.bad = rec.nul;
			in->first_long.blank = rec.blank;
			if (in->continuing) {
				in->first_long.len += in->first.len;
				in->first_long.bad |= in->first_bad;
				in->first_long.blank &= all_blank(
				    in->first.data, in->first.len);
				in->continuing = 0;
			}
			in->first_long.too_long = 1;
			return INPUT_RECORD;
		case READER_WAIT:
			return INPUT_WAIT;
		case READER_EOF:
			/* A line that went on to the end ends there. */
			if (in->continuing) {
				in->continuing = 0;
				return INPUT_RECORD;
			}
			return INPUT_EOF;
		default:
			return INPUT_ERROR;
		}
}

/* The next record in input order; see enum input_status. */
static enum input_status
next_in_order(struct input *in, struct record **recp)
{
	enum input_status	 st;
	struct record		*rec;
	int			 blank;

	for (;;) {
		if (in->done)
			return INPUT_EOF;
		if (in->need_first) {
			if ((st = next_first(in)) != INPUT_RECORD) {
				if (st == INPUT_EOF)
					in->done = 1;
				return st;
			}
			in->need_first = 0;
		}
		in->num++;
		blank = in->skip_blank && tuple_blank(in);
		rec = blank ? NULL : make_record(in);
		if (advance(in))
			in->need_first = 1;
		if (rec != NULL) {
			*recp = rec;
			return INPUT_RECORD;
		}
	}
}

/*
 * The next record; see enum input_status.  With --shuf, every record is
 * read (and spooled) before the first comes out, in a random order; a
 * streamed source still says INPUT_WAIT meanwhile, so the runner goes on
 * serving signals while a slow producer writes.
 */
enum input_status
input_next(struct input *in, struct record **recp)
{
	enum input_status	 st;
	struct record		*r;
	int			 added;

	if (in->shuffle == NULL)
		return next_in_order(in, recp);
	while (!in->spooled) {
		if ((st = next_in_order(in, &r)) == INPUT_EOF)
			in->spooled = 1;
		else if (st != INPUT_RECORD)
			return st;
		else {
			added = shuffle_add(in->shuffle, r);
			record_free(r);
			if (added == -1)
				return INPUT_ERROR;
		}
	}
	switch (shuffle_next(in->shuffle, recp)) {
	case 1:
		return INPUT_RECORD;
	case 0:
		return INPUT_EOF;
	default:
		return INPUT_ERROR;
	}
}

/* Release a record. */
void
record_free(struct record *r)
{
	free(r);
}
