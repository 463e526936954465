#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH	8
#include <pcre2.h>

#include "job.h"
#include "opts.h"
#include "pipe.h"
#include "runner.h"
#include "source.h"
#include "template.h"
#include "util.h"

/* GNU parallel's default --block. */
#define BLOCK_DEFAULT	(1024 * 1024)

/*
 * What a cut may look at past --block, for a --recstart (or a pattern)
 * that must follow the record's end.  --pipe reads this much more before
 * it cuts, and --pipe-part reads it too, so both cut in the same places.
 */
#define CUT_SLACK	(64 * 1024)

/* --pipe-part: how much before a nominal cut is read to find the cut. */
#define CUT_WINDOW	(64 * 1024)

/*
 * One block for a job, or with --round-robin the job's current block.  It
 * belongs to the job (job.h: input) until the job runs no more.
 */
struct job_input {
	struct pipe_src	*src;
	char		*data;		/* --pipe: the block, owned */
	size_t		 len;		/* its bytes (and --pipe-part's) */
	off_t		 from;		/* --pipe-part: where it starts */
	size_t		 hdone;		/* header bytes written */
	size_t		 done;		/* block bytes written */
	int		 rr;		/* --round-robin: more blocks follow */
	char		*path;		/* --cat: the block's file, --fifo:
					   the named pipe; owned */
	int		 fifo;		/* --fifo */
	int		 fed;		/* --pipe-part: counted in feeding */
};

/*
 * How far the search for the current block's end went, so that a read
 * adds only its new bytes to the search: the cost of a record far longer
 * than --block stays linear.  Zeroed when the block is cut.
 */
struct cut_state {
	size_t		 k;		/* -N, -L: records found */
	size_t		 p;		/* their end */
	size_t		 scan;		/* see next_sep() */
	int		 noend;		/* no record ends within --block */
};

struct pipe_src {
	struct source		 src;
	const struct opts	*o;
	const struct template	*cmd;
	const struct template	*tag;
	int			 fd;		/* stdin, or the file */
	const char		*name;		/* the file's, for messages */
	const char		*opt;		/* --pipe or --pipe-part, too */
	int			 own_fd;	/* the file was opened here */
	int			 regular;	/* reads never wait */
	int			 part;		/* --pipe-part, or stdin cut as it */
	int			 grows;		/* stdin: sized again at its end */
	off_t			 fsize;		/* its size */
	off_t			 off;		/* the next block's start */
	char			*end;		/* --recend, escapes undone */
	size_t			 endlen;
	char			*start;		/* --recstart */
	size_t			 startlen;
	int			 anywhere;	/* both empty: a record is a byte,
						   and a block ends anywhere */
	pcre2_code		*re;		/* --regexp: END(?=(START)) */
	pcre2_code		*lead;		/* --regexp: START */
	pcre2_code		*tail;		/* --regexp --rrs: END\z */
	pcre2_match_data	*md;
	size_t			 block;
	size_t			 records;	/* -N, -L: per block, or 0 */
	struct buf		 header;
	int			 header_done;
	char			*buf;		/* read, not in a block yet */
	size_t			 len;
	size_t			 cap;
	int			 eof;
	int			 done;		/* no block is left */
	int			 done_told;	/* prefetch() said so */
	int			 error;
	int			 error_told;	/* next() said SOURCE_ERROR */
	unsigned long long	 feeding;	/* --pipe-part: jobs that hold
						   a range of the file */
	int			 warned;	/* of a record over --block */
	struct cut_state	 cs;
	struct job_input	*ready;		/* cut ahead, no job yet */
	char			*fifo_dir;	/* --fifo: private, for the
						   named pipes; owned */
	unsigned long long	 seq;
};

static const struct source_ops	pipe_ops;

/* Undo \n \t \r \0 \\ and \xHH in s, as GNU parallel's --recend takes them. */
static char *
unescape(const char *s, size_t *lenp)
{
	struct buf	 b = { 0 };
	char		 hex[3] = { 0 };

	for (; *s != '\0'; s++) {
		if (*s != '\\' || s[1] == '\0') {
			buf_addc(&b, *s);
			continue;
		}
		switch (*++s) {
		case 'n': buf_addc(&b, '\n'); break;
		case 't': buf_addc(&b, '\t'); break;
		case 'r': buf_addc(&b, '\r'); break;
		case '0': buf_addc(&b, '\0'); break;
		case '\\': buf_addc(&b, '\\'); break;
		case 'x':
			if (strspn(s + 1, "0123456789abcdefABCDEF") >= 2) {
				memcpy(hex, s + 1, 2);
				buf_addc(&b, (char)strtol(hex, NULL, 16));
				s += 2;
				break;
			}
			/* FALLTHROUGH */
		default:
			buf_addc(&b, '\\');
			buf_addc(&b, *s);
			break;
		}
	}
	*lenp = b.len;
	buf_addc(&b, '\0');
	return b.data;
}

