/*
 * fpstress: the job and the checker of the forkpool stress tests.
 *
 *   fpstress emit SEED MAXFILL WRITES ID
 *	Write job ID's output: records on stdout and on stderr, each
 *	"J<ID> <o|e> <N> <fill>\n" with a fill of 0 to MAXFILL bytes of any
 *	value but '\n'.  How much each stream gets (0 to 1 MiB, mostly
 *	small), how long each fill is and what it holds follow from SEED,
 *	ID, the stream and N alone.  About 1 stream in 20 ends without its
 *	last '\n'.  WRITES is "r" for one write(2) per record (atomic below
 *	PIPE_BUF, for -u) or "c" for chunks of random sizes that cut
 *	records anywhere; both streams are written alternately.
 *
 *   fpstress check SEED MAXFILL NJOBS STREAM [tag] [whole] [ordered] [msgs]
 *	Read from stdin what forkpool printed on one stream (o or e) of
 *	jobs 1..NJOBS emitted with SEED and MAXFILL, and check that every
 *	record of every job is there exactly once, byte for byte, in the
 *	job's own order.
 *	tag: every record follows "<ID>\t", as --tag prints it; whole: each
 *	job's records are contiguous; ordered: jobs appear in increasing
 *	order; msgs: forkpool's own messages (a line starting "forkpool: "
 *	where a record may start) are printed and skipped.  Prints a
 *	summary line last (records, bytes, errors, jobs incomplete, jobs
 *	seen); exits 1 with the first errors.
 *
 *   fpstress save DIR ARG...
 *	Write every ARG followed by a NUL byte to DIR/$FORKPOOL_SEQ.
 *
 *   fpstress records SEED N MAXLEN DELIM
 *	Write N random records, each ended by the byte DELIM (a number):
 *	mostly up to 300 bytes, 1 in 1000 up to MAXLEN, of any value but
 *	NUL and DELIM.
 *
 *   fpstress spin BYTES
 *	Write BYTES bytes of 'x' lines to stdout.
 *
 *   fpstress reaper PIDFILE CMD [ARG...]
 *	Run CMD in a process group of its own, as a shell does, writing its
 *	pid to PIDFILE, and wait for it, as a child subreaper: whatever CMD
 *	leaves behind, alive or zombie, becomes a child of the reaper.  Each
 *	such process is named on stderr, killed and reaped, and the reaper
 *	exits 99; otherwise it exits as CMD did (128 + N for signal N).
 */
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIB		(1024 * 1024)
#define POOL_SIZE	(64 * 1024)	/* fill bytes are read from here */
#define MAX_ERRORS	10

static unsigned char	 pool[POOL_SIZE];

/* splitmix64's finalizer: a good 64-bit mix. */
static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* A random number for (seed, a, b, c). */
static uint64_t
rnd(uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
	return mix(seed ^ mix(a ^ mix(b ^ mix(c))));
}

static void
pool_init(uint64_t seed)
{
	uint64_t	 x = mix(seed);
	size_t		 i;

	/* One mix per 8 bytes: this runs once in every job. */
	for (i = 0; i < POOL_SIZE; i += 8) {
		x = mix(x);
		memcpy(pool + i, &x, 8);
	}
	for (i = 0; i < POOL_SIZE; i++)
		if (pool[i] == '\n')
			pool[i] = 'n';
}

/* Bytes a stream (0 stdout, 1 stderr) of a job gets, roughly. */
static size_t
stream_size(uint64_t seed, uint64_t id, int s)
{
	uint64_t	 r = rnd(seed, id, (uint64_t)s, 1);
	uint64_t	 p = r % 1000, v = r >> 16;

	if (p < 100)
		return 0;
	if (p < 850)
		return 1 + v % 2048;
	if (p < 980)
		return 2048 + v % (64 * 1024);
	return 64 * 1024 + v % (MIB - 64 * 1024 + 1);
}

/* Whether the stream's last record has no '\n'. */
static int
stream_noeol(uint64_t seed, uint64_t id, int s)
{
	return rnd(seed, id, (uint64_t)s, 2) % 20 == 0;
}

