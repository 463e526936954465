#include <err.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder.h"
#include "source.h"
#include "input.h"
#include "joblog.h"
#include "job.h"
#include "lookahead.h"
#include "opts.h"
#include "template.h"
#include "util.h"

#define TOO_LONG	"too long for a command line of %zu bytes"

/* The probes of value_floor(): how far each part of a path is grown. */
#define PROBE_GROW	64

struct builder {
	struct source		 src;
	struct input		*in;
	const struct template	*cmd;
	const struct template	*tag;		/* --tagstring or NULL */
	int			 tag_args;	/* --tag */
	size_t			 per_job;	/* most records in one job */
	const char		*per_opt;	/* the option that says so */
	int			 no_values;	/* -N0: none on the line */
	int			 exit_size;	/* -x: a job cut short stops */
	int			 spread;	/* -X, -m with several slots */
	size_t			 chunk;		/* spreading: records a job */
	size_t			 limit;		/* most bytes of a command line */
	size_t			 room;		/* most of argv, pointers in */
	size_t			 argc;		/* of the latest expansion */
	size_t			 base;		/* bytes with no values */
	unsigned long long	 part_k;	/* --partition: share K of N, */
	unsigned long long	 part_n;	/* or N 0 for every record */
	int			 part_rr;	/* by record number, not hash */
	unsigned int		 slots;		/* {%} is at most this */
	int			 by_slot;	/* {%} or {##} is used: render
						   at launch */
	const struct lookahead	*count;		/* {##}: the total, or NULL */
	int			 read_all;	/* {##}: every record first */
	size_t			 held;		/* bytes of the records held */
	unsigned long long	 most_jobs;	/* then: the most jobs */
	int			 keep_vals;	/* a sink names jobs by them */
	int			 to_stdin;	/* values go to stdin, ended by */
	char			 stdin_delim;	/* this, not on a command line */
	struct record		**recs;		/* read, not yet in a job */
	size_t			*cost;		/* what each adds to a line */
	size_t			 nrecs;
	size_t			 caprecs;
	int			 eof;
	int			 error;
	unsigned long long	 seq;
	unsigned long long	 rejected;
	unsigned long long	 last_rejected;	/* its record number */
	const struct resume	*resume;	/* jobs to skip, or NULL */
	char			**vals;		/* scratch for template_args */
	size_t			*lens;
	size_t			 capvals;
};

/*
 * The bytes a command line takes for one value s: its expansion alone
 * when the value is all a job has (its {1} and {-1} are the value too),
 * else only what a replacement of every value takes.
 */
static size_t
probe_cost(const struct builder *b, int alone, const char *s)
{
	char * const		 v[1] = { (char *)s };
	size_t			 len = strlen(s);
	struct template_args	 a = { .v = v, .len = &len, .n = 1 };
	struct buf		 line = { 0 };
	size_t			 cost;

	if (!alone)
		return template_value_cost(b->cmd, s, len);
	(void)template_expand(b->cmd, &a, &line, NULL);
	cost = template_line_cost(b->cmd, line.len);
	buf_free(&line);
	return cost;
}

/*
 * Whether every byte of a value but at most two lands on the command
 * line, so that a value over limit + 2 bytes can never run.  A value is
 * a directory, a name and an extension around a slash and a dot, and
 * each replacement string ({}, {.}, {/}, {//}, {/.}) takes some of these
 * three parts whole: the template takes them all when growing each part
 * grows the line as much.  {#} alone, or {1} of a job of several
 * values, takes none, and such a record runs whatever its length.
 */
static int
value_floor(const struct builder *b, int alone)
{
	char	 grow[PROBE_GROW + 1], probe[3][PROBE_GROW + 8];
	size_t	 base, k;

	memset(grow, 'p', PROBE_GROW);
	grow[PROBE_GROW] = '\0';
	(void)snprintf(probe[0], sizeof(probe[0]), "%s/n.e", grow);
	(void)snprintf(probe[1], sizeof(probe[1]), "d/%s.e", grow);
	(void)snprintf(probe[2], sizeof(probe[2]), "d/n.%s", grow);
	base = probe_cost(b, alone, "d/n.e");
	for (k = 0; k < 3; k++)
		if (probe_cost(b, alone, probe[k]) < base + PROBE_GROW - 1)
			return 0;
	return 1;
}