/* Compile a --regexp pattern; NULL after a message naming opt. */
static pcre2_code *
compile(const char *opt, const char *given, const char *pattern)
{
	PCRE2_UCHAR	 msg[256];
	PCRE2_SIZE	 off;
	pcre2_code	*re;
	int		 rc;

	/* Bytes, as the input is: no UTF mode. */
	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    PCRE2_DOTALL, &rc, &off, NULL);
	if (re == NULL) {
		(void)pcre2_get_error_message(rc, msg, sizeof(msg));
		warnx("%s %s: %s", opt, given, (char *)msg);
	}
	return re;
}

/* The separators from the options; -1 after a message. */
static int
separators(struct pipe_src *s, const struct opts *o)
{
	/* --recstart alone splits before it, as GNU parallel's. */
	const char	*end = o->recend != NULL ? o->recend :
			    o->recstart != NULL ? "" : "\\n";
	const char	*start = o->recstart != NULL ? o->recstart : "";
	struct buf	 pat = { 0 };

	/*
	 * Both empty: every byte ends a record, as in GNU parallel, so a
	 * block is --block bytes (-N: N bytes); a pattern needs no engine.
	 */
	if (!o->regexp || (*end == '\0' && *start == '\0')) {
		s->end = unescape(o->regexp ? "" : end, &s->endlen);
		s->start = unescape(o->regexp ? "" : start, &s->startlen);
		s->anywhere = s->endlen == 0 && s->startlen == 0;
		return 0;
	}
	buf_adds(&pat, "(?:");
	buf_adds(&pat, end);
	buf_adds(&pat, ")(?=(");
	buf_adds(&pat, start);
	buf_adds(&pat, "))");
	s->re = compile(o->recend != NULL ? "--recend" : "--recstart",
	    o->recend != NULL ? o->recend : start, pat.data);
	buf_free(&pat);
	if (s->re == NULL || (s->lead = compile("--recstart", start,
	    start)) == NULL)
		return -1;
	if (o->rrs && *end != '\0') {
		buf_adds(&pat, "(?:");
		buf_adds(&pat, end);
		buf_adds(&pat, ")\\z");
		s->tail = compile("--recend", end, pat.data);
		buf_free(&pat);
		if (s->tail == NULL)
			return -1;
	}
	s->md = pcre2_match_data_create(4, NULL);
	return 0;
}

/*
 * Whether a record ends at p of b (len bytes, eof: the input ends
 * there), for literal separators: 1, 0, or -1 when the bytes after p
 * are not read yet.
 */
static int
literal_at(const struct pipe_src *s, const char *b, size_t len, int eof,
    size_t p)
{
	if (p == 0 || p < s->endlen)
		return 0;
	if (s->endlen > 0 && memcmp(b + p - s->endlen, s->end, s->endlen) != 0)
		return 0;
	if (p + s->startlen > len)
		return eof ? 0 : -1;
	return memcmp(b + p, s->start, s->startlen) == 0;
}

/*
 * The first separator whose record end is past from: sep gets where
 * its --recend starts, the end (the boundary), and where its --recstart
 * ends.  1 when found, 0 when there is none in b, -1 when more must be
 * read to know.  *scan (NULL: none) says where an earlier search of the
 * same bytes stopped, and is set to where the next may resume after -1:
 * for literal separators, every record end up to it was looked at; for
 * --regexp, no match starts before it (PCRE2_PARTIAL_HARD reports the
 * first place one still might).
 */
static int
next_sep(const struct pipe_src *s, const char *b, size_t len, int eof,
    size_t from, size_t *sep, size_t *scan)
{
	PCRE2_SIZE	*ov;
	const char	*q;
	size_t		 at, p, none = 0;
	int		 rc;

	if (scan == NULL)
		scan = &none;
	if (s->re != NULL) {
		for (at = from > *scan ? from : *scan; at <= len;) {
			rc = pcre2_match(s->re, (PCRE2_SPTR)b, len, at,
			    eof ? 0 : PCRE2_PARTIAL_HARD, s->md, NULL);
			if (rc == PCRE2_ERROR_PARTIAL) {
				*scan = pcre2_get_ovector_pointer(s->md)[0];
				return -1;
			}
			if (rc < 0) {
				*scan = len;
				return eof ? 0 : -1;
			}
			ov = pcre2_get_ovector_pointer(s->md);
			if (ov[1] > from && ov[1] > 0) {
				sep[0] = ov[0];
				sep[1] = ov[1];
				sep[2] = ov[3];
				return 1;
			}
			at = ov[0] + 1;
		}
		*scan = len;
		return eof ? 0 : -1;
	}
	if (from < *scan)
		from = *scan;
	if (s->endlen == 0) {
		at = from + 1;
		if (at < len && (q = memmem(b + at, len - at, s->start,
		    s->startlen)) != NULL) {
			p = (size_t)(q - b);
			sep[0] = sep[1] = p;
			sep[2] = p + s->startlen;
			return 1;
		}
		/* A --recstart may straddle the end of what is read. */
		*scan = len >= s->startlen ? len - s->startlen : 0;
		if (*scan < from)
			*scan = from;
		return eof ? 0 : -1;
	}
	at = from + 1 >= s->endlen ? from + 1 - s->endlen : 0;
	while (at < len && (q = memmem(b + at, len - at, s->end,
	    s->endlen)) != NULL) {
		p = (size_t)(q - b) + s->endlen;
		switch (literal_at(s, b, len, eof, p)) {
		case 1:
			sep[0] = p - s->endlen;
			sep[1] = p;
			sep[2] = p + s->startlen;
			return 1;
		case -1:
			*scan = p - 1;
			return -1;
		default:
			break;
		}
		at = (size_t)(q - b) + 1;
	}
	*scan = len > from ? len : from;
	return eof ? 0 : -1;
}

