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
 * Read a whole source, up to the -E string, in the input's -L lines if
 * it has them; -1 after a message.
 */
static int
source_load(struct source *s, const struct source_spec *spec, char delim,
    const struct input *in)
{
	struct reader		*r;
	struct reader_rec	 rec;
	enum reader_status	 st;
	struct buf		 line = { 0 };
	size_t			 i;
	int			 on = 0, nul = 0;

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
	while ((st = reader_next(r, 1, &rec)) == READER_OK) {
		if (!on && is_eof(in->eof_str, rec.p, rec.len))
			break;
		if (!in->lines) {
			source_add(s, rec.p, rec.len, rec.nul);
			continue;
		}
		if (all_blank(rec.p, rec.len))
			continue;
		buf_add(&line, rec.p, rec.len);
		nul |= rec.nul;
		if ((on = goes_on(rec.p, rec.len)))
			continue;
		source_add(s, line.data, line.len, nul);
		buf_reset(&line);
		nul = 0;
	}
	if (on)
		source_add(s, line.data, line.len, nul);
	buf_free(&line);
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
		if (source_load(&in->sources[i], &copy.sources[i],
		    o->delim, in) == -1)
			goto fail;
	count_groups(in);
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
	pcre2_match_data_free(in->match);
	free(in->cols);
	free(in);
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
 * Add the columns of a value (the value itself without --colsep); -1 when
 * PCRE2 gave up matching (its match, depth or heap limit).  The columns
 * are Perl's split with its limit -1, which GNU parallel uses: trailing
 * empty columns stay, an empty match never closes an empty column where
 * the column began, and an empty value is one empty column.
 */
static int
split_value(struct input *in, const char *s, size_t len)
{
	PCRE2_SIZE	*ov;
	size_t		 start = 0;
	int		 rc;

	if (in->colsep == NULL) {
		add_column(in, s, len);
		return 0;
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
			return -1;
		/* \K can report a match that does not move on: stop there. */
		if (ov[0] < start || ov[1] < ov[0] || ov[1] <= start)
			break;
		add_column(in, s + start, ov[0] - start);
		start = ov[1];
	}
	add_column(in, s + start, len - start);
	return 0;
}

/* The value of source number k of group g at tuple position pos. */
static const struct value *
group_value(const struct input *in, const struct group *g, size_t k,
    size_t pos)
{
	const struct source	*s = &in->sources[g->src[k]];

	return &s->values[pos % s->n];
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

/* Split every value of the current tuple into in->cols; -1 as split_value. */
static int
split_tuple(struct input *in)
{
	struct value	 v;
	size_t		 i, k;

	in->ncols = 0;
	for (i = 0; i < in->ngroups; i++)
		for (k = 0; k < in->groups[i].nsrc; k++) {
			v = current_value(in, i, k);
			if (split_value(in, v.s, v.len) == -1) {
				in->ncols = 0;
				return -1;
			}
		}
	return 0;
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
	enum record_flaw flaw;
	size_t		 off, bytes = 0, i;
	char		*data;
	int		 held;

	in->ncols = 0;
	flaw = tuple_flaw(in, &held);
	if (held && split_tuple(in) == -1 && flaw == RECORD_OK)
		flaw = RECORD_NO_SPLIT;
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

	if (in->stream == NULL) {
		if (in->started)
			in->odometer[0]++;
		in->started = 1;
		return in->odometer[0] < in->groups[0].count ? INPUT_RECORD :
		    INPUT_EOF;
	}
	for (;;)
		switch (reader_next(in->stream, 0, &rec)) {
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