static const struct source_ops	builder_ops;

/* Make a builder for the given template(s). */
struct builder *
builder_new(const struct opts *o, struct input *in, const struct template *cmd,
    const struct template *tag, size_t sys, size_t room, unsigned int slots)
{
	struct builder	*b;

	/* As xargs: more than the environment leaves can never run. */
	if (o->max_chars > room) {
		warnx("-s %zu: more than the %zu bytes the environment leaves",
		    o->max_chars, room);
		return NULL;
	}
	b = xcalloc(1, sizeof(*b));
	b->room = room;
	b->src.ops = &builder_ops;
	b->src.ctx = b;
	b->slots = slots;
	b->by_slot = template_uses_slot(cmd) || template_uses_slot(tag) ||
	    template_uses_total(cmd) || template_uses_total(tag);
	/*
	 * The width of {##} and {0#} in a line is that of the number of
	 * jobs, which no job may wait for but which the records bound: each
	 * job has one at least.  Every record is read before the first job
	 * is made (GNU parallel reads them all for {##} too), and the lines
	 * are measured with that count.  Past LOOKAHEAD_MAX bytes of records
	 * they are not held for it: the lines are measured with the widest
	 * number instead, and the read-ahead spools the jobs.
	 */
	b->read_all = template_uses_total(cmd);
	b->most_jobs = ULLONG_MAX;
	b->in = in;
	b->cmd = cmd;
	b->tag = tag;
	b->tag_args = o->tag && tag == NULL;
	b->part_k = o->part_k;
	b->part_n = o->part_n;
	b->part_rr = o->part_rr;
	/*
	 * -N as -n and -L: fewer records when N do not fit, as GNU parallel
	 * does; a record fails only when it does not fit alone.
	 */
	if (o->max_args > 0) {
		b->per_job = o->max_args;
		b->per_opt = "-n";
	} else if (o->max_replace_args > 0) {
		b->per_job = o->max_replace_args;
		b->per_opt = "-N";
	} else if (o->max_lines > 0) {
		b->per_job = o->max_lines;
		b->per_opt = "-L";
	} else
		b->per_job = o->xargs || o->multi ? SIZE_MAX : 1;
	b->no_values = o->no_values;
	b->exit_size = o->exit_size;
	b->spread = o->spread && slots > 1;
	if (o->max_chars > 0) {
		b->limit = o->max_chars;
		if (b->limit > sys) {
			warnx("-s %zu: lowered to %zu, the system's limit",
			    b->limit, sys);
			b->limit = sys;
		}
	} else
		/*
		 * A job of one record has the same limit: a longer one would
		 * only fail in exec with E2BIG, without naming the record.
		 */
		b->limit = sys;
	b->base = template_base_cost(cmd);
	/*
	 * Columns may leave any part of a record out of the line, so with
	 * --colsep or --csv a record is held whole whatever its length.
	 */
	if (o->colsep == NULL && !o->csv && !b->no_values &&
	    value_floor(b, b->per_job == 1 && o->nsources <= 1))
		input_set_limit(in, b->limit + 2);
	return b;
}

/* Take {##} from the count of a read-ahead; see builder.h. */
void
builder_count_from(struct builder *b, const struct lookahead *la)
{
	b->count = la;
}

/* Keep each job's values in it until it ends; see builder.h. */
void
builder_keep_values(struct builder *b)
{
	b->keep_vals = 1;
}

/* Send the values to stdin rather than a command line; see builder.h. */
void
builder_stdin_values(struct builder *b, char delim)
{
	b->to_stdin = 1;
	b->stdin_delim = delim;
	b->limit = b->room = SIZE_MAX;
	input_set_limit(b->in, 0);
}

/*
 * Whether the first of the held records holds the delimiter of values
 * sent to stdin in a value: it would be read there as two records.
 */
static int
holds_stdin_delim(const struct builder *b)
{
	const struct record	*r = b->recs[0];
	size_t			 f;

	for (f = 0; b->to_stdin && f < r->nfields; f++)
		if (memchr(r->fields[f], b->stdin_delim, r->lens[f]) != NULL)
			return 1;
	return 0;
}