/*
 * The first record end past from, where the input's end is one; 0 for
 * none, -1 when more must be read.
 */
static ssize_t
next_end(const struct pipe_src *s, const char *b, size_t len, int eof,
    size_t from, size_t *scan)
{
	size_t	 sep[3];
	int	 rc;

	if ((rc = next_sep(s, b, len, eof, from, sep, scan)) == 1)
		return (ssize_t)sep[1];
	if (rc == -1)
		return -1;
	return len > from ? (ssize_t)len : 0;
}

/*
 * The last record end at most limit bytes into b; 0 for none, -1 when
 * more must be read.  Literal separators are looked for backwards, so
 * that --pipe-part reads only around the cut; a pattern's search goes on
 * from *scan (NULL: from the start), as next_sep()'s.
 */
static ssize_t
last_end(const struct pipe_src *s, const char *b, size_t len, int eof,
    size_t limit, size_t *scan)
{
	const char	*q;
	ssize_t		 p, last = 0;
	size_t		 hi;
	int		 c;

	if (eof && limit >= len)
		return (ssize_t)len;
	if (s->anywhere)
		return (ssize_t)(limit < len ? limit : len);
	if (s->re != NULL) {
		while ((p = next_end(s, b, len, eof, (size_t)last,
		    scan)) > 0 &&
		    (size_t)p <= limit)
			last = p;
		return last > 0 || p != -1 ? last : -1;
	}
	/* Found by --recend's last byte, or by --recstart's first. */
	if (s->endlen > 0)
		c = (unsigned char)s->end[s->endlen - 1];
	else
		c = (unsigned char)s->start[0];
	hi = s->endlen > 0 ? (limit < len ? limit : len) :
	    (limit + 1 < len ? limit + 1 : len);
	while (hi > 0 && (q = memrchr(b, c, hi)) != NULL) {
		p = (ssize_t)(q - b) + (s->endlen > 0);
		switch (literal_at(s, b, len, eof, (size_t)p)) {
		case 1:
			return p;
		case -1:
			return -1;
		default:
			break;
		}
		hi = (size_t)(q - b);
	}
	return 0;
}

/*
 * Where the block at the start of b ends (b holds len bytes, the input
 * ends there if eof): 0 when b is empty at the end, -1 when more must be
 * read.  *over is set for a record longer than --block.  c keeps the
 * search between calls on the same block, which b only grows.
 */
static ssize_t
cut(const struct pipe_src *s, struct cut_state *c, const char *b, size_t len,
    int eof, int *over)
{
	ssize_t	 p;

	*over = 0;
	if (len == 0)
		return eof ? 0 : -1;
	if (s->records > 0) {
		/* A record that ends where the bytes read end may be all. */
		for (; c->k < s->records && (c->p < len || !eof); c->k++) {
			if ((p = next_end(s, b, len, eof, c->p,
			    &c->scan)) == -1)
				return -1;
			c->p = (size_t)p;
		}
		return (ssize_t)c->p;
	}
	if (!eof && len < s->block + CUT_SLACK)
		return -1;
	if (!c->noend && (p = last_end(s, b, len, eof, s->block,
	    &c->scan)) != 0)
		return p;
	c->noend = 1;
	/* No record ends within the block: the first that ends is one. */
	if ((p = next_end(s, b, len, eof, s->block, &c->scan)) > 0)
		*over = 1;
	return p;
}

/*
 * The header's length at the start of b: --header's lines, or what its
 * pattern matches there; -1 when more must be read.  An input that ends
 * inside the header has none: its bytes are a block, as in GNU parallel.
 */
static ssize_t
header_len(const struct pipe_src *s, const char *b, size_t len, int eof)
{
	const struct opts	*o = s->o;
	pcre2_match_data	*md;
	const char		*q;
	size_t			 at = 0;
	unsigned int		 n;
	int			 rc;

	if (o->header_re == NULL) {
		for (n = 0; n < o->header_lines; n++) {
			if ((q = memchr(b + at, '\n', len - at)) == NULL)
				return eof ? 0 : -1;
			at = (size_t)(q - b) + 1;
		}
		return (ssize_t)at;
	}
	/* PCRE2 finds no partial match in nothing. */
	if (len == 0 && !eof)
		return -1;
	md = pcre2_match_data_create_from_pattern(o->header_re, NULL);
	rc = pcre2_match(o->header_re, (PCRE2_SPTR)b, len, 0, PCRE2_ANCHORED |
	    (eof ? 0 : PCRE2_PARTIAL_HARD), md, NULL);
	at = rc >= 0 ? pcre2_get_ovector_pointer(md)[1] : 0;
	pcre2_match_data_free(md);
	return rc == PCRE2_ERROR_PARTIAL ? -1 : (ssize_t)at;
}