/* The fill length of record n: mostly short, a few up to maxfill. */
static size_t
fill_len(uint64_t seed, uint64_t id, int s, uint64_t n, size_t maxfill)
{
	uint64_t	 r = rnd(seed, id, ((uint64_t)s << 40) | n, 3);
	uint64_t	 p = r % 100, v = r >> 8;
	size_t		 m;

	m = p < 90 ? 100 : p < 99 ? 4000 : maxfill;
	if (m > maxfill)
		m = maxfill;
	return (size_t)(v % (m + 1));
}

/* Where in the pool the fill of record n starts. */
static size_t
fill_at(uint64_t seed, uint64_t id, int s, uint64_t n)
{
	return (size_t)(rnd(seed, id, ((uint64_t)s << 40) | n, 4) %
	    POOL_SIZE);
}

/* Copy len fill bytes from the pool, wrapping around, into p. */
static void
fill_copy(unsigned char *p, size_t at, size_t len)
{
	size_t	 n;

	while (len > 0) {
		n = POOL_SIZE - at < len ? POOL_SIZE - at : len;
		memcpy(p, pool + at, n);
		p += n;
		len -= n;
		at = 0;
	}
}

/* Compare len bytes at p with the fill; 0 when equal. */
static int
fill_cmp(const unsigned char *p, size_t at, size_t len)
{
	size_t	 n;

	while (len > 0) {
		n = POOL_SIZE - at < len ? POOL_SIZE - at : len;
		if (memcmp(p, pool + at, n) != 0)
			return 1;
		p += n;
		len -= n;
		at = 0;
	}
	return 0;
}

/* The header of record n into buf; returns its length. */
static size_t
header(char *buf, size_t size, uint64_t id, int s, uint64_t n)
{
	return (size_t)snprintf(buf, size, "J%llu %c %llu ",
	    (unsigned long long)id, s == 0 ? 'o' : 'e', (unsigned long long)n);
}

/* How many records a stream has. */
static uint64_t
stream_records(uint64_t seed, uint64_t id, int s, size_t maxfill)
{
	char		 h[64];
	size_t		 size = stream_size(seed, id, s), total = 0;
	uint64_t	 n;

	for (n = 0; total < size; n++)
		total += header(h, sizeof(h), id, s, n) +
		    fill_len(seed, id, s, n, maxfill) + 1;
	return n;
}