/* Release the builder and the records it holds. */
void
builder_free(struct builder *b)
{
	size_t	 i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nrecs; i++)
		record_free(b->recs[i]);
	free(b->recs);
	free(b->cost);
	free(b->vals);
	free(b->lens);
	free(b);
}

/* The builder as a source of jobs. */
struct source *
builder_source(struct builder *b)
{
	return &b->src;
}

/* The fd to poll after SOURCE_WAIT. */
static int
builder_fd(void *ctx)
{
	struct builder	*b = ctx;

	return input_fd(b->in);
}

/* Skip the jobs a joblog says are done. */
void
builder_set_resume(struct builder *b, const struct resume *r)
{
	b->resume = r;
}

/* Records that were reported instead of run, and the latest one. */
static unsigned long long
builder_rejected(void *ctx, unsigned long long *last)
{
	struct builder	*b = ctx;

	*last = b->last_rejected;
	return b->rejected;
}

/* Drop the first k held records. */
static void
drop_records(struct builder *b, size_t k)
{
	size_t	 i;

	for (i = 0; i < k; i++)
		record_free(b->recs[i]);
	memmove(b->recs, b->recs + k, (b->nrecs - k) * sizeof(*b->recs));
	memmove(b->cost, b->cost + k, (b->nrecs - k) * sizeof(*b->cost));
	b->nrecs -= k;
}

/*
 * Whether record r is in this run's --partition.  The hash is FNV-1a 64
 * of its values NUL-separated, as the command gets them: it depends on
 * the record alone, so adding or removing a record moves no other, and
 * it is the same on every machine.  A record whose bytes were not held
 * (too long) hashes as empty, so one partition alone reports it.
 */
static int
in_partition(const struct builder *b, const struct record *r)
{
	uint64_t	 h = UINT64_C(0xcbf29ce484222325);
	size_t		 i, c;

	if (b->part_n == 0)
		return 1;
	if (b->part_rr)
		return (r->num - 1) % b->part_n + 1 == b->part_k;
	for (i = 0; i < r->nfields; i++) {
		if (i > 0)
			h *= UINT64_C(0x100000001b3);	/* the NUL between */
		for (c = 0; c < r->lens[i]; c++) {
			h ^= (unsigned char)r->fields[i][c];
			h *= UINT64_C(0x100000001b3);
		}
	}
	return h % b->part_n + 1 == b->part_k;
}

/* Report record r and count it as a failed job. */
static void
reject(struct builder *b, const struct record *r, const char *why)
{
	warnx("input record %llu: %s", r->num, why);
	b->rejected++;
	b->last_rejected = r->num;
}

/* Report a record that input_next() found flawed. */
static void
reject_flawed(struct builder *b, const struct record *r)
{
	char	 msg[80];

	switch (r->flaw) {
	case RECORD_NUL:
		reject(b, r, "contains a NUL byte");
		break;
	case RECORD_TOO_LONG:
		(void)snprintf(msg, sizeof(msg), TOO_LONG, b->limit);
		reject(b, r, msg);
		break;
	case RECORD_NO_SPLIT:
		reject(b, r, "--colsep gave up on it (PCRE2's match limit)");
		break;
	case RECORD_CSV_QUOTE:
		reject(b, r, "not valid CSV: a stray quote");
		break;
	case RECORD_CSV_OPEN:
		reject(b, r, "not valid CSV: a quoted field is not closed");
		break;
	case RECORD_OK:
		break;
	}
}

/* Hold a record with its cost. */
static void
hold(struct builder *b, struct record *r)
{
	size_t	 i, c = 0;

	if (b->nrecs == b->caprecs) {
		b->caprecs = b->caprecs == 0 ? 16 : b->caprecs * 2;
		b->recs = xreallocarray(b->recs, b->caprecs, sizeof(*b->recs));
		b->cost = xreallocarray(b->cost, b->caprecs, sizeof(*b->cost));
	}
	for (i = 0; !b->no_values && i < r->nfields; i++)
		c += template_value_cost(b->cmd, r->fields[i], r->lens[i]);
	b->recs[b->nrecs] = r;
	b->cost[b->nrecs++] = c;
}