/* The length of the --recend that ends the len bytes of b, or 0. */
static size_t
tail_len(const struct pipe_src *s, const char *b, size_t len)
{
	pcre2_match_data	*md;
	size_t			 n = 0;

	if (s->tail == NULL)
		return s->re == NULL && s->endlen > 0 && len >= s->endlen &&
		    memcmp(b + len - s->endlen, s->end, s->endlen) == 0 ?
		    s->endlen : 0;
	md = pcre2_match_data_create(1, NULL);
	if (pcre2_match(s->tail, (PCRE2_SPTR)b, len, 0, 0, md, NULL) >= 0)
		n = len - pcre2_get_ovector_pointer(md)[0];
	pcre2_match_data_free(md);
	return n;
}

/*
 * --rrs: take the separators out of the block of p bytes at the start
 * of b (len bytes read, eof as for cut()); returns the bytes left.
 */
static size_t
strip(const struct pipe_src *s, char *b, size_t len, int eof, size_t p)
{
	pcre2_match_data	*md;
	size_t			 sep[3], r = 0, w = 0, from = 0;

	if (s->anywhere)
		return p;
	/* A --recstart at the very start. */
	if (s->lead != NULL) {
		md = pcre2_match_data_create(1, NULL);
		if (pcre2_match(s->lead, (PCRE2_SPTR)b, p, 0, PCRE2_ANCHORED,
		    md, NULL) >= 0)
			r = pcre2_get_ovector_pointer(md)[1];
		pcre2_match_data_free(md);
	} else if (s->startlen > 0 && p >= s->startlen &&
	    memcmp(b, s->start, s->startlen) == 0)
		r = s->startlen;
	while (next_sep(s, b, len, eof, from, sep, NULL) == 1 &&
	    sep[1] <= p) {
		if (sep[0] > r) {
			memmove(b + w, b + r, sep[0] - r);
			w += sep[0] - r;
		}
		/* A --recstart after the block's end is the next block's. */
		r = sep[1] == p ? p : sep[2] > r ? sep[2] : r;
		from = sep[1];
		if (sep[1] == p)
			break;
	}
	/*
	 * The input's last record ends with --recend and no --recstart
	 * follows: that --recend goes too, as GNU parallel's.
	 */
	if (eof && p == len && r < p)
		p -= tail_len(s, b + r, p - r);
	if (p > r) {
		memmove(b + w, b + r, p - r);
		w += p - r;
	}
	return w;
}

/*
 * Read what stdin has into the buffer: 1 when something came or the
 * input ended, 0 when nothing is there yet, -1 after a message.
 */
static int
fill(struct pipe_src *s)
{
	struct pollfd	 pfd = { .fd = s->fd, .events = POLLIN };
	ssize_t		 n;

	if (s->len == s->cap) {
		s->cap *= 2;
		s->buf = xreallocarray(s->buf, s->cap, 1);
	}
	/* Never wait in read(): the loop has more to do. */
	if (!s->regular && poll(&pfd, 1, 0) == 0)
		return 0;
	n = read(s->fd, s->buf + s->len, s->cap - s->len);
	if (n == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		warn("reading stdin");
		return -1;
	}
	if (n == 0)
		s->eof = 1;
	s->len += (size_t)n;
	return 1;
}

/* Say once that a record is longer than --block. */
static void
warn_over(struct pipe_src *s, size_t len)
{
	if (s->warned)
		return;
	s->warned = 1;
	warnx("a record of %zu bytes is longer than --block %zu: it goes "
	    "whole in a block of its own", len, s->block);
}

/* --pipe: cut the next block from stdin into *inp. */
static enum source_status
cut_stream(struct pipe_src *s, struct job_input **inp)
{
	struct job_input	*in;
	ssize_t			 p;
	size_t			 cap;
	int			 over = 0;

	for (;;) {
		if (!s->header_done) {
			if ((p = header_len(s, s->buf, s->len, s->eof)) >= 0) {
				buf_add(&s->header, s->buf, (size_t)p);
				memmove(s->buf, s->buf + p, s->len - (size_t)p);
				s->len -= (size_t)p;
				s->header_done = 1;
				continue;
			}
		} else if ((p = cut(s, &s->cs, s->buf, s->len, s->eof,
		    &over)) >= 0)
			break;
		switch (fill(s)) {
		case 0:
			return SOURCE_WAIT;
		case -1:
			return SOURCE_ERROR;
		}
	}
	memset(&s->cs, 0, sizeof(s->cs));
	if (p == 0)
		return SOURCE_DONE;
	if (over)
		warn_over(s, (size_t)p);
	in = xcalloc(1, sizeof(*in));
	in->src = s;
	in->data = s->buf;
	in->len = (size_t)p;
	/*
	 * The rest goes to a new buffer; the block is not copied.  It is
	 * as large as the last, which grew with what came: a --block of
	 * 2G-1 over a small input takes no more.
	 */
	cap = s->cap;
	while (cap < s->len - (size_t)p + 1)
		cap *= 2;
	s->buf = xmalloc(cap);
	memcpy(s->buf, in->data + p, s->len - (size_t)p);
	if (s->o->rrs)
		in->len = strip(s, in->data, s->len, s->eof, (size_t)p);
	s->len -= (size_t)p;
	s->cap = cap;
	*inp = in;
	return SOURCE_JOB;
}

