/*
 * The record splitter, through the real input_new() / input_next() path:
 * the fuzz input is fed through a pipe in fuzzer-chosen chunks (input_next
 * must answer INPUT_WAIT, never block, between them) or through a memfd
 * read as a file, for every delimiter mode, --colsep, --trim, -r, a second
 * source and a record length limit.  What comes out is checked against a
 * model of the input:
 *
 *   - the records are the input split at the delimiter, a missing final
 *     delimiter aside, so records and delimiters rebuild the input;
 *   - record numbers count every tuple from 1, skipped blank ones too;
 *   - the flaw is RECORD_NUL exactly when a value holds a NUL byte;
 *   - a record over the limit may come out as RECORD_TOO_LONG (or
 *     RECORD_NUL) without fields; one within it always comes out whole;
 *   - with --colsep the columns are Perl's split of the record, which
 *     the model computes by hand for patterns that match a set of bytes,
 *     then trimmed as --trim says.
 *
 * Input: four header bytes, then the data.
 *   byte 0: bits 0-1 delimiter (newline, -0, -d byte 1, -d byte 1),
 *           bit 2 -r, bit 3 ::: x '' ' ' as a second source,
 *           bit 4 a memfd instead of a pipe, bits 5-7 --colsep (none or
 *           one of the patterns below)
 *   byte 1: the -d byte; with newline or -0, the record length limit
 *           (0 none, 1-127 that many bytes, 128-255 (n - 127) * 2 KiB)
 *   byte 2: bits 0-5 chunk size seed for the pipe, bits 6-7 --trim
 *           (the default for the --colsep setting, l, r, n)
 *   byte 3: the data is repeated 1 + byte 3 times, up to 256 KiB and
 *           4096 records in all
 */
#include <sys/mman.h>

#define PCRE2_CODE_UNIT_WIDTH	8
#include <pcre2.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "input.h"
#include "opts.h"
#include "util.h"

#include "fuzz.h"

#define NAME	"fuzz_records"

/* The most bytes an input becomes after its repetitions. */
#define FEED_MAX	(256 * 1024)

/* The most records repetitions may make. */
#define RECORDS_MAX	4096

/* How many bytes of the set a --colsep pattern matches. */
enum repeat {
	ONE,			/* exactly one */
	PLUS,			/* a run of one or more */
	STAR			/* a run of any length, the empty one too */
};

/* --colsep patterns; set and repeat describe a match, for the model. */
static const struct {
	const char	*re;
	const char	*set;
	enum repeat	 repeat;
} colseps[8] = {
	{ NULL, NULL, ONE },
	{ "\\t", "\t", ONE },
	{ ",", ",", ONE },
	{ "[ \t]+", " \t", PLUS },
	{ "[,;]+", ",;", PLUS },
	{ "\\s+", " \t\n\v\f\r", PLUS },
	{ "x*", "x", STAR },		/* matches the empty string */
	{ "(?i)x", "xX", ONE },
};

/* The patterns above, compiled once. */
static struct pcre2_real_code_8 *compiled[8];

static char *second_values[] = { (char *)"x", (char *)"", (char *)" \t" };
#define NSECOND	(sizeof(second_values) / sizeof(second_values[0]))

/* One raw value: a piece of the input or of the second source. */
struct piece {
	const char	*p;
	size_t		 len;
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct opts	 o;
	size_t		 i;

	(void)argc;
	(void)argv;
	fuzz_report_init();
	for (i = 1; i < 8; i++) {
		memset(&o, 0, sizeof(o));
		if (opts_set_colsep(&o, colseps[i].re) == -1)
			fuzz_fail(NAME, "--colsep %s does not compile",
			    colseps[i].re);
		compiled[i] = o.colsep_re;
	}
	return 0;
}

/* Whether c is a byte that -r counts blank and --trim strips. */
static int
is_blank(char c)
{
	return c != '\0' && strchr(" \t\r\n\v\f", c) != NULL;
}