/*
 * Read records until a job's worth is held: per_job records, or more
 * than fit the limit, or the end.  When spreading, one more if it is
 * there already, to see whether the end comes next.  Returns SOURCE_JOB
 * when done, or SOURCE_WAIT, or SOURCE_REJECTED right after a record was
 * rejected, so that the caller counts it before any later job starts.
 */
static enum source_status
fill(struct builder *b)
{
	struct record		*r;
	enum input_status	 st;
	size_t			 total = b->base, i, want;

	for (i = 0; i < b->nrecs; i++)
		total += b->cost[i];
	want = b->per_job;
	if (b->spread && want < SIZE_MAX)
		want++;
	while (!b->eof && !b->error && (b->read_all || (b->nrecs < want &&
	    (b->nrecs == 0 || total <= b->limit)))) {
		st = input_next(b->in, &r);
		/* A full job does not wait for the look ahead. */
		if (st == INPUT_WAIT)
			return b->nrecs >= b->per_job && !b->read_all ?
			    SOURCE_JOB : SOURCE_WAIT;
		if (st == INPUT_EOF) {
			b->eof = 1;
			if (b->read_all)
				b->most_jobs = b->seq + b->nrecs;
			break;
		}
		if (st == INPUT_ERROR) {
			b->error = 1;
			break;
		}
		/* Another partition's record, run or reported there. */
		if (!in_partition(b, r)) {
			record_free(r);
			continue;
		}
		if (r->flaw != RECORD_OK) {
			reject_flawed(b, r);
			record_free(r);
			return SOURCE_REJECTED;
		}
		hold(b, r);
		total += b->cost[b->nrecs - 1];
		b->held += r->nfields * sizeof(char *) + sizeof(*r);
		for (i = 0; i < r->nfields; i++)
			b->held += r->lens[i];
		if (b->held > LOOKAHEAD_MAX)
			b->read_all = 0;
	}
	return SOURCE_JOB;
}

/* Room for n values in the scratch arrays. */
static void
reserve_vals(struct builder *b, size_t n)
{
	if (n > b->capvals) {
		b->capvals = n;
		b->vals = xreallocarray(b->vals, n, sizeof(*b->vals));
		b->lens = xreallocarray(b->lens, n, sizeof(*b->lens));
	}
}

/*
 * Expand the n values in the scratch arrays into job j for slot; returns
 * the line's bytes.  An edit that failed is in *fail (NULL: not asked).
 */
static size_t
expand_vals(struct builder *b, struct job *j, size_t n, unsigned int slot,
    unsigned long long total, struct template_failure *fail)
{
	struct template_failure	 tagfail;
	struct template_args	 a = { 0 };
	struct buf		 t = { 0 };
	size_t			 i, argc, bytes;

	a.v = b->vals;
	a.len = b->lens;
	a.n = n;
	a.seq = j->seq;
	a.slot = slot;
	a.total = total;
	/* Set at launch; when measured, {host} is taken at its widest. */
	if (j->slot != 0)
		a.host = j->host != NULL ? j->host : ":";
	argc = template_expand(b->cmd, &a, &j->cmd, fail);
	job_set_argv(j, argc, template_uses_shell(b->cmd) ?
	    template_shell(b->cmd) : NULL);
	bytes = template_line_cost(b->cmd, j->cmd.len);
	/* SHELL -c LINE */
	b->argc = template_uses_shell(b->cmd) ? 3 : argc;
	free(j->tag);
	j->tag = NULL;
	if (b->tag != NULL) {
		(void)template_expand(b->tag, &a, &t, &tagfail);
		if (fail != NULL && !fail->failed && tagfail.failed)
			*fail = tagfail;
		buf_addc(&t, '\t');
		j->tag = t.data;
	} else if (b->tag_args) {
		for (i = 0; i < n; i++) {
			if (i > 0)
				buf_addc(&t, ' ');
			buf_add(&t, b->vals[i], b->lens[i]);
		}
		buf_addc(&t, '\t');
		j->tag = t.data;
	}
	return bytes;
}