/* Read len bytes of the file at off into the buffer; -1 after a message. */
static int
read_at(struct pipe_src *s, off_t off, size_t len)
{
	ssize_t	 n;
	size_t	 got = 0;

	if (len > s->cap) {
		s->cap = len;
		s->buf = xreallocarray(s->buf, s->cap, 1);
	}
	while (got < len) {
		n = pread(s->fd, s->buf + got, len - got, off + (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				warnx("%s %s: the file shrank "
				    "while read: the blocks from byte %lld on "
				    "do not run", s->opt, s->name,
				    (long long)s->off);
			else
				warn("%s %s", s->opt, s->name);
			return -1;
		}
		got += (size_t)n;
	}
	s->len = len;
	return 0;
}

/*
 * Where the block at off ends in the file, read from off on: the
 * general way, for patterns, -N and a record longer than --block.
 */
static ssize_t
cut_read(struct pipe_src *s, int *over)
{
	size_t	 want, left;
	ssize_t	 p;

	/*
	 * -N, -L: the block is N records, whatever --block says: read from
	 * a little up, not --block bytes for each block.
	 */
	want = s->records > 0 ? CUT_SLACK : s->block + CUT_SLACK;

	/* Each read is of the same bytes and more: the search goes on. */
	memset(&s->cs, 0, sizeof(s->cs));
	left = (size_t)(s->fsize - s->off);
	for (;;) {
		if (want > left)
			want = left;
		if (read_at(s, s->off, want) == -1)
			return -2;
		if ((p = cut(s, &s->cs, s->buf, want, want == left,
		    over)) != -1)
			return p;
		want *= 2;
	}
}

/*
 * --pipe-part: the next block's range of the file into *inp.  With
 * literal separators only the bytes around the nominal end are read.
 */
static enum source_status
cut_part(struct pipe_src *s, struct job_input **inp)
{
	struct job_input	*in;
	struct stat		 st;
	size_t			 left, wlen;
	off_t			 ws, we;
	ssize_t			 p = 0, q;
	int			 over = 0;

	/* Read to its end, as --pipe reads: it may have grown. */
	if (s->grows && fstat(s->fd, &st) == 0 && st.st_size > s->fsize)
		s->fsize = st.st_size;
	/* stdin's offset follows the blocks, as reads would move it. */
	if (!s->own_fd)
		(void)lseek(s->fd, s->off, SEEK_SET);
	if (s->off >= s->fsize)
		return SOURCE_DONE;
	left = (size_t)(s->fsize - s->off);
	if (s->records == 0 && left <= s->block)
		p = (ssize_t)left;
	else if (s->records == 0 && s->re == NULL) {
		ws = s->off + (off_t)s->block - CUT_WINDOW;
		if (ws < s->off)
			ws = s->off;
		we = s->off + (off_t)s->block + CUT_SLACK;
		if (we > s->fsize)
			we = s->fsize;
		wlen = (size_t)(we - ws);
		if (read_at(s, ws, wlen) == -1)
			return SOURCE_ERROR;
		q = last_end(s, s->buf, wlen, we == s->fsize,
		    (size_t)(s->off + (off_t)s->block - ws), NULL);
		if (q > 0)
			p = (ssize_t)(ws + q - s->off);
	}
	if (p == 0 && (p = cut_read(s, &over)) == -2)
		return SOURCE_ERROR;
	if (over)
		warn_over(s, (size_t)p);
	/*
	 * Cut at the end of stdin: that was its end, as a pipe's end of
	 * file is.  What is added later would split the last record.
	 */
	if (s->off + p >= s->fsize)
		s->grows = 0;
	in = xcalloc(1, sizeof(*in));
	in->src = s;
	in->from = s->off;
	in->len = (size_t)p;
	s->off += p;
	*inp = in;
	return SOURCE_JOB;
}

/* The next block, into *inp. */
static enum source_status
cut_block(struct pipe_src *s, struct job_input **inp)
{
	enum source_status	 st;

	if (s->done)
		return SOURCE_DONE;
	st = s->part ? cut_part(s, inp) : cut_stream(s, inp);
	if (st == SOURCE_DONE || st == SOURCE_ERROR)
		s->done = 1;
	if (st == SOURCE_ERROR)
		s->error = 1;
	return st;
}

/* Release a job's input, and its --cat file. */
static void
input_free(struct job_input *in)
{
	if (in->fed)
		in->src->feeding--;
	if (in->path != NULL) {
		(void)unlink(in->path);
		free(in->path);
	}
	free(in->data);
	free(in);
}

/*
 * --cat: put the header and the block in a file of its own (private,
 * 0600, in the --tmpdir) for {} to name; -1 after a message.
 */
static int
to_file(struct pipe_src *s, struct job_input *in)
{
	const char	*dir = opts_tmpdir(s->o);
	struct buf	 path = { 0 };
	loff_t		 from = in->from;
	ssize_t		 n;
	size_t		 left = in->len;
	int		 fd, rc = 0;

	buf_adds(&path, dir);
	buf_adds(&path, "/forkpool.XXXXXX");
	if ((fd = mkostemp(path.data, O_CLOEXEC)) == -1) {
		warn("--cat: %s", path.data);
		buf_free(&path);
		return -1;
	}
	in->path = path.data;
	if (write_all(fd, s->header.data, s->header.len) == -1)
		rc = -1;
	if (rc == 0 && !s->part && write_all(fd, in->data, in->len) == -1)
		rc = -1;
	while (rc == 0 && s->part && left > 0) {
		if ((n = copy_file_range(s->fd, &from, fd, NULL, left,
		    0)) <= 0) {
			if (n == 0)
				warnx("%s %s: the file shrank "
				    "while read: job %llu would not get its "
				    "block", s->opt, s->name, s->seq + 1);
			else
				warn("--cat: %s", in->path);
			rc = -2;
			break;
		}
		left -= (size_t)n;
	}
	if (rc == -1)
		warn("--cat: %s", in->path);
	if (close(fd) == -1 && rc == 0) {
		warn("--cat: %s", in->path);
		rc = -1;
	}
	free(in->data);
	in->data = NULL;
	in->len = 0;
	return rc < 0 ? -1 : 0;
}

/*
 * --fifo: a named pipe (0600, in a private directory of the --tmpdir)
 * for {} to name; the job's block is written into it as the job reads.
 * -1 after a message.
 */
static int
to_fifo(struct pipe_src *s, struct job_input *in, unsigned long long seq)
{
	struct buf	 path = { 0 };
	char		 name[32];

	if (s->fifo_dir == NULL) {
		buf_adds(&path, opts_tmpdir(s->o));
		buf_adds(&path, "/forkpool.XXXXXX");
		if (mkdtemp(path.data) == NULL) {
			warn("--fifo: %s", path.data);
			buf_free(&path);
			return -1;
		}
		s->fifo_dir = path.data;
		path.data = NULL;
		buf_free(&path);
	}
	(void)snprintf(name, sizeof(name), "/%llu", seq);
	buf_adds(&path, s->fifo_dir);
	buf_adds(&path, name);
	if (mkfifo(path.data, 0600) == -1) {
		warn("--fifo: %s", path.data);
		buf_free(&path);
		return -1;
	}
	in->path = path.data;
	in->fifo = 1;
	return 0;
}

/* A job for the block in. */
static enum source_status
make_job(struct pipe_src *s, struct job_input *in, struct job **jobp)
{
	struct job	*j;

	in->rr = s->o->round_robin;
	if ((s->o->cat && to_file(s, in) == -1) ||
	    (s->o->fifo && to_fifo(s, in, s->seq + 1) == -1)) {
		input_free(in);
		s->error = s->done = 1;
		return SOURCE_ERROR;
	}
	j = job_new(++s->seq);
	if (s->part) {
		in->fed = 1;
		s->feeding++;
	}
	j->input = in;
	j->input_free = input_free;
	*jobp = j;
	return SOURCE_JOB;
}

/* Source: the next job, one per block. */
static enum source_status
pipe_next(void *ctx, struct job **jobp)
{
	struct pipe_src		*s = ctx;
	struct job_input	*in;
	enum source_status	 st;

	if ((in = s->ready) != NULL) {
		s->ready = NULL;
		return make_job(s, in, jobp);
	}
	/* Said once, when found ahead or while a block was fed. */
	if (s->error) {
		st = s->error_told ? SOURCE_DONE : SOURCE_ERROR;
		s->error_told = 1;
		return st;
	}
	if ((st = cut_block(s, &in)) == SOURCE_ERROR)
		s->error_told = 1;
	/*
	 * --pipe-part: the file may yet shrink under a job's range, which
	 * makes the run fail: the end waits for the jobs that hold one.
	 */
	if (st == SOURCE_DONE && s->feeding > 0)
		return SOURCE_IDLE;
	if (st != SOURCE_JOB)
		return st;
	return make_job(s, in, jobp);
}

/*
 * Source: cut the next block ahead, while the jobs run: one at most, so
 * that memory holds one block beyond the running jobs'.  Says once that
 * there is no block left, for the --round-robin jobs waiting for one.
 */
static int
pipe_prefetch(void *ctx, int *fdp)
{
	struct pipe_src	*s = ctx;

	*fdp = -1;
	if (s->ready == NULL && !s->done) {
		switch (cut_block(s, &s->ready)) {
		case SOURCE_JOB:
			return 1;
		case SOURCE_WAIT:
			*fdp = s->fd;
			return 0;
		default:
			break;
		}
	}
	if (s->done && s->ready == NULL && !s->done_told) {
		s->done_told = 1;
		return 1;
	}
	return 0;
}

/* Source: the fd to poll for input. */
static int
pipe_fd(void *ctx)
{
	struct pipe_src	*s = ctx;

	return s->fd;
}

/*
 * Source: the job's command, with {} the --cat file (or nothing), {#}
 * and {%}.  A job run again gets its block again from the start.
 */
static void
pipe_render(void *ctx, struct job *j)
{
	struct pipe_src		*s = ctx;
	struct job_input	*in = j->input;
	struct template_args	 a = { 0 };
	struct buf		 t = { 0 };
	char			*v[1];
	size_t			 l[1], argc;

	if (in != NULL && in->path != NULL) {
		v[0] = in->path;
		l[0] = strlen(in->path);
		a.n = 1;
	}
	a.v = v;
	a.len = l;
	a.seq = j->seq;
	a.slot = j->slot;
	a.host = j->host != NULL ? j->host : ":";
	argc = template_expand(s->cmd, &a, &j->cmd, NULL);
	job_set_argv(j, argc, template_uses_shell(s->cmd) ?
	    template_shell(s->cmd) : NULL);
	free(j->tag);
	j->tag = NULL;
	if (s->tag != NULL) {
		(void)template_expand(s->tag, &a, &t, NULL);
		buf_addc(&t, '\t');
		j->tag = t.data;
	}
	if (in != NULL && !in->rr)
		in->hdone = in->done = 0;
	/*
	 * Open for reading too, which never waits for the job: the runner
	 * feeds this rather than the job's stdin.
	 */
	if (in != NULL && in->fifo && in->path != NULL &&
	    j->input_fd == -1 && (j->input_fd = open(in->path, O_RDWR |
	    O_NONBLOCK | O_CLOEXEC)) == -1)
		warn("--fifo: %s", in->path);
}

/* Source: no record is ever rejected. */
static unsigned long long
pipe_rejected(void *ctx, unsigned long long *last)
{
	(void)ctx;
	*last = 0;
	return 0;
}

/*
 * Source: write the header and the block to the job's stdin, one write
 * (or splice) a call.  A --round-robin job then takes the block cut
 * ahead, if there is one.
 */
static ssize_t
pipe_feed(void *ctx, struct job *j, int fd)
{
	struct pipe_src		*s = ctx;
	struct job_input	*in = j->input, *next;
	loff_t			 from;
	ssize_t			 n;
	int			 left;

	if (in == NULL || (in->path != NULL && !in->fifo))
		return 0;
	for (;;) {
		if (in->hdone < s->header.len) {
			n = write(fd, s->header.data + in->hdone,
			    s->header.len - in->hdone);
			if (n > 0)
				in->hdone += (size_t)n;
			return n;
		}
		if (in->done < in->len) {
			if (s->part) {
				from = in->from + (off_t)in->done;
				n = splice(s->fd, &from, fd, NULL,
				    in->len - in->done, SPLICE_F_NONBLOCK);
				if (n == 0) {
					warnx("%s %s: the file shrank "
					    "while read: job %llu got %zu "
					    "bytes of its block's %zu",
					    s->opt, s->name, j->seq, in->done,
					    in->len);
					s->error = 1;
					return 0;
				}
			} else
				/*
				 * Copied, not vmspliced: a process that
				 * escaped the job could read the pipe after
				 * the block's memory was reused.
				 */
				n = write(fd, in->data + in->done,
				    in->len - in->done);
			if (n > 0)
				in->done += (size_t)n;
			return n;
		}
		/*
		 * --fifo: forkpool holds the named pipe open for reading
		 * too, so that it never waits for the job to open it;
		 * closed before the job read it all, it would lose what is
		 * left.  It is closed once empty: the job has read all.
		 */
		if (in->fifo)
			return ioctl(fd, FIONREAD, &left) == 0 && left > 0 ?
			    FEED_RETRY : 0;
		if (!in->rr)
			return 0;
		/* --round-robin: the next block, whole, if one is cut. */
		if ((next = s->ready) == NULL)
			return s->done ? 0 : FEED_IDLE;
		s->ready = NULL;
		free(in->data);
		in->data = next->data;
		in->len = next->len;
		in->from = next->from;
		in->done = 0;
		free(next);
	}
}

static const struct source_ops	pipe_ops = {
	.next = pipe_next,
	.fd = pipe_fd,
	.render = pipe_render,
	.rejected = pipe_rejected,
	.prefetch = pipe_prefetch,
	.feed = pipe_feed,
};

/*
 * Read the --header at the start of the part of the file left; -1 after a
 * message.
 */
static int
part_header(struct pipe_src *s)
{
	size_t	 want = CUT_SLACK, left;
	ssize_t	 p;

	s->header_done = 1;
	if (s->o->header == NULL || s->fsize <= s->off)
		return 0;
	for (left = (size_t)(s->fsize - s->off);; want *= 2) {
		if (want > left)
			want = left;
		if (read_at(s, s->off, want) == -1)
			return -1;
		if ((p = header_len(s, s->buf, want, want == left)) >= 0)
			break;
	}
	buf_add(&s->header, s->buf, (size_t)p);
	s->off += p;
	return 0;
}

/* --pipe-part: open the file and read its header; -1 after a message. */
static int
open_part(struct pipe_src *s)
{
	const struct opts	*o = s->o;
	struct stat		 st;

	if (o->nsources != 1 || o->sources[0].kind != SOURCE_FILE) {
		warnx("--pipe-part needs one file: -a FILE or :::: FILE");
		return -1;
	}
	s->name = o->sources[0].path;
	if ((s->fd = open(s->name, O_RDONLY | O_CLOEXEC)) == -1) {
		warn("--pipe-part %s", s->name);
		return -1;
	}
	s->own_fd = 1;
	if (fstat(s->fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		warnx("--pipe-part %s: not a regular file (--pipe reads any "
		    "input)", s->name);
		return -1;
	}
	s->fsize = st.st_size;
	/* --block -N: N blocks for each job slot, of the file's size. */
	if (o->block_slots != 0) {
		s->block = (size_t)((unsigned long long)s->fsize /
		    (o->block_slots * o->jobs) + 1);
	}
	return part_header(s);
}

/*
 * --pipe from a regular file of more than a block: cut it as --pipe-part
 * does, from its offset on, and splice the blocks to the jobs.  The
 * blocks are the same; forkpool reads only around the cuts.  A file of
 * /proc or /sys, whose size is not its length, is read.  -1 after a
 * message; 0 if the file is read.
 */
static int
stdin_part(struct pipe_src *s, const struct stat *st)
{
	struct statfs	 sf;
	off_t		 off;

	if (!S_ISREG(st->st_mode) || s->o->rrs ||
	    fstatfs(s->fd, &sf) == -1 || sf.f_type == PROC_SUPER_MAGIC ||
	    sf.f_type == SYSFS_MAGIC || sf.f_type == DEBUGFS_MAGIC ||
	    sf.f_type == TRACEFS_MAGIC ||
	    (off = lseek(s->fd, 0, SEEK_CUR)) == -1 ||
	    st->st_size - off <= (off_t)s->block)
		return 0;
	s->part = s->grows = 1;
	s->off = off;
	s->fsize = st->st_size;
	if (part_header(s) == -1)
		return -1;
	(void)lseek(s->fd, s->off, SEEK_SET);
	return 1;
}

/* The pipe-mode source; see pipe.h. */
struct pipe_src *
pipe_new(const struct opts *o, const struct template *cmd,
    const struct template *tag)
{
	struct pipe_src	*s;
	struct stat	 st;

	s = xcalloc(1, sizeof(*s));
	s->o = o;
	s->cmd = cmd;
	s->tag = tag;
	s->fd = -1;
	s->block = o->block != 0 ? (size_t)o->block : BLOCK_DEFAULT;
	/* -n is -N here, as in GNU parallel: a block has no values. */
	s->records = o->max_replace_args != 0 ? o->max_replace_args :
	    o->max_args != 0 ? o->max_args : o->max_lines;
	/* Grown as the input comes (fill()), never to --block ahead. */
	s->cap = CUT_SLACK;
	s->buf = xmalloc(s->cap);
	s->src.ops = &pipe_ops;
	s->src.ctx = s;
	s->part = o->pipe_part;
	s->header_done = o->header == NULL;
	if (separators(s, o) == -1)
		goto fail;
	if (s->part) {
		s->opt = "--pipe-part";
		if (open_part(s) == -1)
			goto fail;
		return s;
	}
	s->opt = "--pipe";
	s->fd = STDIN_FILENO;
	s->name = "stdin";
	if (fstat(s->fd, &st) == 0) {
		s->regular = S_ISREG(st.st_mode);
		if (stdin_part(s, &st) == -1)
			goto fail;
	}
	return s;
fail:
	pipe_free(s);
	return NULL;
}

/* Release the source, and the block cut ahead. */
void
pipe_free(struct pipe_src *s)
{
	if (s == NULL)
		return;
	if (s->ready != NULL)
		input_free(s->ready);
	if (s->own_fd)
		close(s->fd);
	if (s->fifo_dir != NULL) {
		(void)rmdir(s->fifo_dir);
		free(s->fifo_dir);
	}
	pcre2_code_free(s->re);
	pcre2_code_free(s->lead);
	pcre2_code_free(s->tail);
	pcre2_match_data_free(s->md);
	buf_free(&s->header);
	free(s->end);
	free(s->start);
	free(s->buf);
	free(s);
}

/* The source; see pipe.h. */
struct source *
pipe_source(struct pipe_src *s)
{
	return &s->src;
}