static int
write_all(int fd, const unsigned char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One stream being written. */
struct emitter {
	int		 fd;
	int		 s;
	uint64_t	 n, count;
	int		 noeol;
	unsigned char	*buf;
	size_t		 len, cap;
};

/* Append the next record to e->buf. */
static void
emit_record(struct emitter *e, uint64_t seed, uint64_t id, size_t maxfill)
{
	char	 h[64];
	size_t	 hl, fl;

	hl = header(h, sizeof(h), id, e->s, e->n);
	fl = fill_len(seed, id, e->s, e->n, maxfill);
	if (e->len + hl + fl + 1 > e->cap) {
		e->cap = (e->len + hl + fl + 1) * 2;
		if ((e->buf = realloc(e->buf, e->cap)) == NULL)
			exit(3);
	}
	memcpy(e->buf + e->len, h, hl);
	fill_copy(e->buf + e->len + hl, fill_at(seed, id, e->s, e->n), fl);
	e->len += hl + fl;
	if (e->n + 1 < e->count || !e->noeol)
		e->buf[e->len++] = '\n';
	e->n++;
}

static int
cmd_emit(int argc, char **argv)
{
	struct emitter	 e[2];
	uint64_t	 seed, id, w = 0;
	size_t		 maxfill, chunk;
	int		 s, per_record, left;

	if (argc != 6)
		return 2;
	seed = strtoull(argv[2], NULL, 10);
	maxfill = strtoull(argv[3], NULL, 10);
	per_record = strcmp(argv[4], "r") == 0;
	id = strtoull(argv[5], NULL, 10);
	pool_init(seed);
	for (s = 0; s < 2; s++) {
		memset(&e[s], 0, sizeof(e[s]));
		e[s].fd = s + 1;
		e[s].s = s;
		e[s].count = stream_records(seed, id, s, maxfill);
		e[s].noeol = stream_noeol(seed, id, s);
	}
	do {
		left = 0;
		for (s = 0; s < 2; s++) {
			if (e[s].n == e[s].count && e[s].len == 0)
				continue;
			left = 1;
			if (per_record) {
				emit_record(&e[s], seed, id, maxfill);
				if (write_all(e[s].fd, e[s].buf, e[s].len) == -1)
					return 1;
				e[s].len = 0;
				continue;
			}
			chunk = 1 + rnd(seed, id, w++, 5) % (96 * 1024);
			while (e[s].n < e[s].count && e[s].len < chunk)
				emit_record(&e[s], seed, id, maxfill);
			if (chunk > e[s].len)
				chunk = e[s].len;
			if (write_all(e[s].fd, e[s].buf, chunk) == -1)
				return 1;
			memmove(e[s].buf, e[s].buf + chunk, e[s].len - chunk);
			e[s].len -= chunk;
		}
	} while (left);
	return 0;
}

/* What the checker knows of one job's stream. */
struct seen {
	uint64_t	 count;		/* records it must have */
	uint64_t	 next;		/* records seen */
};

struct checker {
	uint64_t	 seed;
	size_t		 maxfill;
	uint64_t	 njobs;
	int		 s;
	int		 tag, whole, ordered, msgs;
	struct seen	*jobs;
	unsigned char	*data;
	size_t		 len, pos;
	size_t		 start;		/* of the record being checked */
	unsigned long long	 current;	/* job of the previous record */
	int		 errors;
	uint64_t	 records;
};

static void __attribute__((format(printf, 2, 3)))
report(struct checker *c, const char *fmt, ...)
{
	va_list	 ap;

	if (c->errors++ < MAX_ERRORS) {
		fprintf(stderr, "fpstress: offset %zu: ", c->start);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

/* Parse a decimal number ending in stop; -1 when there is none. */
static int
number(struct checker *c, unsigned long long *v, int stop)
{
	size_t	 start = c->pos;

	*v = 0;
	while (c->pos < c->len && c->data[c->pos] >= '0' &&
	    c->data[c->pos] <= '9' && c->pos - start < 19)
		*v = *v * 10 + (unsigned long long)(c->data[c->pos++] - '0');
	if (c->pos == start || c->pos >= c->len || c->data[c->pos] != stop)
		return -1;
	c->pos++;
	return 0;
}

/* Check one record at c->pos; -1 when the stream cannot be parsed on. */
static int
check_record(struct checker *c)
{
	struct seen	*j;
	unsigned long long	 id, tagid = 0, n;
	size_t		 fl, at = c->pos;
	char		 want = c->s == 0 ? 'o' : 'e';

	c->start = at;

	if (c->tag && number(c, &tagid, '\t') == -1) {
		c->pos = at;
		report(c, "no tag where a record starts");
		return -1;
	}
	if (c->pos >= c->len || c->data[c->pos++] != 'J' ||
	    number(c, &id, ' ') == -1 || c->pos + 2 > c->len ||
	    c->data[c->pos] != want || c->data[c->pos + 1] != ' ') {
		c->pos = at;
		report(c, "not a record of this stream");
		return -1;
	}
	c->pos += 2;
	if (number(c, &n, ' ') == -1 || id < 1 || id > c->njobs) {
		c->pos = at;
		report(c, "bad record header");
		return -1;
	}
	if (c->tag && tagid != id)
		report(c, "record of job %llu tagged as job %llu", id, tagid);
	j = &c->jobs[id];
	if (n != j->next) {
		report(c, "job %llu: record %llu out of place", id, n);
		if (n < j->next)
			report(c, "  (a duplicate: %llu records seen)",
			    (unsigned long long)j->next);
	}
	if (id != c->current) {
		if (c->whole && c->current != 0 &&
		    c->jobs[c->current].next != c->jobs[c->current].count)
			report(c, "job %llu: interrupted by job %llu",
			    c->current, id);
		if (c->whole && n != 0)
			report(c, "job %llu: resumes at record %llu", id, n);
		if (c->ordered && id < c->current)
			report(c, "job %llu: printed after job %llu", id,
			    c->current);
		c->current = id;
	}
	if (n >= j->count) {
		report(c, "job %llu: record %llu beyond its last", id, n);
		return -1;
	}
	fl = fill_len(c->seed, id, c->s, n, c->maxfill);
	if (c->pos + fl > c->len ||
	    fill_cmp(c->data + c->pos, fill_at(c->seed, id, c->s, n), fl)) {
		report(c, "job %llu: record %llu has wrong bytes", id, n);
		return -1;
	}
	c->pos += fl;
	if (n + 1 < j->count || !stream_noeol(c->seed, id, c->s)) {
		if (c->pos >= c->len || c->data[c->pos] != '\n') {
			report(c, "job %llu: record %llu is cut", id, n);
			return -1;
		}
		c->pos++;
	}
	j->next = n + 1;
	c->records++;
	return 0;
}

static int
cmd_check(int argc, char **argv)
{
	struct checker	 c = { 0 };
	unsigned char	*p;
	uint64_t	 id, missing = 0, seen = 0;
	size_t		 cap = MIB;
	ssize_t		 n;
	int		 i;

	if (argc < 6)
		return 2;
	c.seed = strtoull(argv[2], NULL, 10);
	c.maxfill = strtoull(argv[3], NULL, 10);
	c.njobs = strtoull(argv[4], NULL, 10);
	c.s = strcmp(argv[5], "e") == 0;
	for (i = 6; i < argc; i++) {
		c.tag |= strcmp(argv[i], "tag") == 0;
		c.whole |= strcmp(argv[i], "whole") == 0;
		c.ordered |= strcmp(argv[i], "ordered") == 0;
		c.msgs |= strcmp(argv[i], "msgs") == 0;
	}
	pool_init(c.seed);
	if ((c.jobs = calloc(c.njobs + 1, sizeof(*c.jobs))) == NULL ||
	    (c.data = malloc(cap)) == NULL)
		return 3;
	for (id = 1; id <= c.njobs; id++)
		c.jobs[id].count = stream_records(c.seed, id, c.s, c.maxfill);
	for (;;) {
		if (c.len == cap && (c.data = realloc(c.data, cap *= 2)) == NULL)
			return 3;
		if ((n = read(STDIN_FILENO, c.data + c.len, cap - c.len)) <= 0)
			break;
		c.len += (size_t)n;
	}
	while (c.pos < c.len) {
		if (c.msgs && c.len - c.pos > 10 &&
		    memcmp(c.data + c.pos, "forkpool: ", 10) == 0) {
			p = memchr(c.data + c.pos, '\n', c.len - c.pos);
			n = p != NULL ? p - c.data + 1 - (ssize_t)c.pos :
			    (ssize_t)(c.len - c.pos);
			fwrite(c.data + c.pos, 1, (size_t)n, stdout);
			c.pos += (size_t)n;
			continue;
		}
		if (check_record(&c) == -1)
			break;
	}
	if (c.pos < c.len)
		fprintf(stderr, "fpstress: %zu bytes left unchecked\n",
		    c.len - c.pos);
	for (id = 1; id <= c.njobs; id++) {
		seen += c.jobs[id].next > 0;
		if (c.jobs[id].next != c.jobs[id].count) {
			if (missing++ < MAX_ERRORS)
				fprintf(stderr, "fpstress: job %llu: %llu of %llu"
				    " records\n", (unsigned long long)id,
				    (unsigned long long)c.jobs[id].next,
				    (unsigned long long)c.jobs[id].count);
		}
	}
	printf("%llu records, %zu bytes, %d errors, %llu jobs incomplete, "
	    "%llu seen\n", (unsigned long long)c.records, c.len, c.errors,
	    (unsigned long long)missing, (unsigned long long)seen);
	return c.errors == 0 && missing == 0 && c.pos == c.len ? 0 : 1;
}

static int
cmd_save(int argc, char **argv)
{
	char		 path[4096];
	const char	*seq = getenv("FORKPOOL_SEQ");
	int		 fd, i;

	if (argc < 3 || seq == NULL)
		return 2;
	snprintf(path, sizeof(path), "%s/%s", argv[2], seq);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644)) == -1)
		return 1;
	for (i = 3; i < argc; i++)
		if (write_all(fd, (unsigned char *)argv[i],
		    strlen(argv[i]) + 1) == -1)
			return 1;
	return close(fd) == 0 ? 0 : 1;
}