/* Whether c is in the set of bytes that pattern cs matches. */
static int
in_set(int cs, char c)
{
	return c != '\0' && strchr(colseps[cs].set, c) != NULL;
}

/* Strip v as --trim t says. */
static struct piece
trimmed(struct piece v, enum trim t)
{
	if (t & TRIM_LEFT)
		for (; v.len > 0 && is_blank(*v.p); v.len--)
			v.p++;
	if (t & TRIM_RIGHT)
		for (; v.len > 0 && is_blank(v.p[v.len - 1]); v.len--)
			;
	return v;
}

static int
blank(const struct piece *v)
{
	size_t	 i;

	for (i = 0; i < v->len; i++)
		if (!is_blank(v->p[i]))
			return 0;
	return 1;
}

/* Check that field *f of record r is column c, trimmed; advances *f. */
static void
check_column(const struct record *r, size_t *f, struct piece c, enum trim t)
{
	c = trimmed(c, t);
	if (*f >= r->nfields)
		fuzz_fail(NAME, "record %llu: too few columns", r->num);
	if (r->lens[*f] != c.len || memcmp(r->fields[*f], c.p, c.len) != 0) {
		fuzz_dump("column", r->fields[*f], r->lens[*f]);
		fuzz_dump("expected", c.p, c.len);
		fuzz_fail(NAME, "record %llu: column %zu differs", r->num, *f);
	}
	(*f)++;
}

/*
 * Check the columns of value v starting at field *f of record r, as Perl's
 * split on pattern cs makes them (none: the value is one column); advances
 * *f.  A match is the leftmost, greedy one, never empty where the column
 * began, and the next column begins where it ends.
 */
static void
check_columns(const struct record *r, size_t *f, const struct piece *v,
    int cs, enum trim t)
{
	struct piece	 c;
	size_t		 start = 0, p, run;

	while (cs != 0 && start < v->len) {
		for (p = start; p <= v->len; p++) {
			for (run = 0; p + run < v->len &&
			    in_set(cs, v->p[p + run]); run++)
				if (colseps[cs].repeat == ONE) {
					run++;
					break;
				}
			if (run > 0 || (colseps[cs].repeat == STAR &&
			    p > start))
				break;
		}
		if (p > v->len)
			break;
		c.p = v->p + start;
		c.len = p - start;
		check_column(r, f, c, t);
		start = p + run;
	}
	c.p = v->p + start;
	c.len = v->len - start;
	check_column(r, f, c, t);
}

/*
 * Check one record against the tuple (a, b) of the model; a is the
 * streamed value, which may be skipped when it is over limit (0: none).
 */
static void
check_record(const struct record *r, const struct piece *a,
    const struct piece *b, int cs, enum trim t, size_t limit)
{
	size_t	 f = 0, i;
	int	 bad;

	for (i = 0; i < r->nfields; i++)
		if (r->fields[i][r->lens[i]] != '\0')
			fuzz_fail(NAME, "record %llu: field %zu not "
			    "NUL-terminated", r->num, i);
	bad = memchr(a->p, '\0', a->len) != NULL;
	if (r->flaw != (bad ? RECORD_NUL : RECORD_OK) &&
	    !(r->flaw == RECORD_TOO_LONG && !bad))
		fuzz_fail(NAME, "record %llu: flaw %d, the value %s a NUL",
		    r->num, r->flaw, bad ? "holds" : "has no");
	if (r->flaw == RECORD_TOO_LONG || (bad && r->nfields == 0)) {
		if (limit == 0 || a->len <= limit)
			fuzz_fail(NAME, "record %llu: not held, at %zu bytes "
			    "of a limit of %zu", r->num, a->len, limit);
		if (r->nfields != 0)
			fuzz_fail(NAME, "record %llu: too long, with fields",
			    r->num);
		return;
	}
	check_columns(r, &f, a, cs, t);
	if (b != NULL)
		check_columns(r, &f, b, cs, t);
	if (f != r->nfields)
		fuzz_fail(NAME, "record %llu: %zu columns, expected %zu",
		    r->num, r->nfields, f);
}

