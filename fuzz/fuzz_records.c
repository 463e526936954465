/*
 * The record splitter, through the real input_new() / input_next() path:
 * the fuzz input is fed through a pipe in fuzzer-chosen chunks (input_next
 * must answer INPUT_WAIT, never block, between them) or through a memfd
 * read as a file, for every delimiter mode, --colsep, -r and a second
 * source.  What comes out is checked against a model of the input:
 *
 *   - the records are the input split at the delimiter, a missing final
 *     delimiter aside, so records and delimiters rebuild the input;
 *   - record numbers count every tuple from 1, skipped blank ones too;
 *   - bad is set exactly when a value holds a NUL byte;
 *   - with a literal --colsep the columns are the record split there.
 *
 * Input: four header bytes, then the data.
 *   byte 0: bits 0-1 delimiter (newline, -0, -d byte 1, -d byte 1),
 *           bit 2 -r, bit 3 ::: x '' ' ' as a second source,
 *           bit 4 a memfd instead of a pipe, bits 5-7 --colsep (none or
 *           one of the patterns below)
 *   byte 1: the -d byte
 *   byte 2: chunk size seed for the pipe
 *   byte 3: the data is repeated 1 + byte 3 times, up to 256 KiB and
 *           4096 records in all
 */
#include <sys/mman.h>

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

/* --colsep patterns; set and plus describe what a match is, for the model. */
static const struct {
	const char	*re;
	const char	*set;		/* NULL: no model, run it only */
	int		 plus;		/* a run of set bytes, else one */
} colseps[8] = {
	{ NULL, NULL, 0 },
	{ "\t", "\t", 0 },
	{ ",", ",", 0 },
	{ "[ \t]+", " \t", 1 },
	{ "[,;]+", ",;", 1 },
	{ ":", ":", 0 },
	{ "x*", NULL, 0 },		/* matches the empty string */
	{ "(a|bc)$", NULL, 0 },
};

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
	(void)argc;
	(void)argv;
	fuzz_report_init();
	return 0;
}

static int
blank(const struct piece *v)
{
	size_t	 i;

	for (i = 0; i < v->len; i++)
		if (v->p[i] == '\0' || strchr(" \t\r\n\v\f", v->p[i]) == NULL)
			return 0;
	return 1;
}

/*
 * Check the columns of value v starting at field *f of record r, as a
 * literal --colsep cs would split them; advances *f.
 */
static void
check_columns(const struct record *r, size_t *f, const struct piece *v,
    int cs)
{
	const char	*set = colseps[cs].set;
	size_t		 start = 0, i = 0, end;

	for (;;) {
		while (i < v->len && (set == NULL ||
		    strchr(set, v->p[i]) == NULL))
			i++;
		end = i;
		if (*f >= r->nfields)
			fuzz_fail(NAME, "record %llu: too few columns",
			    r->num);
		if (r->lens[*f] != end - start ||
		    memcmp(r->fields[*f], v->p + start, end - start) != 0) {
			fuzz_dump("column", r->fields[*f], r->lens[*f]);
			fuzz_dump("expected", v->p + start, end - start);
			fuzz_fail(NAME, "record %llu: column %zu differs",
			    r->num, *f);
		}
		(*f)++;
		if (i == v->len)
			return;
		i++;
		while (colseps[cs].plus && i < v->len &&
		    strchr(set, v->p[i]) != NULL)
			i++;
		start = i;
	}
}

/* Check one record against the tuple (a, b) of the model. */
static void
check_record(const struct record *r, const struct piece *a,
    const struct piece *b, int cs)
{
	size_t	 f = 0, i;
	int	 bad;

	for (i = 0; i < r->nfields; i++)
		if (r->fields[i][r->lens[i]] != '\0')
			fuzz_fail(NAME, "record %llu: field %zu not "
			    "NUL-terminated", r->num, i);
	bad = memchr(a->p, '\0', a->len) != NULL;
	if (r->bad != bad)
		fuzz_fail(NAME, "record %llu: bad is %d, the value %s a NUL",
		    r->num, r->bad, bad ? "holds" : "has no");
	if (cs == 0) {
		if (r->nfields != (b != NULL ? 2 : 1) ||
		    r->lens[0] != a->len ||
		    memcmp(r->fields[0], a->p, a->len) != 0 ||
		    (b != NULL && (r->lens[1] != b->len ||
		    memcmp(r->fields[1], b->p, b->len) != 0))) {
			fuzz_dump("expected", a->p, a->len);
			fuzz_dump("got", r->fields[0], r->lens[0]);
			fuzz_fail(NAME, "record %llu: values differ", r->num);
		}
		return;
	}
	/* regexec() stops at a NUL: columns of a bad value are not modelled. */
	if (colseps[cs].set == NULL || bad)
		return;
	check_columns(r, &f, a, cs);
	if (b != NULL)
		check_columns(r, &f, b, cs);
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
	size_t			 expect_i = 0, expect_j = 0;
	unsigned long long	 num;
	int			 fds[2] = { -1, -1 }, memfd = 0, cs, skip;
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
	o.no_run_if_empty = (data[0] >> 2) & 1;
	memfd = (data[0] >> 4) & 1;
	cs = data[0] >> 5;
	o.colsep = colseps[cs].re;
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

	nraw = split(feed.data, feed.len, o.delim, &raw);
	num = 0;
	for (;;) {
		st = input_next(in, &r);
		if (st == INPUT_WAIT) {
			if (memfd || fds[1] == -1)
				fuzz_fail(NAME, "INPUT_WAIT with all input "
				    "there");
			if (input_fd(in) < 0)
				fuzz_fail(NAME, "INPUT_WAIT without an fd");
			/* The next chunk; EAGAIN leaves it for later. */
			chunk = 1 + (data[2] * (off + 7)) % 97;
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
		check_record(r, &raw[expect_i], b, cs);
		/* Rebuild the input from the records and their delimiters. */
		if (cs == 0 && expect_j == 0 && !o.no_run_if_empty) {
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
	if (cs == 0 && !o.no_run_if_empty) {
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