static int
cmd_records(int argc, char **argv)
{
	uint64_t	 seed, n, i, r;
	size_t		 maxlen, len, k;
	unsigned char	*rec;
	int		 delim;

	if (argc != 6)
		return 2;
	seed = strtoull(argv[2], NULL, 10);
	n = strtoull(argv[3], NULL, 10);
	maxlen = strtoull(argv[4], NULL, 10);
	delim = atoi(argv[5]);
	if ((rec = malloc(maxlen + 301)) == NULL)
		return 3;
	for (i = 0; i < n; i++) {
		r = rnd(seed, i, 0, 6);
		len = r % 1000 == 0 ? (size_t)((r >> 10) % (maxlen + 1)) :
		    (size_t)((r >> 10) % 301);
		for (k = 0; k < len; k++) {
			rec[k] = (unsigned char)(rnd(seed, i, k, 8) & 0xff);
			if (rec[k] == 0 || rec[k] == delim)
				rec[k] = 'z';
		}
		rec[len] = (unsigned char)delim;
		if (write_all(STDOUT_FILENO, rec, len + 1) == -1)
			return 1;
	}
	free(rec);
	return 0;
}

static int
cmd_spin(int argc, char **argv)
{
	unsigned char	 buf[64 * 1024];
	size_t		 left, n;

	if (argc != 3)
		return 2;
	left = strtoull(argv[2], NULL, 10);
	memset(buf, 'x', sizeof(buf));
	for (n = 63; n < sizeof(buf); n += 64)
		buf[n] = '\n';
	while (left > 0) {
		n = left < sizeof(buf) ? left : sizeof(buf);
		if (write_all(STDOUT_FILENO, buf, n) == -1)
			return 1;
		left -= n;
	}
	return 0;
}