/*
 * Expand the first k held records into job j; returns the line's bytes.
 * The slot and the total are not known yet: {%} is measured at its
 * widest, the number of slots, {##} at the most jobs there can be, and
 * both are rendered again at launch.  An edit that failed is in *fail.
 */
static size_t
expand(struct builder *b, struct job *j, size_t k,
    struct template_failure *fail)
{
	size_t	 i, f, n = 0;

	for (i = 0; !b->no_values && i < k; i++)
		n += b->recs[i]->nfields;
	reserve_vals(b, n);
	for (i = 0, n = 0; !b->no_values && i < k; i++)
		for (f = 0; f < b->recs[i]->nfields; f++) {
			b->vals[n] = b->recs[i]->fields[f];
			b->lens[n++] = b->recs[i]->lens[f];
		}
	return expand_vals(b, j, n, b->slots, b->most_jobs, fail);
}

/*
 * With {%}, keep the first k held records' values in j for render(); on
 * request, for the sinks.
 */
static void
keep_values(struct builder *b, struct job *j, size_t k)
{
	size_t	 i, f;

	if ((!b->by_slot && !b->keep_vals) || b->no_values)
		return;
	for (i = 0; i < k; i++)
		for (f = 0; f < b->recs[i]->nfields; f++) {
			buf_add(&j->vals, b->recs[i]->fields[f],
			    b->recs[i]->lens[f]);
			buf_addc(&j->vals, '\0');
			j->nvals++;
		}
}

/*
 * Render j for its slot and the total: only {%} and {##} can have
 * changed since it was built.
 */
static void
builder_render(void *ctx, struct job *j)
{
	struct builder		*b = ctx;
	const char		*p;
	size_t			 i;
	unsigned long long	 total = 0;
	int			 final;

	if (!b->by_slot)
		return;
	reserve_vals(b, j->nvals);
	for (i = 0, p = j->vals.data; i < j->nvals; i++) {
		b->vals[i] = (char *)p;
		b->lens[i] = strlen(p);
		p += b->lens[i] + 1;
	}
	if (b->count != NULL)
		total = lookahead_count(b->count, &final);
	/* The values were edited as they were when the job was built. */
	(void)expand_vals(b, j, j->nvals, j->slot, total, NULL);
}

/*
 * Whether the latest expansion, of the given bytes, is too long: for -s,
 * or for what the environment leaves once argv's pointers are counted,
 * which for many short arguments is the tighter of the two.
 */
static int
too_long(const struct builder *b, size_t bytes)
{
	return bytes > b->limit ||
	    bytes + (b->argc + 1) * sizeof(char *) > b->room;
}

/*
 * The first k records make too long a line: find how many do fit, leave
 * them expanded in j and return their count (1 if even one is too long).
 * The estimate can be far off (-X with {#} in a repeated word costs more
 * than template_value_cost() says), and taking off one record at a time
 * then expands the line thousands of times: search instead, starting
 * where the measured bytes per record say the limit falls.
 */
static size_t
fit(struct builder *b, struct job *j, size_t k, size_t *bytes,
    struct template_failure *fail)
{
	size_t	 lo = 0, hi = k, mid, guess, last = k;

	/* lo records fit (0 trivially), hi records do not. */
	guess = (size_t)((double)k * b->limit / *bytes);
	while (hi - lo > 1) {
		mid = guess > lo && guess < hi ? guess : lo + (hi - lo) / 2;
		guess = 0;
		*bytes = expand(b, j, mid, fail);
		last = mid;
		if (!too_long(b, *bytes))
			lo = mid;
		else
			hi = mid;
	}
	if (lo == 0)
		lo = 1;
	if (last != lo)
		*bytes = expand(b, j, lo, fail);
	return lo;
}

/*
 * An edit of the first k held records' values failed: reject the record
 * whose value it was, and hold the others for the next job.
 */