/* The data split into records as the model sees them; returns the count. */
static size_t
split(const char *d, size_t n, char delim, struct piece **out)
{
	struct piece	*v = NULL;
	size_t		 count = 0, cap = 0, start = 0, i;

	for (i = 0; i <= n; i++) {
		if (i < n && d[i] != delim)
			continue;
		if (i == n && start == n)
			break;		/* no last record after a delimiter */
		if (count == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[count].p = d + start;
		v[count++].len = i - start;
		start = i + 1;
	}
	*out = v;
	return count;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct source_spec	 specs[2];
	struct opts		 o;
	struct input		*in;
	struct record		*r;
	struct piece		*raw, second[NSECOND], *b;
	enum input_status	 st;
	struct buf		 feed = { 0 }, rebuilt = { 0 };
	char			 path[64];
	size_t			 nraw, nsecond, i, n, off = 0, chunk, times;
	size_t			 limit = 0;
	size_t			 expect_i = 0, expect_j = 0;
	unsigned long long	 num;
	int			 fds[2] = { -1, -1 }, memfd = 0, cs, skip;
	int			 rebuild;
	ssize_t			 w;

	if (size < 4)
		return -1;
	memset(&o, 0, sizeof(o));
	switch (data[0] & 3) {
	case 0:
		o.delim = '\n';
		break;
	case 1:
		o.delim = '\0';
		break;
	default:
		o.delim = (char)data[1];
		break;
	}
	if ((data[0] & 3) < 2 && data[1] > 0)
		limit = data[1] < 128 ? data[1] : (size_t)(data[1] - 127) * 2048;
	o.no_run_if_empty = (data[0] >> 2) & 1;
	memfd = (data[0] >> 4) & 1;
	cs = data[0] >> 5;
	o.colsep = colseps[cs].re;
	o.colsep_re = compiled[cs];
	switch (data[2] >> 6) {
	case 0:
		o.trim = cs != 0 ? TRIM_BOTH : TRIM_NONE;
		break;
	case 1:
		o.trim = TRIM_LEFT;
		break;
	case 2:
		o.trim = TRIM_RIGHT;
		break;
	default:
		o.trim = TRIM_NONE;
		break;
	}
	/*
	 * Repeated, records can outgrow the reader's 64 KiB buffer.  Many
	 * short records add nothing over a few and slow every run down.
	 */
	times = 1 + data[3];
	if (size > 4 && times > FEED_MAX / (size - 4))
		times = FEED_MAX / (size - 4);
	for (i = 4, n = 0; i < size; i++)
		n += data[i] == (uint8_t)o.delim;
	if (n > 0 && times > 1 && times * n > RECORDS_MAX)
		times = RECORDS_MAX / n > 0 ? RECORDS_MAX / n : 1;
	for (i = 0; i < times; i++)
		buf_add(&feed, data + 4, size - 4);
	if (feed.data == NULL)
		buf_add(&feed, "", 0);

	memset(specs, 0, sizeof(specs));
	specs[0].kind = SOURCE_FILE;
	specs[0].path = path;
	specs[1].kind = SOURCE_VALUES;
	specs[1].values = second_values;
	specs[1].nvalues = NSECOND;
	o.sources = specs;
	o.nsources = (data[0] >> 3) & 1 ? 2 : 1;
	nsecond = o.nsources == 2 ? NSECOND : 1;
	for (i = 0; i < NSECOND; i++) {
		second[i].p = second_values[i];
		second[i].len = strlen(second_values[i]);
	}

	if (memfd) {
		if ((fds[0] = memfd_create("records", 0)) == -1 ||
		    write_all(fds[0], feed.data, feed.len) == -1)
			fuzz_fail(NAME, "memfd: %s", strerror(errno));
	} else {
		if (pipe(fds) == -1)
			fuzz_fail(NAME, "pipe: %s", strerror(errno));
		/* A full pipe must not block the harness: the reader drains. */
		if (fcntl(fds[1], F_SETFL, O_NONBLOCK) == -1)
			fuzz_fail(NAME, "fcntl: %s", strerror(errno));
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
	if ((in = input_new(&o)) == NULL)
		fuzz_fail(NAME, "input_new failed");
	input_set_limit(in, limit);

	nraw = split(feed.data, feed.len, o.delim, &raw);
	num = 0;
	rebuild = cs == 0 && !o.no_run_if_empty && o.trim == TRIM_NONE;
	for (;;) {
		st = input_next(in, &r);
		if (st == INPUT_WAIT) {
			if (memfd || fds[1] == -1)
				fuzz_fail(NAME, "INPUT_WAIT with all input "
				    "there");
			if (input_fd(in) < 0)
				fuzz_fail(NAME, "INPUT_WAIT without an fd");
			/* The next chunk; EAGAIN leaves it for later. */
			chunk = 1 + ((data[2] & 63) * (off + 7)) % 97;
			if (data[3] > 0)
				chunk *= 257;
			if (chunk > feed.len - off)
				chunk = feed.len - off;
			if (chunk > 0 &&
			    (w = write(fds[1], feed.data + off, chunk)) > 0)
				off += (size_t)w;
			if (off == feed.len) {
				close(fds[1]);
				fds[1] = -1;
			}
			continue;
		}
		if (st == INPUT_ERROR)
			fuzz_fail(NAME, "INPUT_ERROR reading a pipe or memfd");
		if (st == INPUT_EOF)
			break;
		/* The model's next tuple that is not skipped. */
		for (;;) {
			if (expect_i >= nraw)
				fuzz_fail(NAME, "more records than the input "
				    "holds");
			b = o.nsources == 2 ? &second[expect_j] : NULL;
			num++;
			skip = o.no_run_if_empty && blank(&raw[expect_i]) &&
			    (b == NULL || blank(b));
			if (!skip)
				break;
			if (++expect_j == nsecond) {
				expect_j = 0;
				expect_i++;
			}
		}
		if (r->num != num)
			fuzz_fail(NAME, "record number %llu, expected %llu",
			    r->num, num);
		check_record(r, &raw[expect_i], b, cs, o.trim, limit);
		/* Rebuild the input from the records and their delimiters. */
		if (r->nfields == 0)
			rebuild = 0;	/* too long: not held */
		if (rebuild && expect_j == 0) {
			buf_add(&rebuilt, r->fields[0], r->lens[0]);
			buf_addc(&rebuilt, o.delim);
		}
		record_free(r);
		if (++expect_j == nsecond) {
			expect_j = 0;
			expect_i++;
		}
	}
	/* Whatever the model has left must all be skipped blanks. */
	for (; expect_i < nraw; expect_i++) {
		for (; expect_j < nsecond; expect_j++) {
			b = o.nsources == 2 ? &second[expect_j] : NULL;
			if (!o.no_run_if_empty || !blank(&raw[expect_i]) ||
			    (b != NULL && !blank(b)))
				fuzz_fail(NAME, "EOF before record %zu of %zu",
				    expect_i + 1, nraw);
		}
		expect_j = 0;
	}
	if (input_next(in, &r) != INPUT_EOF)
		fuzz_fail(NAME, "a record after INPUT_EOF");
	if (rebuild) {
		/* A missing final delimiter is the only difference allowed. */
		if (rebuilt.len > 0 && (feed.len == 0 ||
		    feed.data[feed.len - 1] != o.delim))
			rebuilt.len--;
		if (rebuilt.len != feed.len || (feed.len > 0 &&
		    memcmp(rebuilt.data, feed.data, feed.len) != 0))
			fuzz_fail(NAME, "records and delimiters do not "
			    "rebuild the input");
	}

	input_free(in);
	close(fds[0]);
	if (fds[1] != -1)
		close(fds[1]);
	free(raw);
	buf_free(&feed);
	buf_free(&rebuilt);
	return 0;
}