/* Kill and reap the reaper's children; returns how many there were. */
static int
leftovers(void)
{
	char		 path[64], line[512], *p;
	struct dirent	*d;
	DIR		*dir;
	FILE		*f;
	long		 ppid;
	pid_t		 pid;
	int		 n = 0;

	if ((dir = opendir("/proc")) == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL) {
		if ((pid = (pid_t)atol(d->d_name)) <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		p = fgets(line, sizeof(line), f);
		fclose(f);
		/* pid (comm) state ppid ...: comm may hold blanks. */
		if (p == NULL || (p = strrchr(line, ')')) == NULL ||
		    sscanf(p + 1, " %*c %ld", &ppid) != 1 ||
		    ppid != (long)getpid())
			continue;
		p[2 + strspn(p + 1, " ")] = '\0';
		fprintf(stderr, "fpstress: left behind: %s\n", line);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		n++;
	}
	closedir(dir);
	return n;
}

static int
cmd_reaper(int argc, char **argv)
{
	char	 tmp[4096];
	FILE	*f;
	pid_t	 pid;
	int	 status;

	if (argc < 4)
		return 2;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		return 3;
	if ((pid = fork()) == -1)
		return 3;
	if (pid == 0) {
		setpgid(0, 0);
		execvp(argv[3], argv + 3);
		_exit(127);
	}
	setpgid(pid, pid);
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[2]);
	if ((f = fopen(tmp, "w")) == NULL)
		return 3;
	fprintf(f, "%ld\n", (long)pid);
	if (fclose(f) != 0 || rename(tmp, argv[2]) != 0)
		return 3;
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return 3;
	if (leftovers() > 0)
		return 99;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "emit") == 0)
		return cmd_emit(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return cmd_check(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "save") == 0)
		return cmd_save(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "spin") == 0)
		return cmd_spin(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "records") == 0)
		return cmd_records(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "reaper") == 0)
		return cmd_reaper(argc, argv);
	fprintf(stderr, "usage: fpstress emit|check|save|records|spin|reaper ...\n");
	return 2;
}