static enum source_status
reject_value(struct builder *b, size_t k, const struct template_failure *fail)
{
	size_t	 i, n = 0;

	for (i = 0; i + 1 < k && !b->no_values; i++) {
		if (fail->value < n + b->recs[i]->nfields)
			break;
		n += b->recs[i]->nfields;
	}
	reject(b, b->recs[i], fail->why);
	record_free(b->recs[i]);
	memmove(b->recs + i, b->recs + i + 1,
	    (b->nrecs - i - 1) * sizeof(*b->recs));
	memmove(b->cost + i, b->cost + i + 1,
	    (b->nrecs - i - 1) * sizeof(*b->cost));
	b->nrecs--;
	return SOURCE_REJECTED;
}

/*
 * xargs -x: the next job, of k records, does not fit in a command line;
 * say so, naming the record or the option that groups them, and end the
 * input.
 */
static enum source_status
cut_short(struct builder *b, size_t k)
{
	if (k > 1)
		warnx("-x: %s %zu: the job from input record %llu does not "
		    "fit in a command line of %zu bytes", b->per_opt,
		    b->per_job, b->recs[0]->num, b->limit);
	else
		warnx("-x: input record %llu does not fit in a command line "
		    "of %zu bytes", b->recs[0]->num, b->limit);
	b->error = 1;
	return SOURCE_ERROR;
}

/* The next job; see enum source_status. */
static enum source_status
builder_next(void *ctx, struct job **jobp)
{
	struct builder		*b = ctx;
	struct job		*j;
	struct template_failure	 fail;
	enum source_status	 st;
	size_t			 k, i, total, bytes, want;
	char			 msg[80];

	for (;;) {
		if ((st = fill(b)) != SOURCE_JOB)
			return st;
		if (b->nrecs == 0)
			return b->error ? SOURCE_ERROR : SOURCE_DONE;
		/* Take as many as the estimate says fit, at least one. */
		total = b->base;
		for (k = 0; k < b->nrecs && k < b->per_job; k++) {
			if (k > 0 && total + b->cost[k] > b->limit)
				break;
			total += b->cost[k];
		}
		if (b->exit_size && b->per_job < SIZE_MAX && k < b->per_job &&
		    k < b->nrecs)
			return cut_short(b, b->per_job);
		/*
		 * GNU parallel's -X and -m: once what is left fits in one
		 * job, it goes to as many jobs as there are slots, each
		 * taking the share of the first, rounded up.
		 */
		if (b->spread && b->eof && b->chunk == 0 && k == b->nrecs)
			b->chunk = (b->nrecs + b->slots - 1) / b->slots;
		if (b->chunk > 0 && k > b->chunk)
			k = b->chunk;
		/* Once, not on every attempt of --retries. */
		if (holds_stdin_delim(b)) {
			reject(b, b->recs[0], "holds a newline, which ends a "
			    "record for a worker: not sent (-0 sends records "
			    "NUL-terminated)");
			drop_records(b, 1);
			return SOURCE_REJECTED;
		}
		/* A job the joblog has: its number is used, it is not run. */
		if (b->resume != NULL && resume_skip(b->resume, b->seq + 1)) {
			drop_records(b, k);
			b->seq++;
			continue;
		}
		j = job_new(b->seq + 1);
		bytes = expand(b, j, k, &fail);
		want = k;
		if (too_long(b, bytes) && k > 1)
			k = fit(b, j, k, &bytes, &fail);
		if (fail.failed) {
			job_free(j);
			return reject_value(b, k, &fail);
		}
		/* -x: cut short by the line, not only by the estimate. */
		if (b->exit_size && (too_long(b, bytes) ||
		    (k < want && b->per_job < SIZE_MAX))) {
			job_free(j);
			return cut_short(b, too_long(b, bytes) ? k : b->per_job);
		}
		if (too_long(b, bytes)) {
			(void)snprintf(msg, sizeof(msg), TOO_LONG, b->limit);
			for (i = 0; i < k; i++)
				reject(b, b->recs[i], msg);
			job_free(j);
			drop_records(b, k);
			return SOURCE_REJECTED;
		}
		keep_values(b, j, k);
		drop_records(b, k);
		b->seq++;
		*jobp = j;
		return SOURCE_JOB;
	}
}

static const struct source_ops	builder_ops = {
	.next = builder_next,
	.fd = builder_fd,
	.render = builder_render,
	.rejected = builder_rejected,
};
