#include <ctype.h>
#include <err.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH	8
#include <pcre2.h>

#include "template.h"
#include "util.h"

enum repl_kind {
	REPL_WHOLE,		/* {}	*/
	REPL_NOEXT,		/* {.}	*/
	REPL_BASE,		/* {/}	*/
	REPL_DIR,		/* {//}	*/
	REPL_BASENOEXT,		/* {/.}	*/
	REPL_SEQ,		/* {#}	*/
	REPL_SLOT,		/* {%}	*/
	/* --plus */
	REPL_NOEXT2,		/* {..}	*/
	REPL_NOEXT3,		/* {...} */
	REPL_BASENOEXT2,	/* {/..} */
	REPL_BASENOEXT3,	/* {/...} */
	REPL_UPDIR,		/* {+/}	*/
	REPL_EXT,		/* {+.}	*/
	REPL_EXT2,		/* {+..} */
	REPL_EXT3,		/* {+...} */
	REPL_TOTAL,		/* {##}	*/
	REPL_SEQ0,		/* {0#}	*/
	REPL_SLOT0,		/* {0%}	*/
	REPL_HOST,		/* {host}, with remote hosts */
	REPL_DEFAULT,		/* {:-STR} */
	REPL_SUBSTR,		/* {:N} {:N:M} */
	REPL_REGEX		/* {#RE} {%RE} {/RE/STR} {^RE} ... */
};

/* The --plus strings that are a name, not a value's edit. */
static const struct {
	const char	*name;
	enum repl_kind	 kind;
	int		 plus;		/* only with --plus */
	int		 number;	/* a number, not a value: no {n...} */
} fixed_repls[] = {
	/* Longest first where one begins another. */
	{ "#}", REPL_SEQ, 0, 1 },
	{ "%}", REPL_SLOT, 0, 1 },
	{ "##}", REPL_TOTAL, 1, 1 },
	{ "0#}", REPL_SEQ0, 1, 1 },
	{ "0%}", REPL_SLOT0, 1, 1 },
	{ "slot}", REPL_SLOT, 1, 1 },
	{ "host}", REPL_HOST, 1, 1 },
	{ "...}", REPL_NOEXT3, 1, 0 },
	{ "..}", REPL_NOEXT2, 1, 0 },
	{ ".}", REPL_NOEXT, 0, 0 },
	{ "/...}", REPL_BASENOEXT3, 1, 0 },
	{ "/..}", REPL_BASENOEXT2, 1, 0 },
	{ "/.}", REPL_BASENOEXT, 0, 0 },
	{ "//}", REPL_DIR, 0, 0 },
	{ "/}", REPL_BASE, 0, 0 },
	{ "+...}", REPL_EXT3, 1, 0 },
	{ "+..}", REPL_EXT2, 1, 0 },
	{ "+.}", REPL_EXT, 1, 0 },
	{ "+/}", REPL_UPDIR, 1, 0 }
};

#define NFIXED	(sizeof(fixed_repls) / sizeof(fixed_repls[0]))

/*
 * GNU parallel's --plus strings that name remote hosts or skip jobs:
 * refused rather than passed on as text, which would run the wrong
 * command silently.  {host} is refused only when no job runs remotely.
 */
static const char *const unsupported_repls[] = {
	/* {host} first: refuse_unsupported() passes over it. */
	"{host}", "{sshlogin}", "{hgrp}", "{agrp}", "{uniq}", "{choose_k}",
	NULL
};

/*
 * The forms of a regex replacement (GNU parallel's --plus, after bash's
 * ${v#p} and the like), as the Perl substitution GNU parallel makes of
 * each: the pattern around RE, the replacement, whether every match.
 */
enum regex_form {
	RX_PREFIX_SHORT,	/* {#RE}: s/^RE?(.*)/$1/, RE made lazy */
	RX_PREFIX_LONG,		/* {##RE}: s/^RE// */
	RX_SUFFIX_SHORT,	/* {%RE}: s/(.*)RE?$/$1/, RE made lazy */
	RX_SUFFIX_LONG,		/* {%%RE}: s/RE$// */
	RX_SUB_ONE,		/* {/RE/STR}: s/RE/STR/ */
	RX_SUB_START,		/* {/#RE/STR}: s/^RE/STR/g */
	RX_SUB_END,		/* {/%RE/STR}: s/RE$/STR/g */
	RX_SUB_ALL,		/* {//RE/STR}: s/RE/STR/g */
	RX_UPPER_ONE,		/* {^RE}: s/^(RE)/uc($1)/e */
	RX_UPPER_ALL,		/* {^^RE}: s/(RE)/uc($1)/eg */
	RX_LOWER_ONE,		/* {,RE}: s/^(RE)/lc($1)/e */
	RX_LOWER_ALL		/* {,,RE}: s/(RE)/lc($1)/eg */
};

/*
 * Where a replacement stands in the shell line, which decides how a value
 * is quoted there (see quote_value()).
 */
enum quote_ctx {
	CTX_BARE,		/* unquoted: 'value' */
	CTX_SQ,			/* in '...': close, 'value', reopen */
	CTX_DQ,			/* in "...": a backslash before $ ` " \ */
	CTX_DQWORD,		/* the word of "${x:-...}": "value" */
	CTX_ARITH,		/* $((...)) ((...)) $[...] ${x[...]} */
	CTX_COMMENT		/* after #: the value is left out */
};

/*
 * Backquotes nested deeper than this around a replacement are refused:
 * each level doubles the backslashes a value needs.
 */
#define BQ_MAX		4
#define PREFIX_MAX	32	/* 2 * (2 * (2 * (2 * 1 + 1) + 1) + 1) + 1 */

/* A piece of a word: literal text or a replacement string. */
struct segment {
	int		 is_repl;
	const char	*text;		/* literal: into template->joined */
	size_t		 len;
	enum repl_kind	 kind;
	long		 pos;		/* 0: every value; n: the n-th; -n */
	const char	*re;		/* REGEX: RE, into template->joined */
	size_t		 relen;
	enum regex_form	 form;
	const char	*arg;		/* DEFAULT: STR; REGEX: STR or NULL */
	size_t		 arglen;
	size_t		 from;		/* SUBSTR: bytes skipped, */
	size_t		 count;		/* then kept (SIZE_MAX: all) */
	pcre2_code	*code;		/* REGEX: owned by the template */
	char		*subst;		/* REGEX: its replacement, owned */
	uint32_t	 subopts;	/* REGEX: pcre2_substitute()'s */
	enum quote_ctx	 ctx;
	unsigned int	 bq;		/* backquote levels around it */
	unsigned int	 bqbs;		/* bit n: a \ before it at level n */
	int		 after_bs;	/* a \ before it at its own level */
	int		 placed;	/* the lexer saw it */
	char		 prefix[PREFIX_MAX];	/* ends the \ before it */
	size_t		 prefixlen;
	int		 quote;		/* values quoted as ctx says */
	const char	*range;		/* a number out of range: the range */
};

/* A {name} that names no column of the header. */
struct unknown_name {
	const char	*repl;		/* the {name}: into template->joined */
	size_t		 len;		/* its name's bytes */
};

/* A blank-separated word of the template and the blanks before it. */
struct word {
	size_t		 seg;		/* first segment */
	size_t		 nseg;
	const char	*sep;		/* blanks before it, as written */
	size_t		 seplen;
	int		 multi;		/* holds a replacement of every value */
	size_t		 litlen;	/* bytes of literal text */
	size_t		 prefixlen;	/* bytes of its segments' prefixes */
	int		 script;	/* the SCRIPT of SHELL -c SCRIPT */
	int		 piece;		/* -X: a shell word of SCRIPT, or text
					   between them */
	int		 cont;		/* a piece after SCRIPT's first */
};

struct template {
	enum template_kind	 kind;
	char			*joined;	/* owned: the words joined */
	struct segment		*segs;
	size_t			 nsegs;
	struct word		*words;
	size_t			 nwords;
	int			 use_shell;
	int			 xargs;		/* -X, -N, -L: repeat the word per value */
	int			 bare;		/* no command: records are commands */
	int			 plus;		/* --plus */
	unsigned int		 slots;		/* -j: the width of {0%} */
	const char		*shell;
	const struct column_names *names;	/* --header's, or NULL */
	const char		*bad;		/* a {name} two columns have */
	size_t			 badlen;	/* its name's bytes */
	size_t			 badcols;	/* columns of that name */
	struct unknown_name	*unknown;	/* owned: {name}s of no column */
	size_t			 nunknown;
	int			 argv;		/* words are argv as given */
	int			 appended;	/* the values were appended:
						   no replacement was given */
	char			*bash;		/* owned: the shell for an
						   exported bash function */
};

/*
 * Shell keywords and builtins that have no program of the same name, or
 * whose meaning is the shell's own state: such a first word needs a shell.
 */
static const char *const shell_words[] = {
	"!", ".", ":", "[[", "]]", "{", "}", "alias", "bg", "break", "builtin",
	"case", "cd", "command", "continue", "declare", "dirs", "disown", "do",
	"done", "elif", "else", "enable", "esac", "eval", "exec", "exit",
	"export", "fc", "fg", "fi", "for", "function", "getopts", "hash",
	"history", "if", "in", "jobs", "let", "local", "logout", "popd",
	"pushd", "read", "readonly", "return", "select", "set", "setopt",
	"shift", "shopt", "source", "then", "time", "times", "trap", "type",
	"typeset", "ulimit", "umask", "unalias", "unset", "until", "wait",
	"while", NULL
};

/* Characters that mean something to the shell outside a replacement. */
static const char shell_chars[] = "'\"`$\\;&|<>()*?[]~#!{}\n\r";

/* Shells whose quoting is POSIX's, so $SHELL may be used. */
static const char *const posix_shells[] = {
	"sh", "dash", "bash", "ksh", "mksh", "zsh", NULL
};

/* Shells that a command SHELL [OPTION...] -c SCRIPT may name. */
static const char *const script_shells[] = {
	"sh", "ash", "dash", "bash", "ksh", "mksh", "zsh", NULL
};

static int	shell_plain(const char *, size_t);
static int	is_multi(const struct segment *);

/*
 * A number at p; its length, or 0.  One of more than 9 digits is noted
 * in seg as out of range, to be refused rather than taken as text.
 */
static size_t
match_count(const char *p, size_t *n, struct segment *seg)
{
	size_t	 len = strspn(p, "0123456789"), i;

	if (len == 0)
		return 0;
	if (len > 9) {
		seg->range = "a count is at most 999999999";
		*n = 0;
		return len;
	}
	for (*n = 0, i = 0; i < len; i++)
		*n = *n * 10 + (size_t)(p[i] - '0');
	return len;
}

/*
 * The end of RE in a --plus string at p: the first byte that is a '}',
 * or with slash, the first '/' from the second byte on (GNU parallel's
 * lazy ([^}]+?)/).  NULL when there is none, or RE would be empty.
 */
static const char *
match_re_end(const char *p, int slash)
{
	const char	*q;

	for (q = p; *q != '\0' && *q != '}'; q++)
		if (slash && *q == '/' && q > p)
			return q;
	return slash || q == p || *q != '}' ? NULL : q;
}

/*
 * Recognise a --plus string that edits a value at p, after its '{' and
 * position: {:-STR} {:N} {:N:M} {#RE} {##RE} {%RE} {%%RE} {/RE/STR}
 * {/#RE/STR} {/%RE/STR} {//RE/STR} {^RE} {^^RE} {,RE} {,,RE}.  GNU
 * parallel tries the longer of two forms first; so does this.  Returns
 * the bytes up to and with the '}', or 0.
 */
static size_t
match_edit(const char *p, struct segment *seg)
{
	static const struct {
		const char	*lead;
		enum regex_form	 form;
		int		 str;	/* /STR follows RE */
	} forms[] = {
		{ "^^", RX_UPPER_ALL, 0 }, { "^", RX_UPPER_ONE, 0 },
		{ ",,", RX_LOWER_ALL, 0 }, { ",", RX_LOWER_ONE, 0 },
		{ "%%", RX_SUFFIX_LONG, 0 }, { "%", RX_SUFFIX_SHORT, 0 },
		{ "##", RX_PREFIX_LONG, 0 }, { "#", RX_PREFIX_SHORT, 0 },
		{ "/", RX_SUB_ONE, 1 }, { "/#", RX_SUB_START, 1 },
		{ "/%", RX_SUB_END, 1 }, { "//", RX_SUB_ALL, 1 }
	};
	const char	*q, *re, *end;
	size_t		 i, n, lead;

	if (p[0] == ':' && p[1] == '-') {
		if ((end = match_re_end(p + 2, 0)) == NULL)
			return 0;
		seg->kind = REPL_DEFAULT;
		seg->arg = p + 2;
		seg->arglen = (size_t)(end - seg->arg);
		return (size_t)(end - p) + 1;
	}
	if (p[0] == ':') {
		if ((n = match_count(p + 1, &seg->from, seg)) == 0)
			return 0;
		q = p + 1 + n;
		seg->count = SIZE_MAX;
		if (*q == ':' &&
		    (n = match_count(q + 1, &seg->count, seg)) > 0)
			q += 1 + n;
		if (*q != '}')
			return 0;
		seg->kind = REPL_SUBSTR;
		return (size_t)(q - p) + 1;
	}
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		lead = strlen(forms[i].lead);
		if (strncmp(p, forms[i].lead, lead) != 0)
			continue;
		re = p + lead;
		/* {#RE} and {##RE}: RE begins with neither # nor }. */
		if ((forms[i].form == RX_PREFIX_SHORT ||
		    forms[i].form == RX_PREFIX_LONG) && *re == '#')
			continue;
		/* {/RE/STR}: RE holds none of # % / (the other forms'). */
		if (forms[i].form == RX_SUB_ONE && (*re == '#' || *re == '%' ||
		    *re == '/'))
			continue;
		if ((end = match_re_end(re, forms[i].str)) == NULL)
			continue;
		seg->kind = REPL_REGEX;
		seg->form = forms[i].form;
		seg->re = re;
		seg->relen = (size_t)(end - re);
		if (!forms[i].str)
			return (size_t)(end - p) + 1;
		seg->arg = end + 1;
		if ((end = strchr(seg->arg, '}')) == NULL)
			continue;
		seg->arglen = (size_t)(end - seg->arg);
		return (size_t)(end - p) + 1;
	}
	return 0;
}

/*
 * Recognise a replacement string at s; its length, or 0.  Forms: the
 * -I string, {.} {/} {//} {/.} {#} {%}, and {n} {n.} {n/} {n//} {n/.};
 * with plus, those of fixed_repls[] and match_edit() too, each with an
 * n but for the numbers.
 */
static size_t
match_repl(const char *s, const char *replstr, int plus, struct segment *seg)
{
	const char	*p = s + 1, *errstr;
	char		 num[24];
	size_t		 n, i, rl = strlen(replstr), flen;
	long		 pos = 0;

	if (strncmp(s, replstr, rl) == 0) {
		seg->kind = REPL_WHOLE;
		seg->pos = 0;
		return rl;
	}
	if (*s != '{')
		return 0;
	for (i = 0; i < NFIXED; i++)
		if (fixed_repls[i].number && (plus || !fixed_repls[i].plus) &&
		    strncmp(p, fixed_repls[i].name,
		    strlen(fixed_repls[i].name)) == 0) {
			seg->kind = fixed_repls[i].kind;
			seg->pos = 0;
			return strlen(fixed_repls[i].name) + 1;
		}
	n = strspn(p + (*p == '-'), "0123456789");
	if (n > 0) {
		n += *p == '-';
		/* Out of range: noted, to be refused rather than be text. */
		errstr = "too long";
		if (n < sizeof(num)) {
			memcpy(num, p, n);
			num[n] = '\0';
			pos = (long)strtonum(num, -1000000000, 1000000000,
			    &errstr);
		}
		if (errstr != NULL) {
			seg->range = "a position is from -1000000000 to "
			    "1000000000";
			pos = 1;
		}
		if (pos == 0)
			return 0;
		p += n;
	}
	seg->pos = pos;
	if (*p == '}' && pos != 0) {
		seg->kind = REPL_WHOLE;
		return (size_t)(p - s) + 1;
	}
	for (i = 0; i < NFIXED; i++) {
		flen = strlen(fixed_repls[i].name);
		if (!fixed_repls[i].number && (plus || !fixed_repls[i].plus) &&
		    strncmp(p, fixed_repls[i].name, flen) == 0) {
			seg->kind = fixed_repls[i].kind;
			return (size_t)(p - s) + flen;
		}
	}
	if (plus && (n = match_edit(p, seg)) > 0)
		return (size_t)(p - s) + n;
	return 0;
}

/* Whether a replacement kind is a number rather than a value. */
static int
is_number(enum repl_kind kind)
{
	return kind == REPL_SEQ || kind == REPL_SLOT || kind == REPL_TOTAL ||
	    kind == REPL_SEQ0 || kind == REPL_SLOT0;
}

/*
 * Whether s is written like a column name that was meant as one: a word
 * of letters, digits, _ and -.  Other braces ({a,b}, {print $1}, {1..5})
 * are the shell's or a program's and stay as they are.
 */
static int
name_like(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (i = 1; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/*
 * Recognise a column name at s: {name} {name.} {name/} {name//} {name/.}
 * for a name of the header (any text but braces), as {n} would be for its
 * column n.  Returns its length, or 0.  A {word} that looks meant as a
 * name but names no column is noted in t->unknown, one that names two in
 * t->bad.  ${name} is the shell's.
 */
static size_t
match_name(struct template *t, const char *s, struct segment *seg)
{
	static const struct {
		const char	*suffix;
		enum repl_kind	 kind;
	} mods[] = {
		{ "", REPL_WHOLE }, { "/.", REPL_BASENOEXT }, { "//", REPL_DIR },
		{ ".", REPL_NOEXT }, { "/", REPL_BASE }
	};
	const char	*end;
	size_t		 len, n, m, i, at = 0, found, unknown = 0;

	/* Unread names (an empty input) leave everything as it is. */
	if (t->names == NULL || *s != '{' ||
	    (s > t->joined && s[-1] == '$') ||
	    (end = strchr(s + 1, '}')) == NULL)
		return 0;
	len = (size_t)(end - s) - 1;
	if (memchr(s + 1, '{', len) != NULL)
		return 0;
	for (m = 0; m < sizeof(mods) / sizeof(mods[0]); m++) {
		n = strlen(mods[m].suffix);
		if (len <= n || memcmp(end - n, mods[m].suffix, n) != 0)
			continue;
		n = len - n;
		found = 0;
		for (i = 0; i < t->names->n; i++)
			if (strncmp(t->names->v[i], s + 1, n) == 0 &&
			    t->names->v[i][n] == '\0' && found++ == 0)
				at = i;
		if (found == 1) {
			/* What match_repl() noted was no replacement. */
			seg->range = NULL;
			seg->kind = mods[m].kind;
			seg->pos = (long)at + 1;
			return len + 2;
		}
		if (found > 1 && t->bad == NULL) {
			t->bad = s;
			t->badlen = n;
			t->badcols = found;
		}
		if (found == 0 && unknown == 0 && name_like(s + 1, n))
			unknown = n;
	}
	if (unknown > 0) {
		t->unknown = xreallocarray(t->unknown, t->nunknown + 1,
		    sizeof(*t->unknown));
		t->unknown[t->nunknown++] = (struct unknown_name){ s, unknown };
	}
	return 0;
}

/*
 * The length of the replacement string at s, a built-in one or a --header
 * column's name, filling seg (cleared first); 0 if there is none.
 */
static size_t
match_at(struct template *t, const char *s, const char *replstr,
    struct segment *seg)
{
	size_t	 n;

	memset(seg, 0, sizeof(*seg));
	if ((n = match_repl(s, replstr, t->plus, seg)) == 0)
		n = match_name(t, s, seg);
	return n;
}

/* Add a segment to the template and to its last word. */
static void
add_segment(struct template *t, const struct segment *seg)
{
	struct word	*w = &t->words[t->nwords - 1];

	t->segs = xreallocarray(t->segs, t->nsegs + 1, sizeof(*t->segs));
	t->segs[t->nsegs++] = *seg;
	w->nseg++;
	if (seg->is_repl && seg->pos == 0 && !is_number(seg->kind) &&
	    seg->kind != REPL_HOST)
		w->multi = 1;
	if (!seg->is_repl)
		w->litlen += seg->len;
}

/* Add the literal text from *lit up to s as a segment, if any is pending. */
static void
flush_literal(struct template *t, const char **lit, const char *s)
{
	if (*lit != NULL)
		add_segment(t, &(struct segment){ .text = *lit,
		    .len = (size_t)(s - *lit) });
	*lit = NULL;
}

/* Add the replacement string seg matched at s (n bytes), after *lit. */
static void
add_repl(struct template *t, const char **lit, struct segment *seg,
    const char *s, size_t n)
{
	flush_literal(t, lit, s);
	seg->is_repl = 1;
	seg->text = s;
	seg->len = n;
	add_segment(t, seg);
}

/* Start a new word after the blanks sep..sep+seplen. */
static void
add_word(struct template *t, const char *sep, size_t seplen)
{
	struct word	*w;

	t->words = xreallocarray(t->words, t->nwords + 1, sizeof(*t->words));
	w = &t->words[t->nwords++];
	memset(w, 0, sizeof(*w));
	w->seg = t->nsegs;
	w->sep = sep;
	w->seplen = seplen;
}

/*
 * Split the joined template into words and segments.  Returns whether a
 * replacement string was seen; *meta is set when literal text holds a
 * character the shell would interpret.  The user's text is the first
 * textlen bytes: a replacement string begun there ends there, not in
 * what forkpool appended after it.
 */
static int
parse(struct template *t, const char *replstr, size_t textlen, int *meta)
{
	struct segment	 seg;
	const char	*s = t->joined, *lit = NULL;
	const char	*bound = t->joined + textlen;
	size_t		 n, blanks;
	int		 any = 0;

	*meta = 0;
	blanks = strspn(s, " \t");
	add_word(t, s, blanks);
	s += blanks;
	while (*s != '\0') {
		if ((n = match_at(t, s, replstr, &seg)) > 0 &&
		    (s >= bound || s + n <= bound)) {
			add_repl(t, &lit, &seg, s, n);
			any = 1;
			s += n;
			continue;
		}
		if (*s == ' ' || *s == '\t') {
			flush_literal(t, &lit, s);
			blanks = strspn(s, " \t");
			if (s[blanks] != '\0')
				add_word(t, s, blanks);
			s += blanks;
			continue;
		}
		if (strchr(shell_chars, *s) != NULL)
			*meta = 1;
		if (lit == NULL)
			lit = s;
		s++;
	}
	flush_literal(t, &lit, s);
	if (t->nwords == 1 && t->words[0].nseg == 0)
		t->nwords = 0;
	return any;
}

/* Whether the first word makes the shell necessary. */
static int
first_word_needs_shell(const struct template *t)
{
	const struct word	*w;
	const struct segment	*seg;
	size_t			 i;

	if (t->nwords == 0)
		return 0;
	w = &t->words[0];
	for (i = 0; i < w->nseg; i++) {
		seg = &t->segs[w->seg + i];
		/*
		 * w->nseg counts what add_segment() put in t->segs, so segs is
		 * not NULL here; the analyzer cannot follow that.
		 */
		/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
		if (!seg->is_repl && memchr(seg->text, '=', seg->len) != NULL)
			return 1;	/* VAR=value command */
	}
	if (w->nseg != 1 || t->segs[w->seg].is_repl)
		return 0;
	seg = &t->segs[w->seg];
	for (i = 0; shell_words[i] != NULL; i++)
		if (strlen(shell_words[i]) == seg->len &&
		    memcmp(shell_words[i], seg->text, seg->len) == 0)
			return 1;
	return 0;
}

/* The shell to run templates with: --shell, $FORKPOOL_SHELL, $SHELL, sh. */
static const char *
pick_shell(const struct opts *o)
{
	const char	*s, *base;
	size_t		 i;

	if (o->shell != NULL)
		return o->shell;
	if ((s = getenv("FORKPOOL_SHELL")) != NULL && *s != '\0')
		return s;
	if ((s = getenv("SHELL")) != NULL && *s != '\0') {
		base = strrchr(s, '/') != NULL ? strrchr(s, '/') + 1 : s;
		for (i = 0; posix_shells[i] != NULL; i++)
			if (strcmp(base, posix_shells[i]) == 0)
				return s;
	}
	return "/bin/sh";
}

/*
 * The shell line as the shell reads it, to learn the quoting context of
 * every replacement (see enum quote_ctx).  This follows XCU 2.2 to 2.6
 * (quoting, substitutions, expansions, comments, here-documents) and the
 * quotes bash and zsh add ($'...', ((...)), $[...]); it is not a parser,
 * only enough of one to know what encloses each position.
 */

enum frame_kind {
	FRAME_TOP,		/* the line itself */
	FRAME_PAREN,		/* ( ... ) */
	FRAME_CMDSUB,		/* $( ... ), <( ... ), >( ... ) */
	FRAME_DQ,		/* " ... " */
	FRAME_PARAM,		/* ${ ... } */
	FRAME_ARITH		/* $(( )), (( )), $[ ], ${x[ ]} */
};

/* What is open at a position, innermost last. */
struct frame {
	enum frame_kind	 kind;
	int		 in_dq;		/* PARAM: inside "..." */
	size_t		 seen;		/* PARAM: bytes after ${ */
	int		 word;		/* PARAM: past the name */
	int		 depth;		/* ARITH: open (; PARAM: open { */
	char		 close;		/* ARITH: ')' for )), or ']' */
	int		 cases;		/* case statements not yet at esac */
	int		 cmd_start;	/* the next word may be a command */
	int		 after_for;	/* the last word was a leading for */
	int		 want_delim;	/* the next word ends a here-document */
	size_t		 ws;		/* where the current word began */
};

#define FRAMES_MAX	64
#define LEVELS_MAX	16
#define NO_WORD		((size_t)-1)

/* A here-document whose body begins after the current line. */
struct heredoc {
	char		*delim;		/* owned: its delimiter, unquoted */
	size_t		 len;
	int		 strip;		/* <<-: tabs before a line go */
};

/* What every level of the line shares. */
struct lex_state {
	struct template	*t;
	struct heredoc	*heredocs;	/* owned: bodies to read at the next
					   newline, in order */
	size_t		 nheredocs;
	int		 ambiguous;	/* a \' in $'...': shells part ways */
	int		 overflow;	/* nesting deeper than followed */
	const char	*why;		/* set: a replacement cannot be quoted */
	struct segment	*why_seg;
	/*
	 * For each byte of t->joined: the lists of commands around it (0:
	 * not read), and whether it ends a shell word there (an unquoted
	 * blank or operator).  They give -X its word; see split_shell_words().
	 */
	unsigned int	*depth;
	unsigned char	*ends_word;
	/*
	 * For each byte of t->joined: whether it is half of a \ newline the
	 * shell takes out before it reads the line (XCU 2.2.1); more: one
	 * was found that was not yet taken out.
	 */
	unsigned char	*joined_line;
	int		 more;
};

/* One level of the line: the line itself, or the inside of `...`. */
struct lexer {
	struct lex_state *s;
	const char	*c;		/* the level's bytes */
	const size_t	*at;		/* where each stands in t->joined */
	size_t		 n;
	unsigned int	 level;		/* backquotes around it */
	unsigned int	 base;		/* lists of commands around it */
	struct frame	 f[FRAMES_MAX];
	size_t		 nf;
};

static void	lex(struct lexer *);

/* The replacement that begins at byte i of a level, or NULL. */
static struct segment *
repl_at(const struct lexer *lx, size_t i)
{
	const struct template	*t = lx->s->t;
	size_t			 lo = 0, hi = t->nsegs, mid, want = lx->at[i];

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((size_t)(t->segs[mid].text - t->joined) < want)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < t->nsegs && t->segs[lo].is_repl &&
	    t->segs[lo].text == t->joined + want)
		return &t->segs[lo];
	return NULL;
}

/* The index past the replacement seg that begins at byte i. */
static size_t
repl_end(const struct lexer *lx, size_t i, const struct segment *seg)
{
	size_t	 end = (size_t)(seg->text - lx->s->t->joined) + seg->len;

	while (i < lx->n && lx->at[i] < end)
		i++;
	return i;
}

/*
 * Byte j of a level, for looking ahead: '\0' past the end or where a
 * replacement begins, which is never part of the shell's syntax.
 */
static char
peek(const struct lexer *lx, size_t j)
{
	if (j >= lx->n || repl_at(lx, j) != NULL)
		return '\0';
	return lx->c[j];
}

/*
 * Whether arithmetic encloses this point of a level, quoted or not: bash
 * and zsh take the quotes off a subscript or $((...)) and evaluate what
 * is left, a[$(...)] included.
 */
static int
in_arith(const struct lexer *lx)
{
	size_t	 k;

	for (k = lx->nf; k-- > 0;) {
		if (lx->f[k].kind == FRAME_ARITH)
			return 1;
		if (lx->f[k].kind == FRAME_TOP || lx->f[k].kind == FRAME_PAREN ||
		    lx->f[k].kind == FRAME_CMDSUB)
			return 0;
	}
	return 0;
}

/* Note a replacement's context, or why it has none that is safe. */
static void
place(struct lexer *lx, struct segment *seg, enum quote_ctx ctx,
    int after_bs, const char *refuse)
{
	struct lex_state	*s = lx->s;

	seg->placed = 1;
	if (ctx != CTX_COMMENT && in_arith(lx))
		ctx = CTX_ARITH;
	if (refuse == NULL && s->ambiguous)
		refuse = "after a $'...' holding \\', which shells read "
		    "differently";
	if (refuse == NULL && (lx->level > BQ_MAX || s->overflow))
		refuse = "nested this deeply";
	if (refuse != NULL && s->why == NULL) {
		s->why = refuse;
		s->why_seg = seg;
	}
	seg->ctx = ctx;
	seg->bq = lx->level;
	seg->after_bs = after_bs;
}

/* The innermost open frame. */
static struct frame *
top(struct lexer *lx)
{
	return &lx->f[lx->nf - 1];
}

/* Open a frame; nesting deeper than FRAMES_MAX is not followed. */
static void
push(struct lexer *lx, enum frame_kind kind, int in_dq, char close)
{
	struct frame	*f;

	if (lx->nf == FRAMES_MAX) {
		lx->s->overflow = 1;
		return;
	}
	f = &lx->f[lx->nf++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->in_dq = in_dq;
	f->close = close;
	f->cmd_start = 1;
	f->ws = NO_WORD;
}

/* Close the innermost frame, never the line itself. */
static void
pop(struct lexer *lx)
{
	if (lx->nf > 1)
		lx->nf--;
}

/* Whether frame f holds commands (where case, #, ( and ) mean something). */
static int	frame_commands(const struct frame *);

/* The lists of commands open at this point of a level, and around it. */
static unsigned int
command_depth(const struct lexer *lx)
{
	unsigned int	 d = lx->base;
	size_t		 k;

	for (k = 0; k < lx->nf; k++)
		d += frame_commands(&lx->f[k]);
	return d;
}

/*
 * Note that bytes from..to of a level stand in depth lists of commands;
 * the first ends a word if ends.
 */
static void
mark(struct lexer *lx, size_t from, size_t to, unsigned int depth, int ends)
{
	size_t	 k;

	for (k = from; k < to && k < lx->n; k++) {
		lx->s->depth[lx->at[k]] = depth;
		lx->s->ends_word[lx->at[k]] = k == from && ends;
	}
}

/* The context of a replacement standing in frame f, unquoted there. */
static enum quote_ctx
frame_ctx(const struct frame *f)
{
	switch (f->kind) {
	case FRAME_DQ:
		return CTX_DQ;
	case FRAME_PARAM:
		if (!f->in_dq)
			return CTX_BARE;
		return f->word ? CTX_DQWORD : CTX_DQ;
	case FRAME_ARITH:
		return CTX_ARITH;
	default:
		return CTX_BARE;
	}
}

/* Whether quotes, comments and operators are active in frame f. */
static int
frame_quotes(const struct frame *f)
{
	return f->kind != FRAME_DQ && !(f->kind == FRAME_PARAM && f->in_dq);
}

/* Whether frame f holds commands. */
static int
frame_commands(const struct frame *f)
{
	return f->kind == FRAME_TOP || f->kind == FRAME_PAREN ||
	    f->kind == FRAME_CMDSUB;
}

/*
 * Note the here-document whose delimiter is the word w (len bytes) as
 * written: the shell takes its quotes off (XCU 2.7.4).
 */
static void
add_heredoc(struct lex_state *s, const char *w, size_t len, int strip)
{
	struct heredoc	*h;
	size_t		 i;

	s->heredocs = xreallocarray(s->heredocs, s->nheredocs + 1,
	    sizeof(*s->heredocs));
	h = &s->heredocs[s->nheredocs++];
	h->delim = xmalloc(len + 1);
	h->len = 0;
	h->strip = strip;
	for (i = 0; i < len; i++) {
		if (w[i] == '\'' || w[i] == '"')
			continue;
		if (w[i] == '\\' && i + 1 < len)
			i++;
		h->delim[h->len++] = w[i];
	}
}

/*
 * Read the bodies of the here-documents of the line that ended before
 * byte i, each to its delimiter line; the index past the last.  A value
 * in a body is refused: quoted or not, it could hold the delimiter line.
 */
static size_t
lex_heredocs(struct lexer *lx, size_t i)
{
	struct lex_state	*s = lx->s;
	struct heredoc		*h;
	struct segment		*seg;
	size_t			 k, from;
	int			 plain;

	for (k = 0; k < s->nheredocs; k++) {
		h = &s->heredocs[k];
		while (i < lx->n) {
			if (h->strip)
				i += strspn(lx->c + i, "\t") > lx->n - i ?
				    lx->n - i : strspn(lx->c + i, "\t");
			for (from = i, plain = 1; i < lx->n &&
			    lx->c[i] != '\n';) {
				if ((seg = repl_at(lx, i)) != NULL) {
					place(lx, seg, CTX_BARE, 0,
					    "inside a here-document");
					i = repl_end(lx, i, seg);
					plain = 0;
				} else
					i++;
			}
			plain = plain && i - from == h->len &&
			    memcmp(lx->c + from, h->delim, h->len) == 0;
			if (i < lx->n)
				i++;
			if (plain)
				break;
		}
		free(h->delim);
	}
	s->nheredocs = 0;
	return i;
}

/*
 * End the word that ends at byte i, following case ... esac so that the
 * ) of a pattern does not close a $(...).
 */
static void
end_word(struct lexer *lx, size_t i)
{
	static const char *const keep[] = {
		"!", "{", "do", "elif", "else", "if", "then", "time", "until",
		"while", NULL
	};
	struct frame	*f = top(lx);
	const char	*w;
	size_t		 len, k;
	int		 was_start = f->cmd_start;

	if (f->ws == NO_WORD)
		return;
	w = lx->c + f->ws;
	len = i - f->ws;
	f->ws = NO_WORD;
	f->cmd_start = 0;
	f->after_for = was_start && len == 3 && memcmp(w, "for", 3) == 0;
	if (f->want_delim)
		add_heredoc(lx->s, w, len, f->want_delim == 2);
	f->want_delim = 0;
	if (!was_start)
		return;
	if (len == 4 && memcmp(w, "case", 4) == 0)
		f->cases++;
	else if (len == 4 && memcmp(w, "esac", 4) == 0 && f->cases > 0)
		f->cases--;
	for (k = 0; keep[k] != NULL; k++)
		if (strlen(keep[k]) == len && memcmp(keep[k], w, len) == 0)
			f->cmd_start = 1;
}

/*
 * Read the `...` that opens at byte i: undo its backslashes (before
 * \ ` $, and " inside "...") into a level of its own and read that.
 * Replacements are copied whole; a lone \ before one is noted in its
 * bqbs.  Returns the index past the closing `.
 */
static size_t
lex_backquote(struct lexer *lx, size_t i, int in_dq)
{
	struct lexer	*in;
	struct segment	*seg;
	char		*c;
	size_t		*at, j, m = 0, end;
	int		 lone = 0;
	char		 next;

	c = xmalloc(lx->n - i);
	at = xreallocarray(NULL, lx->n - i, sizeof(*at));
	for (j = i + 1; j < lx->n;) {
		if ((seg = repl_at(lx, j)) != NULL) {
			if (lone && lx->level < BQ_MAX)
				seg->bqbs |= 1U << lx->level;
			for (end = repl_end(lx, j, seg); j < end; j++) {
				c[m] = lx->c[j];
				at[m++] = lx->at[j];
			}
			lone = 0;
			continue;
		}
		if (lx->c[j] == '`')
			break;
		next = peek(lx, j + 1);
		if (lx->c[j] == '\\' && next != '\0' &&
		    (strchr("\\`$", next) != NULL || (in_dq && next == '"'))) {
			c[m] = next;
			at[m++] = lx->at[j + 1];
			j += 2;
			lone = 0;
			continue;
		}
		lone = lx->c[j] == '\\';
		c[m] = lx->c[j];
		at[m++] = lx->at[j];
		j++;
	}
	/* Inside, one list deeper: the backslashes taken off too. */
	mark(lx, i + 1, j, command_depth(lx) + 1, 0);
	if (lx->level + 1 < LEVELS_MAX) {
		in = xcalloc(1, sizeof(*in));
		in->s = lx->s;
		in->c = c;
		in->at = at;
		in->n = m;
		in->level = lx->level + 1;
		in->base = command_depth(lx);
		lex(in);
		free(in);
	} else
		lx->s->overflow = 1;
	free(c);
	free(at);
	return j < lx->n ? j + 1 : j;
}

/* Read '...' from byte i (the quote); the index past its end. */
static size_t
lex_squote(struct lexer *lx, size_t i)
{
	struct segment	*seg;

	for (i++; i < lx->n; i++) {
		if ((seg = repl_at(lx, i)) != NULL) {
			place(lx, seg, CTX_SQ, 0, NULL);
			i = repl_end(lx, i, seg) - 1;
		} else if (lx->c[i] == '\'')
			return i + 1;
	}
	return i;
}

/*
 * Read $'...' from byte i (the $).  bash, zsh and ksh read backslash
 * escapes in it, dash 0.5.12 reads '...' after a $: no quoting suits both.
 */
static size_t
lex_ansi(struct lexer *lx, size_t i)
{
	struct segment	*seg;

	for (i += 2; i < lx->n; i++) {
		if ((seg = repl_at(lx, i)) != NULL) {
			place(lx, seg, CTX_SQ, 0, "inside $'...'");
			i = repl_end(lx, i, seg) - 1;
		} else if (lx->c[i] == '\'')
			return i + 1;
		else if (lx->c[i] == '\\' && peek(lx, i + 1) != '\0') {
			if (lx->c[i + 1] == '\'')
				lx->s->ambiguous = 1;
			i++;
		}
	}
	return i;
}

/* Read a comment from byte i (the #) to the end of its line. */
static size_t
lex_comment(struct lexer *lx, size_t i)
{
	struct segment	*seg;

	for (; i < lx->n; i++) {
		if ((seg = repl_at(lx, i)) != NULL) {
			place(lx, seg, CTX_COMMENT, 0, NULL);
			i = repl_end(lx, i, seg) - 1;
		} else if (lx->c[i] == '\n')
			break;
	}
	return i;
}

/* Read what a $ at byte i begins; the index past what was read. */
static size_t
lex_dollar(struct lexer *lx, size_t i)
{
	struct frame	*f = top(lx);
	struct segment	*seg;
	char		 next = peek(lx, i + 1);
	int		 quotes = frame_quotes(f);
	size_t		 j;

	if (i + 1 < lx->n && (seg = repl_at(lx, i + 1)) != NULL) {
		place(lx, seg, frame_ctx(f), 0, "right after $");
		return repl_end(lx, i + 1, seg);
	}
	switch (next) {
	case '(':
		if (peek(lx, i + 2) == '(') {
			push(lx, FRAME_ARITH, 0, ')');
			return i + 3;
		}
		push(lx, FRAME_CMDSUB, 0, ')');
		return i + 2;
	case '{':
		push(lx, FRAME_PARAM, !quotes, '}');
		return i + 2;
	case '[':
		push(lx, FRAME_ARITH, 0, ']');
		return i + 2;
	case '\'':
		return quotes ? lex_ansi(lx, i) : i + 1;
	case '"':
		if (quotes) {
			push(lx, FRAME_DQ, 0, '"');
			return i + 2;
		}
		return i + 1;
	default:
		break;
	}
	/* zsh reads $name[...] as a subscript, as ${name[...]}. */
	for (j = i + 1; isalpha((unsigned char)peek(lx, j)) ||
	    peek(lx, j) == '_' || (j > i + 1 && isdigit((unsigned char)peek(lx, j)));
	    j++)
		;
	if (j > i + 1 && peek(lx, j) == '[') {
		push(lx, FRAME_ARITH, 0, ']');
		return j + 1;
	}
	return i + 1;
}

/* Read the operator or delimiter at byte i of a frame of commands. */
static size_t
lex_operator(struct lexer *lx, size_t i)
{
	struct frame	*f = top(lx);
	char		 c = lx->c[i], next;

	next = peek(lx, i + 1);
	end_word(lx, i);
	switch (c) {
	case '\n':
		f->cmd_start = 1;
		return lex_heredocs(lx, i + 1);
	case ';':
	case '&':
	case '|':
		f->cmd_start = 1;
		return i + 1;
	case '(':
		/* for ((...)) as well as ((...)). */
		if ((f->cmd_start || f->after_for) && next == '(') {
			push(lx, FRAME_ARITH, 0, ')');
			return i + 2;
		}
		push(lx, FRAME_PAREN, 0, ')');
		return i + 1;
	case ')':
		if (f->kind == FRAME_PAREN ||
		    (f->kind == FRAME_CMDSUB && f->cases == 0))
			pop(lx);
		else
			f->cmd_start = 1;	/* a case pattern ends */
		return i + 1;
	case '<':
	case '>':
		if (next == '(') {
			push(lx, FRAME_CMDSUB, 0, ')');
			return i + 2;
		}
		if (c == '<' && next == '<') {
			if (peek(lx, i + 2) == '<')
				return i + 3;
			if (peek(lx, i + 2) == '-') {
				f->want_delim = 2;
				return i + 3;
			}
			f->want_delim = 1;
			return i + 2;
		}
		return i + 1;
	default:			/* blanks */
		return i + 1;
	}
}

/* Place the replacement seg at byte i of the frame; the index past it. */
static size_t
lex_repl(struct lexer *lx, size_t i, struct segment *seg)
{
	struct frame	*f = top(lx);
	const char	*refuse = NULL;
	size_t		 k;

	/* A value there would be the name, or an operator: ${x:?...}. */
	if (f->kind == FRAME_PARAM && !f->word)
		refuse = f->seen == 0 ? "right after ${" :
		    "inside the name of ${...}";
	/* A value there would say where the here-document ends. */
	for (k = lx->nf; k-- > 0 && !frame_commands(&lx->f[k]);)
		;
	if (lx->f[k].want_delim)
		refuse = "as a here-document delimiter";
	place(lx, seg, frame_ctx(f), 0, refuse);
	if (f->ws == NO_WORD)
		f->ws = i;
	if (f->kind == FRAME_PARAM)
		f->seen++;
	return repl_end(lx, i, seg);
}

/*
 * Read the quoting at byte i: a \, $, `, ' or ".  The index past what was
 * read, or i itself when the byte is none of them.
 */
static size_t
lex_quoting(struct lexer *lx, size_t i)
{
	struct frame	*f = top(lx);
	struct segment	*seg;

	switch (lx->c[i]) {
	case '\\':
		if (i + 1 < lx->n && (seg = repl_at(lx, i + 1)) != NULL) {
			place(lx, seg, frame_ctx(f), 1, NULL);
			return repl_end(lx, i + 1, seg);
		}
		/*
		 * Not the \ newline that a \\ newline in `...` leaves: the
		 * line itself has a \ before it.
		 */
		if (peek(lx, i + 1) == '\n' && (lx->level == 0 ||
		    lx->s->t->joined[lx->at[i] - 1] != '\\')) {
			lx->s->joined_line[lx->at[i]] = 1;
			lx->s->joined_line[lx->at[i + 1]] = 1;
			lx->s->more = 1;
		}
		return i + 1 < lx->n ? i + 2 : i + 1;
	case '$':
		return lex_dollar(lx, i);
	case '`':
		return lex_backquote(lx, i, !frame_quotes(f));
	case '\'':
		return frame_quotes(f) ? lex_squote(lx, i) : i + 1;
	case '"':
		if (f->kind == FRAME_DQ)
			pop(lx);
		else
			push(lx, FRAME_DQ, 0, '"');
		return i + 1;
	default:
		return i;
	}
}

/*
 * Follow byte i of a ${...} up to the end of its name: a [ there opens a
 * subscript, and a : not followed by - = ? + opens an offset and length,
 * both of which bash, ksh and zsh read as arithmetic.  Whether the byte
 * was read.
 */
static int
lex_param_name(struct lexer *lx, size_t i)
{
	struct frame	*f = top(lx);
	char		 c = lx->c[i], next = peek(lx, i + 1);

	if (f->word)
		return 0;
	if (f->seen++ == 0 || isalnum((unsigned char)c) || c == '_')
		return 0;
	if (c == '[') {
		push(lx, FRAME_ARITH, 0, ']');
		return 1;
	}
	f->word = 1;
	if (c == ':' && (next == '\0' || strchr("-=?+", next) == NULL)) {
		push(lx, FRAME_ARITH, 0, '}');
		return 1;
	}
	return 0;
}

/* Follow byte c of a ${...}: its braces and its end. */
static void
lex_param(struct lexer *lx, char c)
{
	struct frame	*f = top(lx);

	if (c == '{')
		f->depth++;
	else if (c == '}' && f->depth > 0)
		f->depth--;
	else if (c == '}')
		pop(lx);
}

/*
 * Follow byte i of arithmetic: its parentheses and its end.  The index
 * of the last byte read, the second ) of a )) closing it.
 */
static size_t
lex_arith(struct lexer *lx, size_t i)
{
	struct frame	*f = top(lx);
	char		 c = lx->c[i];

	if (c == '(')
		f->depth++;
	else if (c == ')' && f->depth > 0)
		f->depth--;
	else if (c == f->close) {
		pop(lx);
		if (c == ')' && peek(lx, i + 1) == ')')
			i++;
		/* The } of ${x:offset:length} ends the ${ too. */
		if (c == '}')
			pop(lx);
	}
	return i;
}

/*
 * Whether the [ at byte i of a frame of commands opens the subscript of
 * an assignment: NAME[...]= or NAME[...]+= (declare's and local's
 * arguments too), or [...]= in a=(...).  bash, ksh and zsh evaluate the
 * subscript as arithmetic.
 */
static int
assign_subscript(const struct lexer *lx, size_t i)
{
	const struct frame	*f = &lx->f[lx->nf - 1];
	const struct segment	*seg;
	size_t			 j, k;
	int			 depth = 1;

	for (k = f->ws; k < i; k++)
		if (!isalnum((unsigned char)lx->c[k]) && lx->c[k] != '_')
			return 0;
	if (k > f->ws && isdigit((unsigned char)lx->c[f->ws]))
		return 0;
	for (j = i + 1; j < lx->n && depth > 0;) {
		if ((seg = repl_at(lx, j)) != NULL) {
			j = repl_end(lx, j, seg);
			continue;
		}
		if (strchr(" \t\n;&|<>", lx->c[j]) != NULL)
			return 0;
		if (lx->c[j] == '[')
			depth++;
		else if (lx->c[j] == ']')
			depth--;
		j++;
	}
	return depth == 0 && (peek(lx, j) == '=' ||
	    (peek(lx, j) == '+' && peek(lx, j + 1) == '='));
}

/* Read a level of the line, placing every replacement in it. */
static void
lex(struct lexer *lx)
{
	struct frame	*f;
	struct segment	*seg;
	size_t		 i = 0, next;
	unsigned int	 d;
	char		 c;

	lx->nf = 0;
	push(lx, FRAME_TOP, 0, '\0');
	while (i < lx->n) {
		f = top(lx);
		c = lx->c[i];
		d = command_depth(lx);
		if ((seg = repl_at(lx, i)) != NULL) {
			next = lex_repl(lx, i, seg);
			mark(lx, i, next, d, 0);
			i = next;
			continue;
		}
		if (f->kind == FRAME_PARAM && lex_param_name(lx, i)) {
			mark(lx, i, i + 1, d, 0);
			i++;
			continue;
		}
		if (frame_commands(f) && strchr(" \t\n;&|()<>", c) != NULL) {
			next = lex_operator(lx, i);
			/* No byte of an operator is part of a word: <<<{}. */
			for (; i < next; i++)
				mark(lx, i, i + 1, d, 1);
			i = next;
			continue;
		}
		if (frame_commands(f) && c == '#' && f->ws == NO_WORD) {
			next = lex_comment(lx, i);
			mark(lx, i, next, d, 0);
			i = next;
			continue;
		}
		if (f->ws == NO_WORD)
			f->ws = i;
		/* lex_backquote() marks the inside of `...` itself. */
		mark(lx, i, i + 1, d, 0);
		if ((next = lex_quoting(lx, i)) != i) {
			if (c != '`')
				mark(lx, i, next, d, 0);
			else if (next > i + 1 && lx->c[next - 1] == '`')
				mark(lx, next - 1, next, d, 0);
			i = next;
			continue;
		}
		if (frame_commands(f) && c == '[' && assign_subscript(lx, i))
			push(lx, FRAME_ARITH, 0, ']');
		else if (f->kind == FRAME_PARAM)
			lex_param(lx, c);
		else if (f->kind == FRAME_ARITH)
			i = lex_arith(lx, i);
		mark(lx, i, i + 1, d, 0);
		i++;
	}
}

/*
 * The bytes that go before a replacement's values so that the
 * backslashes before it at each level stay what they were: a \ before
 * it unquoted quotes nothing once followed by a newline (XCU 2.2.1), one
 * inside "..." stays a \ when doubled; each level of `...` then adds its
 * own backslashes.
 */
static void
set_prefix(struct segment *seg)
{
	char		 a[PREFIX_MAX], b[PREFIX_MAX];
	size_t		 n = 0, m, i;
	unsigned int	 l;

	if (seg->after_bs && seg->ctx == CTX_BARE)
		a[n++] = '\n';
	else if (seg->after_bs &&
	    (seg->ctx == CTX_DQ || seg->ctx == CTX_DQWORD))
		a[n++] = '\\';
	for (l = seg->bq; l-- > 0;) {
		m = 0;
		if (seg->bqbs & (1U << l))
			b[m++] = '\\';
		for (i = 0; i < n; i++) {
			if (strchr("\\`$", a[i]) != NULL)
				b[m++] = '\\';
			b[m++] = a[i];
		}
		memcpy(a, b, m);
		n = m;
	}
	memcpy(seg->prefix, a, n);
	seg->prefixlen = n;
}

/* Order spans (pairs of offsets) by where they begin. */
static int
span_cmp(const void *a, const void *b)
{
	const size_t	*x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/*
 * The shell word around the replacement seg, as the offsets of its first
 * byte and of the byte past it in t->joined: from the nearest unquoted
 * blank or operator of the list of commands the replacement stands in,
 * to the next, taking in whatever nested command lists lie between.
 */
static void
shell_word_of(const struct template *t, const struct lex_state *ls,
    const struct segment *seg, size_t span[2])
{
	size_t		 len = strlen(t->joined);
	size_t		 a = (size_t)(seg->text - t->joined), e = a + seg->len;
	unsigned int	 d = ls->depth[a];

	while (a > 0 && (ls->depth[a - 1] > d ||
	    (ls->depth[a - 1] == d && !ls->ends_word[a - 1])))
		a--;
	while (e < len && (ls->depth[e] > d ||
	    (ls->depth[e] == d && !ls->ends_word[e])))
		e++;
	span[0] = a;
	span[1] = e;
}

/*
 * -X, -N and -L repeat the word around {} once per value: in a shell
 * line that is the shell's word, which a blank or an operator ends (XCU
 * 2.3), not the text between blanks: "echo {}; true" must repeat {} and
 * leave "; true" once, or the values after the first would run as
 * commands.  Make the template's words so: one for each such word
 * (merged when one holds another), and one for the text between.  The
 * shell line is the n bytes of t->joined from byte from; in SHELL -c
 * SCRIPT, the argv words stay apart, and the pieces of SCRIPT after its
 * first are cont.
 */
static void
split_shell_words(struct template *t, const struct lex_state *ls,
    size_t from, size_t n)
{
	struct segment	*old = t->segs, *all, piece;
	struct word	*oldw = t->words;
	size_t		 nold = t->nsegs, nspans = 0, nedges = 0, nall = 0;
	size_t		 i, k, at, end, off;
	size_t		*spans, *edges, *owner, region, cur = SIZE_MAX;
	size_t		 curw = SIZE_MAX;

	spans = xreallocarray(NULL, nold + 1, 2 * sizeof(*spans));
	for (i = 0; i < nold; i++) {
		off = (size_t)(old[i].text - t->joined);
		if (is_multi(&old[i]) && off >= from && off < from + n)
			shell_word_of(t, ls, &old[i], &spans[2 * nspans++]);
	}
	if (nspans == 0) {
		free(spans);
		return;
	}
	qsort(spans, nspans, 2 * sizeof(*spans), span_cmp);
	edges = xreallocarray(NULL, nspans, 2 * sizeof(*edges));
	for (i = 0; i < nspans; i++) {
		if (nedges > 0 && spans[2 * i] < edges[nedges - 1]) {
			if (spans[2 * i + 1] > edges[nedges - 1])
				edges[nedges - 1] = spans[2 * i + 1];
			continue;
		}
		edges[nedges++] = spans[2 * i];
		edges[nedges++] = spans[2 * i + 1];
	}
	/*
	 * The blanks between the old words become text of the new ones, but
	 * for argv's, which no shell reads.
	 */
	all = xreallocarray(NULL, nold + t->nwords, sizeof(*all));
	owner = xreallocarray(NULL, nold + t->nwords, sizeof(*owner));
	for (i = 0; i < t->nwords; i++) {
		if (oldw[i].seplen > 0 && !t->argv) {
			owner[nall] = 0;
			all[nall++] = (struct segment){ .text = oldw[i].sep,
			    .len = oldw[i].seplen };
		}
		for (k = 0; k < oldw[i].nseg; k++) {
			owner[nall] = t->argv ? i : 0;
			all[nall++] = old[oldw[i].seg + k];
		}
	}
	t->segs = NULL;
	t->words = NULL;
	t->nsegs = t->nwords = 0;
	for (i = 0; i < nall; i++) {
		if (owner[i] != curw) {
			add_word(t, oldw[owner[i]].sep, t->argv ?
			    oldw[owner[i]].seplen : 0);
			t->words[t->nwords - 1].script = oldw[owner[i]].script;
			curw = owner[i];
			cur = SIZE_MAX;
		}
		at = (size_t)(all[i].text - t->joined);
		end = at + all[i].len;
		while (at < end) {
			/* Edges before at: odd inside a word, even between. */
			for (region = 0; region < nedges &&
			    edges[region] <= at; region++)
				;
			piece = all[i];
			piece.text = t->joined + at;
			piece.len = end - at;
			if (!all[i].is_repl && region < nedges &&
			    edges[region] < end)
				piece.len = edges[region] - at;
			if (region != cur && cur != SIZE_MAX) {
				add_word(t, t->joined + at, 0);
				t->words[t->nwords - 1].cont = t->argv;
			}
			cur = region;
			add_segment(t, &piece);
			at += piece.len;
		}
	}
	/* The pieces of SCRIPT are repeated as shell words are. */
	for (i = 0; i < t->nwords; i++)
		if (t->words[i].script || t->words[i].cont) {
			t->words[i].script = 0;
			t->words[i].piece = 1;
		}
	free(all);
	free(owner);
	free(old);
	free(oldw);
	free(spans);
	free(edges);
}

/*
 * Find the quoting context of every replacement in the shell line that
 * is the n bytes of t->joined from byte from: the whole template, or
 * the SCRIPT of SHELL -c SCRIPT.  0, or -1 after a message naming the
 * replacement that cannot be quoted.
 */
static int
place_replacements(struct template *t, size_t from, size_t n)
{
	struct lex_state	 s = { 0 };
	struct lexer		*lx;
	struct segment		*seg;
	size_t			 i, k, m, off, len = strlen(t->joined);
	size_t			*at;
	char			*c;

	s.t = t;
	s.depth = xcalloc(len + 1, sizeof(*s.depth));
	s.ends_word = xcalloc(len + 1, 1);
	s.joined_line = xcalloc(len + 1, 1);
	at = xreallocarray(NULL, n + 1, sizeof(*at));
	c = xmalloc(n + 1);
	lx = xcalloc(1, sizeof(*lx));
	/*
	 * Where a \ newline is depends on the quoting, and the quoting on
	 * where the \ newlines are: read the line again without the ones
	 * found until there are no more.
	 */
	do {
		for (i = m = 0; i < n; i++)
			if (!s.joined_line[from + i]) {
				c[m] = t->joined[from + i];
				at[m++] = from + i;
			}
		for (i = 0; i < t->nsegs; i++) {
			t->segs[i].placed = 0;
			t->segs[i].bqbs = 0;
		}
		s.ambiguous = s.overflow = s.more = 0;
		s.why = NULL;
		memset(lx, 0, sizeof(*lx));
		lx->s = &s;
		lx->c = c;
		lx->at = at;
		lx->n = m;
		lex(lx);
		/* Bodies the line ended before. */
		for (i = 0; i < s.nheredocs; i++)
			free(s.heredocs[i].delim);
		s.nheredocs = 0;
	} while (s.more);
	free(s.heredocs);
	/* A \ newline taken out is inside the word it continues. */
	for (i = from + 1; i < from + n; i++)
		if (s.joined_line[i]) {
			s.depth[i] = s.depth[i - 1];
			s.ends_word[i] = 0;
		}
	free(lx);
	free(at);
	free(c);
	free(s.joined_line);
	for (i = 0; i < t->nsegs; i++) {
		seg = &t->segs[i];
		off = (size_t)(seg->text - t->joined);
		if (!seg->is_repl || off < from || off >= from + n)
			continue;
		seg->quote = 1;
		if (s.why == NULL && !seg->placed) {
			s.why = "where the shell may not see it";
			s.why_seg = seg;
		}
	}
	if (s.why != NULL) {
		warnx("cannot quote %.*s %s: %.*s", (int)s.why_seg->len,
		    s.why_seg->text, s.why, (int)n, t->joined + from);
		free(s.depth);
		free(s.ends_word);
		return -1;
	}
	for (i = 0; i < t->nsegs; i++)
		set_prefix(&t->segs[i]);
	if (t->xargs)
		split_shell_words(t, &s, from, n);
	free(s.depth);
	free(s.ends_word);
	for (i = 0; i < t->nwords; i++)
		for (k = 0; k < t->words[i].nseg; k++)
			t->words[i].prefixlen +=
			    t->segs[t->words[i].seg + k].prefixlen;
	return 0;
}

/* Join the words into b, a blank between each; "" for none. */
static void
join_words(struct buf *b, char **words, size_t nwords)
{
	size_t	 i;

	for (i = 0; i < nwords; i++) {
		if (i > 0)
			buf_addc(b, ' ');
		buf_adds(b, words[i]);
	}
	if (b->data == NULL)
		buf_adds(b, "");
}

/*
 * Decide whether a command's jobs run through the shell, as --exec-mode
 * asks and its shell syntax (meta) needs; -1 after a message.
 */
static int
pick_exec(struct template *t, const struct opts *o, int meta)
{
	switch (o->exec_mode) {
	case EXEC_SHELL:
		t->use_shell = 1;
		break;
	case EXEC_DIRECT:
		if (meta || first_word_needs_shell(t)) {
			warnx("--exec-mode direct: the command needs a shell: "
			    "%s", t->joined);
			return -1;
		}
		break;
	case EXEC_AUTO:
		t->use_shell = meta || first_word_needs_shell(t);
		break;
	}
	return 0;
}

/*
 * Make RE match as little as it can, as GNU parallel does for {#RE} and
 * {%RE}: a '?' after every quantifier (* + and {n,m}) not followed by
 * one, outside brackets and escapes.
 */
static void
make_lazy(struct buf *b, const char *re, size_t len)
{
	size_t	 i;
	int	 in_class = 0, escaped = 0, quantifier = 0;

	for (i = 0; i < len; i++) {
		if (quantifier && re[i] != '?')
			buf_addc(b, '?');
		quantifier = 0;
		buf_addc(b, re[i]);
		if (escaped)
			escaped = 0;
		else if (re[i] == '\\')
			escaped = 1;
		else if (in_class)
			in_class = re[i] != ']';
		else if (re[i] == '[')
			in_class = 1;
		else if (re[i] == '*' || re[i] == '+' || re[i] == '}')
			quantifier = 1;
	}
	if (quantifier)
		buf_addc(b, '?');
}

/*
 * Compile the regex of a --plus edit as the Perl substitution GNU
 * parallel makes of it (see enum regex_form); -1 after a message.
 */
static int
compile_edit(struct segment *seg)
{
	static const struct {
		const char	*head, *tail, *subst;
		int		 lazy;
		uint32_t	 opts;
	} how[] = {
		[RX_PREFIX_SHORT] = { "^", "(.*)", "$1", 1, 0 },
		[RX_PREFIX_LONG] = { "^", "", "", 0, 0 },
		[RX_SUFFIX_SHORT] = { "(.*)", "$", "$1", 1, 0 },
		[RX_SUFFIX_LONG] = { "", "$", "", 0, 0 },
		[RX_SUB_ONE] = { "", "", NULL, 0, 0 },
		[RX_SUB_START] = { "^", "", NULL, 0, PCRE2_SUBSTITUTE_GLOBAL },
		[RX_SUB_END] = { "", "$", NULL, 0, PCRE2_SUBSTITUTE_GLOBAL },
		[RX_SUB_ALL] = { "", "", NULL, 0, PCRE2_SUBSTITUTE_GLOBAL },
		[RX_UPPER_ONE] = { "^(", ")", "\\U$1", 0,
		    PCRE2_SUBSTITUTE_EXTENDED },
		[RX_UPPER_ALL] = { "(", ")", "\\U$1", 0,
		    PCRE2_SUBSTITUTE_EXTENDED | PCRE2_SUBSTITUTE_GLOBAL },
		[RX_LOWER_ONE] = { "^(", ")", "\\L$1", 0,
		    PCRE2_SUBSTITUTE_EXTENDED },
		[RX_LOWER_ALL] = { "(", ")", "\\L$1", 0,
		    PCRE2_SUBSTITUTE_EXTENDED | PCRE2_SUBSTITUTE_GLOBAL }
	};
	struct buf	 pat = { 0 }, sub = { 0 };
	pcre2_code	*alone;
	PCRE2_UCHAR	 msg[256];
	PCRE2_SIZE	 off;
	size_t		 i;
	int		 code;

	/*
	 * RE alone first: a mistake in it is then named as the user wrote
	 * it, not as the parentheses around it make it look.
	 */
	if ((alone = pcre2_compile((PCRE2_SPTR)seg->re, seg->relen, 0, &code,
	    &off, NULL)) != NULL) {
		pcre2_code_free(alone);
		buf_adds(&pat, how[seg->form].head);
		if (how[seg->form].lazy)
			make_lazy(&pat, seg->re, seg->relen);
		else
			buf_add(&pat, seg->re, seg->relen);
		buf_adds(&pat, how[seg->form].tail);
		seg->code = pcre2_compile((PCRE2_SPTR)pat.data, pat.len, 0,
		    &code, &off, NULL);
		buf_free(&pat);
	}
	if (seg->code == NULL) {
		(void)pcre2_get_error_message(code, msg, sizeof(msg));
		warnx("%.*s: bad pattern %.*s: %s", (int)seg->len, seg->text,
		    (int)seg->relen, seg->re, (const char *)msg);
		return -1;
	}
	if (how[seg->form].subst != NULL)
		buf_adds(&sub, how[seg->form].subst);
	else {
		/* STR is text: a $ would name a group. */
		for (i = 0; i < seg->arglen; i++) {
			if (seg->arg[i] == '$')
				buf_addc(&sub, '$');
			buf_addc(&sub, seg->arg[i]);
		}
		buf_add(&sub, "", 0);
	}
	seg->subst = sub.data;
	/*
	 * RE goes into the pattern as written, as GNU parallel puts it
	 * into its Perl s///: a group in a branch that did not match is
	 * empty, as Perl's undef is.
	 */
	seg->subopts = how[seg->form].opts | PCRE2_SUBSTITUTE_UNSET_EMPTY;
	return 0;
}

/* Compile every --plus regex of the template; -1 after a message. */
static int
compile_edits(struct template *t)
{
	size_t	 i;

	for (i = 0; i < t->nsegs; i++)
		if (t->segs[i].is_repl && t->segs[i].kind == REPL_REGEX &&
		    compile_edit(&t->segs[i]) == -1)
			return -1;
	return 0;
}

/*
 * The --plus string that does what Perl expression e (len bytes) does,
 * into b, for the common edits: s/RE$//, s/^RE//, s/RE/STR/[g], and the
 * numbers.  0, or -1 when there is none.
 */
static int
suggest_plus(struct buf *b, const char *pos, size_t poslen, const char *e,
    size_t len)
{
	static const struct {
		const char	*expr, *repl;
	} known[] = {
		{ "$_=total_jobs()", "{##}" }, { "$_=$job->seq()", "{#}" },
		{ "$_=seq()", "{#}" }, { "$_=$job->slot()", "{%}" },
		{ "$_=slot()", "{%}" }, { "s:.*/::", "{/}" },
		{ "s:\\.[^/.]+$::", "{.}" }, { "s:\\.[^/.]*$::", "{.}" }
	};
	const char	*part[3], *end;
	size_t		 plen[3], i, k;
	char		 delim;
	int		 lazy;

	while (len > 0 && (e[len - 1] == ';' || e[len - 1] == ' '))
		len--;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i].expr) == len &&
		    memcmp(known[i].expr, e, len) == 0) {
			/* {n#} is no replacement string. */
			if (poslen > 0 && known[i].repl[1] != '/' &&
			    known[i].repl[1] != '.')
				return -1;
			buf_addc(b, '{');
			buf_add(b, pos, poslen);
			buf_adds(b, known[i].repl + 1);
			return 0;
		}
	end = e + len;
	if (len < 4 || e[0] != 's' || isalnum((unsigned char)e[1]) ||
	    isspace((unsigned char)e[1]) || e[1] == '\\')
		return -1;
	delim = e[1];
	/* s, RE, STR and flags split at the unescaped delimiters. */
	part[0] = e + 2;
	for (k = 0, i = 2; i < len && k < 3; i++) {
		if (e[i] == '\\' && i + 1 < len) {
			i++;
			continue;
		}
		if (e[i] == delim) {
			plen[k] = (size_t)(e + i - part[k]);
			if (++k < 3)
				part[k] = e + i + 1;
		}
	}
	if (k != 2 || memchr(part[0], '}', plen[0]) != NULL || plen[0] == 0)
		return -1;
	plen[2] = (size_t)(end - part[2]);
	if (plen[2] > 1 || (plen[2] == 1 && part[2][0] != 'g') ||
	    memchr(part[1], '}', plen[1]) != NULL ||
	    memchr(part[1], '$', plen[1]) != NULL ||
	    memchr(part[1], '\\', plen[1]) != NULL)
		return -1;
	lazy = strcspn(part[0], "*+?{") >= plen[0];
	if (plen[1] == 0 && plen[2] == 0 && plen[0] > 1 &&
	    part[0][plen[0] - 1] == '$' && part[0][plen[0] - 2] != '\\') {
		buf_addc(b, '{');
		buf_add(b, pos, poslen);
		buf_adds(b, lazy ? "%" : "%%");
		buf_add(b, part[0], plen[0] - 1);
		buf_addc(b, '}');
		return 0;
	}
	if (plen[1] == 0 && plen[2] == 0 && part[0][0] == '^' &&
	    plen[0] > 1 && part[0][1] != '#') {
		buf_addc(b, '{');
		buf_add(b, pos, poslen);
		buf_adds(b, lazy ? "#" : "##");
		buf_add(b, part[0] + 1, plen[0] - 1);
		buf_addc(b, '}');
		return 0;
	}
	if (memchr(part[0], '/', plen[0]) != NULL || part[0][0] == '#' ||
	    part[0][0] == '%')
		return -1;
	buf_addc(b, '{');
	buf_add(b, pos, poslen);
	buf_adds(b, plen[2] == 1 ? "//" : "/");
	buf_add(b, part[0], plen[0]);
	buf_addc(b, '/');
	buf_add(b, part[1], plen[1]);
	buf_addc(b, '}');
	return 0;
}

/*
 * The index of SCRIPT when words are SHELL [OPTION...] -c SCRIPT [ARG...]
 * for a known shell, else 0.  The options are those sh, bash and zsh
 * share: -abc or +abc letters, each o or O among them taking the next word
 * (-o NAME, bash's -O NAME), and --long options (--rcfile FILE and the
 * like taking one); -c among the letters makes the first word after all
 * options the script, as the shell reads it: options may follow -c, and
 * -- ends them.
 */
static size_t
script_word(char **words, size_t nwords)
{
	static const char *const with_arg[] = {
		"--rcfile", "--init-file", "--emulate", NULL
	};
	const char	*base, *w;
	size_t		 i, k, len;
	int		 dash_c = 0;

	if (nwords < 3)
		return 0;
	base = strrchr(words[0], '/') != NULL ? strrchr(words[0], '/') + 1 :
	    words[0];
	for (i = 0; script_shells[i] != NULL; i++)
		if (strcmp(base, script_shells[i]) == 0)
			break;
	if (script_shells[i] == NULL)
		return 0;
	/* As the shell reads its options: -c anywhere among them. */
	for (i = 1; i < nwords; i++) {
		w = words[i];
		len = strlen(w);
		if (strcmp(w, "--") == 0 || strcmp(w, "-") == 0) {
			i++;
			break;
		}
		if (w[0] == '-' && w[1] == '-') {
			for (k = 0; with_arg[k] != NULL; k++)
				if (strcmp(w, with_arg[k]) == 0)
					i++;
			continue;
		}
		if ((w[0] != '-' && w[0] != '+') || len < 2)
			break;
		if (strspn(w + 1, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != len - 1)
			return 0;
		dash_c |= w[0] == '-' && strchr(w + 1, 'c') != NULL;
		/* -o NAME, -O NAME: each takes the next word. */
		for (k = 1; k < len; k++)
			if (w[k] == 'o' || w[k] == 'O')
				i++;
	}
	return dash_c && i < nwords ? i : 0;
}

/*
 * Refuse what forkpool cannot do rather than pass it on as text: a
 * {= Perl expression =}, which needs Perl, and with --plus the strings
 * of unsupported_repls[].  0, or -1 after a message.
 */
static int
refuse_unsupported(const char *s, int plus, int remote)
{
	struct buf	 hint = { 0 };
	const char	*open, *close, *e, *pos;
	size_t		 i, len, poslen;

	if ((open = strstr(s, "{=")) != NULL &&
	    (close = strstr(open + 2, "=}")) != NULL) {
		/* {=n EXPR =} is EXPR on the n-th value. */
		pos = open + 2;
		poslen = strspn(pos + (*pos == '-'), "0123456789");
		poslen = poslen > 0 ? poslen + (*pos == '-') : 0;
		e = pos + poslen + strspn(pos + poslen, " \t");
		len = close > e ? (size_t)(close - e) : 0;
		while (len > 0 && (e[len - 1] == ' ' || e[len - 1] == '\t'))
			len--;
		if (suggest_plus(&hint, pos, poslen, e, len) == 0)
			warnx("%.*s: Perl expressions are not supported; "
			    "%s%s does this", (int)(close + 2 - open), open,
			    hint.data, strlen(hint.data) - poslen == 3 &&
			    strchr("/.#%", hint.data[poslen + 1]) != NULL ? "" :
			    " with --plus");
		else
			warnx("%.*s: Perl expressions are not supported; see "
			    "--plus for replacement strings that edit values",
			    (int)(close + 2 - open), open);
		buf_free(&hint);
		return -1;
	}
	if (plus && remote && strstr(s, "{sshlogin}") != NULL) {
		warnx("{sshlogin}: not supported; instead: "
		    "\"$PARALLEL_SSHLOGIN\" in the command");
		return -1;
	}
	for (i = remote; plus && unsupported_repls[i] != NULL; i++)
		if (strstr(s, unsupported_repls[i]) != NULL) {
			warnx("%s: not supported: forkpool runs jobs here, "
			    "with no remote hosts or skipped jobs",
			    unsupported_repls[i]);
			return -1;
		}
	return 0;
}

/*
 * --tagstring's escapes, as GNU parallel reads them: \t is a TAB, \n a
 * newline; every other backslash stays as it is.
 */
static void
unescape_tag(char *s)
{
	char	*w = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && (s[1] == 't' || s[1] == 'n')) {
			*w++ = s[1] == 't' ? '\t' : '\n';
			s++;
		} else
			*w++ = *s;
	}
	*w = '\0';
}

/*
 * Refuse a replacement string with a number out of range, which would
 * otherwise be left as text with the values appended; -1 after a
 * message.
 */
static int
check_numbers(const struct template *t)
{
	const struct segment	*seg;
	size_t			 i;

	for (i = 0; i < t->nsegs; i++) {
		seg = &t->segs[i];
		if (seg->is_repl && seg->range != NULL) {
			warnx("%.*s: out of range: %s", (int)seg->len,
			    seg->text, seg->range);
			return -1;
		}
	}
	return 0;
}

/*
 * Warn of each {name} that names no column, left as it is (as by GNU
 * parallel) but likely a typo; -1 after a message for a name that two
 * columns have, which cannot be expanded.  0 otherwise.
 */
static int
check_names(const struct template *t)
{
	const char	*u;
	size_t		 i, k, len;

	for (i = 0; i < t->nunknown; i++) {
		u = t->unknown[i].repl;
		len = (size_t)(strchr(u, '}') - u) + 1;
		for (k = 0; k < i; k++)
			if (strncmp(u, t->unknown[k].repl, len) == 0)
				break;
		if (k < i)
			continue;
		warnx("%.*s: no column of the header is named %.*s; left as "
		    "it is", (int)len, u, (int)t->unknown[i].len, u + 1);
	}
	if (t->bad == NULL)
		return 0;
	len = (size_t)(strchr(t->bad, '}') - t->bad) + 1;
	warnx("%.*s: %zu columns of the header are named %.*s", (int)len,
	    t->bad, t->badcols, (int)t->badlen, t->bad + 1);
	return -1;
}

/*
 * Split words into template words one for one, a blank between each in
 * t->joined, as argv elements; script (if not 0) is the word that is a
 * shell line.  Returns whether a replacement string was seen.
 */
static int
parse_argv(struct template *t, char **words, size_t nwords, size_t script,
    const char *replstr)
{
	struct segment	 seg;
	const char	*s, *end, *lit;
	size_t		 i, n;
	int		 any = 0;

	s = t->joined;
	for (i = 0; i < nwords; i++) {
		add_word(t, i == 0 ? s : s - 1, i == 0 ? 0 : 1);
		t->words[i].script = i == script && script > 0;
		end = s + strlen(words[i]);
		for (lit = NULL; s < end;) {
			if ((n = match_at(t, s, replstr, &seg)) == 0 ||
			    n > (size_t)(end - s)) {
				if (lit == NULL)
					lit = s;
				s++;
				continue;
			}
			add_repl(t, &lit, &seg, s, n);
			any = 1;
			s += n;
		}
		flush_literal(t, &lit, s);
		s++;
	}
	return any;
}

/*
 * Parse a command whose words are argv as given (-q, or SHELL -c
 * SCRIPT): no word is split at blanks, none goes through a shell but
 * the SCRIPT, whose values are quoted for it.  With no replacement
 * string anywhere, the values are arguments after the last word.
 */
static int
template_argv(struct template *t, char **words, size_t nwords,
    size_t script, const struct opts *o)
{
	struct buf	 b = { 0 };
	const struct word	*sw;
	char		**all;
	const char	*w;
	size_t		 i;

	t->argv = 1;
	join_words(&b, words, nwords);
	t->joined = b.data;
	if (!parse_argv(t, words, nwords, script, o->replstr) &&
	    !o->replstr_given) {
		free(t->segs);
		free(t->words);
		t->segs = NULL;
		t->words = NULL;
		t->nsegs = t->nwords = 0;
		buf_addc(&b, ' ');
		buf_adds(&b, o->replstr);
		t->joined = b.data;
		t->appended = 1;
		all = xreallocarray(NULL, nwords + 1, sizeof(*all));
		memcpy(all, words, nwords * sizeof(*all));
		all[nwords] = (char *)o->replstr;
		parse_argv(t, all, nwords + 1, script, o->replstr);
		free(all);
	}
	if (script == 0)
		return 0;
	/*
	 * SHELL -c {}: the value is the script, as it is in xargs and GNU
	 * parallel; the user asks for it to run as code.
	 */
	sw = &t->words[script];
	if (sw->nseg == 1 && t->segs[sw->seg].is_repl)
		return 0;
	w = t->joined;
	for (i = 0; i < script; i++)
		w += strlen(words[i]) + 1;
	return place_replacements(t, (size_t)(w - t->joined),
	    strlen(words[script]));
}

/* Whether the environment carries an exported bash function name. */
static int
is_function(const char *name)
{
	struct buf	 b = { 0 };
	int		 found;

	buf_adds(&b, "BASH_FUNC_");
	buf_adds(&b, name);
	buf_adds(&b, "%%");
	found = getenv(b.data) != NULL;
	buf_free(&b);
	return found;
}

/*
 * Join words into b as a shell line in which each word means itself:
 * -q with an exported function, which only bash can run.  The first
 * word is the function's name, a plain word.  The text
 * around replacement strings goes in '...', always, so that it cannot
 * run into a replacement string; the replacements stay, to be quoted
 * for where they stand.
 */
static void
quote_words(struct template *t, struct buf *b, char **words, size_t nwords,
    const char *replstr)
{
	struct segment	 seg;
	const char	*s, *lit;
	size_t		 i, n;

	buf_adds(b, words[0]);	/* the function's name, plain */
	for (i = 1; i < nwords; i++) {
		buf_addc(b, ' ');
		if (*words[i] == '\0')
			buf_adds(b, "''");
		for (s = lit = words[i];; s++) {
			n = *s == '\0' ? 0 : match_at(t, s, replstr, &seg);
			if (*s != '\0' && n == 0)
				continue;
			if (s > lit) {
				buf_addc(b, '\'');
				for (; lit < s; lit++)
					if (*lit == '\'')
						buf_adds(b, "'\"'\"'");
					else
						buf_addc(b, *lit);
				buf_addc(b, '\'');
			}
			if (*s == '\0')
				break;
			buf_add(b, s, n);
			s += n - 1;
			lit = s + 1;
		}
	}
}

/*
 * The bash to run an exported bash function with, when the command's
 * first word names one (bash exports f as BASH_FUNC_f%%): bash's lookup
 * finds a function before a program, and so does GNU parallel's.
 */
static char *
function_shell(const struct template *t)
{
	const struct segment	*seg;
	struct buf		 name = { 0 }, path = { 0 };
	const char		*dirs, *end;
	char			*found = NULL;
	size_t			 len;

	/* A word has segments: segs is set, but the analyzer cannot know. */
	if (t->nwords == 0 || t->words[0].nseg != 1 || t->segs == NULL)
		return NULL;
	seg = &t->segs[t->words[0].seg];
	if (seg->is_repl ||
	    memchr(seg->text, '/', seg->len) != NULL ||
	    memchr(seg->text, '=', seg->len) != NULL)
		return NULL;
	buf_adds(&name, "BASH_FUNC_");
	buf_add(&name, seg->text, seg->len);
	buf_adds(&name, "%%");
	if (getenv(name.data) == NULL || (dirs = getenv("PATH")) == NULL) {
		buf_free(&name);
		return NULL;
	}
	buf_free(&name);
	for (; found == NULL; dirs = end + 1) {
		end = strchr(dirs, ':');
		len = end != NULL ? (size_t)(end - dirs) : strlen(dirs);
		buf_reset(&path);
		buf_add(&path, len > 0 ? dirs : ".", len > 0 ? len : 1);
		buf_adds(&path, "/bash");
		if (access(path.data, X_OK) == 0)
			found = xstrdup(path.data);
		if (end == NULL)
			break;
	}
	buf_free(&path);
	return found;
}

/* Parse the template once, with --header's column names; see template.h. */
struct template *
template_new_named(char **words, size_t nwords, enum template_kind kind,
    const struct opts *o, const struct column_names *names)
{
	struct template	*t;
	struct buf	 b = { 0 };
	size_t		 script = 0, textlen;
	int		 meta;

	t = xcalloc(1, sizeof(*t));
	t->kind = kind;
	t->names = names != NULL && names->v != NULL ? names : NULL;
	t->xargs = o->context;
	t->plus = o->plus;
	t->slots = o->jobs;
	t->shell = pick_shell(o);
	if (kind == TEMPLATE_COMMAND && o->exec_mode != EXEC_SHELL)
		script = script_word(words, nwords);
	join_words(&b, words, nwords);
	if (refuse_unsupported(b.data, o->plus, o->nlogins > 0) == -1) {
		buf_free(&b);
		free(t);
		return NULL;
	}
	if (kind == TEMPLATE_TEXT) {
		unescape_tag(b.data);
		b.len = strlen(b.data);
	} else if (o->quote && script == 0 && o->exec_mode != EXEC_DIRECT &&
	    nwords > 0 && shell_plain(words[0], strlen(words[0])) &&
	    is_function(words[0])) {
		buf_reset(&b);
		quote_words(t, &b, words, nwords, o->replstr);
	} else if (o->quote || script > 0) {
		buf_free(&b);
		if (template_argv(t, words, nwords, script, o) == -1 ||
		    check_numbers(t) == -1 || compile_edits(t) == -1 ||
		    check_names(t) == -1) {
			template_free(t);
			return NULL;
		}
		return t;
	}
	if (kind == TEMPLATE_COMMAND && strspn(b.data, " \t") == b.len) {
		/* No command: every record is a command line of its own. */
		t->bare = 1;
		t->use_shell = 1;
		buf_free(&b);
		if (o->exec_mode == EXEC_DIRECT) {
			warnx("--exec-mode direct: there is no command, so "
			    "every record is a shell command line");
			free(t);
			return NULL;
		}
		return t;
	}
	t->joined = b.data;
	textlen = b.len;
	/*
	 * -I STR that the command does not use gives it no value, as in
	 * xargs (seq 10 | xargs -I{} -P4 curl URL runs curl URL 10 times).
	 */
	if (!parse(t, o->replstr, textlen, &meta) &&
	    kind == TEMPLATE_COMMAND && !o->replstr_given) {
		/* No replacement string: the values go last. */
		free(t->segs);
		free(t->words);
		t->segs = NULL;
		t->words = NULL;
		t->nsegs = t->nwords = 0;
		t->bad = NULL;		/* into the text appended to */
		t->nunknown = 0;
		buf_addc(&b, ' ');
		buf_adds(&b, o->replstr);
		t->joined = b.data;
		t->appended = 1;
		parse(t, o->replstr, textlen, &meta);
	}
	if (check_numbers(t) == -1 || compile_edits(t) == -1 ||
	    check_names(t) == -1) {
		template_free(t);
		return NULL;
	}
	if (kind == TEMPLATE_TEXT)
		return t;
	if (pick_exec(t, o, meta) == -1) {
		template_free(t);
		return NULL;
	}
	/* Decided once: the function is in forkpool's environment. */
	if (o->exec_mode != EXEC_DIRECT &&
	    (t->bash = function_shell(t)) != NULL) {
		t->use_shell = 1;
		t->shell = t->bash;
	}
	if (t->use_shell && place_replacements(t, 0, strlen(t->joined)) == -1) {
		template_free(t);
		return NULL;
	}
	return t;
}

/* Parse the template once. */
struct template *
template_new(char **words, size_t nwords, enum template_kind kind,
    const struct opts *o)
{
	const struct column_names	 none = { NULL, 0 };
	struct template			*t;

	t = template_new_named(words, nwords, kind, o, &none);
	return t;
}

/* Release a template. */
void
template_free(struct template *t)
{
	size_t	 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nsegs; i++) {
		pcre2_code_free(t->segs[i].code);
		free(t->segs[i].subst);
	}
	free(t->joined);
	free(t->segs);
	free(t->words);
	free(t->unknown);
	free(t->bash);
	free(t);
}

/* Whether jobs run through the shell. */
int
template_uses_shell(const struct template *t)
{
	return t->use_shell;
}

/* The shell's path. */
const char *
template_shell(const struct template *t)
{
	return t->shell;
}

/*
 * Reserved words of sh, bash, ksh and zsh made of safe bytes: unquoted,
 * they are syntax when a value stands first in a command.
 */
static const char *const reserved_words[] = {
	"case", "coproc", "do", "done", "elif", "else", "end", "esac", "fi",
	"for", "foreach", "function", "if", "in", "nocorrect", "repeat",
	"select", "then", "time", "until", "while", NULL
};

/*
 * Whether a byte needs no quoting for a POSIX shell.  Not '=': NAME=...
 * standing first is an assignment, and zsh replaces =NAME with a path.
 */
static int
shell_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("_-./,:+@%", c) != NULL;
}

/* Whether s can stand unquoted anywhere in a command and mean itself. */
static int
shell_plain(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!shell_safe((unsigned char)s[i]))
			return 0;
	for (i = 0; reserved_words[i] != NULL; i++)
		if (strlen(reserved_words[i]) == len &&
		    memcmp(reserved_words[i], s, len) == 0)
			return 0;
	return 1;
}

/* Where quoted bytes go: a buffer, or only their count. */
struct sink {
	struct buf	*b;		/* NULL: count only */
	size_t		 n;
	unsigned int	 bq;		/* levels of `...` to write them for */
};

/*
 * Write byte c so that it is c once bq levels of `...` have taken their
 * backslashes: each level halves the backslashes before \ ` $ (XCU 2.6.3).
 */
static void
sink_byte(struct sink *k, char c)
{
	size_t	 i, nbs = 0;

	if (k->bq > 0 && (c == '\\' || c == '`' || c == '$'))
		nbs = ((size_t)1 << k->bq) - 1;
	k->n += nbs + 1;
	if (k->b == NULL)
		return;
	for (i = 0; i < nbs; i++)
		buf_addc(k->b, '\\');
	buf_addc(k->b, c);
}

/* Write s as one unquoted shell word: plain, or in '...'. */
static void
sink_word(struct sink *k, const char *s, size_t len)
{
	size_t	 i;

	if (shell_plain(s, len)) {
		for (i = 0; i < len; i++)
			sink_byte(k, s[i]);
		return;
	}
	sink_byte(k, '\'');
	for (i = 0; i < len; i++) {
		if (s[i] != '\'') {
			sink_byte(k, s[i]);
			continue;
		}
		sink_byte(k, '\'');
		sink_byte(k, '"');
		sink_byte(k, '\'');
		sink_byte(k, '"');
		sink_byte(k, '\'');
	}
	sink_byte(k, '\'');
}

/*
 * Whether s is a number that arithmetic reads as itself.  Anything else
 * may name a variable, and bash and zsh evaluate a variable's value, a[$(...)]
 * included, as arithmetic in turn.
 */
static int
arith_number(const char *s, size_t len)
{
	size_t	 i = 0, digits;

	if (len > 0 && (s[0] == '-' || s[0] == '+'))
		i++;
	for (digits = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		;
	if (i == digits)
		return 0;
	if (i < len && s[i] == '.') {
		for (digits = ++i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == digits)
			return 0;
	}
	return i == len;
}

/* Write value s as it must stand in quoting context ctx. */
static void
sink_value(struct sink *k, enum quote_ctx ctx, const char *s, size_t len)
{
	size_t	 i;

	switch (ctx) {
	case CTX_BARE:
		sink_word(k, s, len);
		break;
	case CTX_SQ:
		/* Close the user's '...', write the word, open it again. */
		sink_byte(k, '\'');
		sink_word(k, s, len);
		sink_byte(k, '\'');
		break;
	case CTX_DQ:
	case CTX_DQWORD:
		/*
		 * Backslash escapes rather than closing "...", which inside
		 * "${x:-...}" would open a quote of its own.  There, bash
		 * still pairs a ' and stops at a }, so the value goes in a
		 * "..." of its own, which dash, bash and zsh all read.
		 */
		if (ctx == CTX_DQWORD)
			sink_byte(k, '"');
		for (i = 0; i < len; i++) {
			if (s[i] != '\0' && strchr("$`\"\\", s[i]) != NULL)
				sink_byte(k, '\\');
			sink_byte(k, s[i]);
		}
		if (ctx == CTX_DQWORD)
			sink_byte(k, '"');
		break;
	case CTX_ARITH:
		/* No quoting keeps arithmetic from evaluating a value. */
		if (arith_number(s, len))
			for (i = 0; i < len; i++)
				sink_byte(k, s[i]);
		else
			sink_byte(k, '@');
		break;
	case CTX_COMMENT:
		/* The shell ignores it, and a newline would end the comment. */
		break;
	}
}

/* Append s as one shell word. */
void
shell_quote(struct buf *b, const char *s, size_t len)
{
	struct sink	 k = { b, 0, 0 };

	sink_word(&k, s, len);
}

/*
 * The dot before the k-th extension from the end of the name base..end,
 * or NULL: as {.} does, a dot that begins the name is no extension.
 */
static const char *
ext_dot(const char *base, const char *end, int k)
{
	const char	*d = end;

	while (k-- > 0) {
		d = memrchr(base, '.', (size_t)(d - base));
		if (d == NULL || d == base)
			return NULL;
	}
	return d;
}

/* How many extensions a kind removes or keeps ({..}: 2). */
static int
ext_count(enum repl_kind kind)
{
	switch (kind) {
	case REPL_NOEXT2:
	case REPL_BASENOEXT2:
	case REPL_EXT2:
		return 2;
	case REPL_NOEXT3:
	case REPL_BASENOEXT3:
	case REPL_EXT3:
		return 3;
	default:
		return 1;
	}
}

/*
 * dirname(1) of s, as *p and *plen: trailing slashes do not end the
 * name, and the slashes between it and its directory go with neither.
 */
static void
dirname_of(const char *s, size_t len, const char **p, size_t *plen)
{
	while (len > 1 && s[len - 1] == '/')
		len--;
	while (len > 0 && s[len - 1] != '/')
		len--;
	while (len > 1 && s[len - 1] == '/')
		len--;
	*p = len > 0 ? s : ".";
	*plen = len > 0 ? len : 1;
}

/*
 * The part of value s that a path replacement selects, as *p and *plen;
 * {.} drops an extension (not a leading dot), {//} is dirname(1)'s and
 * {+/} of a bare name is empty.
 */
static void
transform(enum repl_kind kind, const char *s, size_t len, const char **p,
    size_t *plen)
{
	const char	*slash, *dot, *base, *end = s + len;

	slash = memrchr(s, '/', len);
	base = slash != NULL ? slash + 1 : s;
	dot = ext_dot(base, end, ext_count(kind));
	*p = s;
	*plen = len;
	switch (kind) {
	case REPL_BASE:
		*p = base;
		*plen = (size_t)(end - base);
		break;
	case REPL_BASENOEXT:
	case REPL_BASENOEXT2:
	case REPL_BASENOEXT3:
		*p = base;
		*plen = (size_t)((dot != NULL ? dot : end) - base);
		break;
	case REPL_NOEXT:
	case REPL_NOEXT2:
	case REPL_NOEXT3:
		*plen = (size_t)((dot != NULL ? dot : end) - s);
		break;
	case REPL_DIR:
		dirname_of(s, len, p, plen);
		break;
	case REPL_UPDIR:
		*plen = slash != NULL ? (size_t)(slash - s) : 0;
		break;
	case REPL_EXT:
	case REPL_EXT2:
	case REPL_EXT3:
		*p = dot != NULL ? dot + 1 : end;
		*plen = (size_t)(end - *p);
		break;
	default:
		break;
	}
}

/*
 * The part of value s a replacement selects, as *p and *plen; an edit
 * that makes a new string makes it in scratch.  PCRE2's error when it
 * gave up on an edit (the value is then s as it is), else 0.
 */
static int
select_value(const struct segment *seg, const char *s, size_t len,
    struct buf *scratch, const char **p, size_t *plen)
{
	PCRE2_SIZE	 outlen;
	int		 rc;

	*p = s;
	*plen = len;
	switch (seg->kind) {
	case REPL_DEFAULT:
		if (len == 0) {
			*p = seg->arg;
			*plen = seg->arglen;
		}
		return 0;
	case REPL_SUBSTR:
		if (seg->from >= len) {
			*plen = 0;
			return 0;
		}
		*p = s + seg->from;
		*plen = len - seg->from < seg->count ? len - seg->from :
		    seg->count;
		return 0;
	case REPL_REGEX:
		break;
	default:
		transform(seg->kind, s, len, p, plen);
		return 0;
	}
	/* Once for the length when the first guess is short, then again. */
	buf_reset(scratch);
	buf_reserve(scratch, len + 64);
	outlen = scratch->cap;
	rc = pcre2_substitute(seg->code, (PCRE2_SPTR)s, len, 0,
	    seg->subopts | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH, NULL, NULL,
	    (PCRE2_SPTR)seg->subst, PCRE2_ZERO_TERMINATED,
	    (PCRE2_UCHAR *)scratch->data, &outlen);
	if (rc == PCRE2_ERROR_NOMEMORY) {
		buf_reserve(scratch, outlen);
		outlen = scratch->cap;
		rc = pcre2_substitute(seg->code, (PCRE2_SPTR)s, len, 0,
		    seg->subopts, NULL, NULL, (PCRE2_SPTR)seg->subst,
		    PCRE2_ZERO_TERMINATED, (PCRE2_UCHAR *)scratch->data,
		    &outlen);
	}
	/* No match: the value stays as it is. */
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0)
		return rc;
	*p = scratch->data;
	*plen = outlen;
	return 0;
}

/* Note in fail that PCRE2 gave up with rc on value i for seg. */
static void
note_failure(struct template_failure *fail, const struct segment *seg,
    size_t i, int rc)
{
	PCRE2_UCHAR	 msg[120];

	if (fail == NULL || fail->failed)
		return;
	fail->failed = 1;
	fail->value = i;
	if (rc == PCRE2_ERROR_MATCHLIMIT)
		(void)strlcpy((char *)msg, "PCRE2's match limit", sizeof(msg));
	else if (pcre2_get_error_message(rc, msg, sizeof(msg)) < 0)
		(void)strlcpy((char *)msg, "PCRE2 error", sizeof(msg));
	(void)snprintf(fail->why, sizeof(fail->why), "%.*s gave up on it (%s)",
	    (int)seg->len, seg->text, (const char *)msg);
}

/*
 * Append value s, the i-th of the job's, as a replacement selects it,
 * quoted for where it stands; an edit that fails is noted in fail.
 */
static void
put_value(struct buf *b, const struct segment *seg, const char *s, size_t len,
    size_t i, struct template_failure *fail)
{
	struct sink	 k = { b, 0, seg->bq };
	struct buf	 scratch = { 0 };
	const char	*p;
	size_t		 plen;
	int		 rc;

	if ((rc = select_value(seg, s, len, &scratch, &p, &plen)) < 0)
		note_failure(fail, seg, i, rc);
	if (seg->quote)
		sink_value(&k, seg->ctx, p, plen);
	else
		buf_add(b, p, plen);
	buf_free(&scratch);
}

/* Bytes put_value() appends for value s. */
static size_t
value_len(const struct segment *seg, const char *s, size_t len)
{
	struct sink	 k = { NULL, 0, seg->bq };
	struct buf	 scratch = { 0 };
	const char	*p;
	size_t		 plen;

	(void)select_value(seg, s, len, &scratch, &p, &plen);
	if (seg->quote)
		sink_value(&k, seg->ctx, p, plen);
	buf_free(&scratch);
	return seg->quote ? k.n : plen;
}

/* 255 bytes, the longest name DNS allows. */
static const char widest_host[] =
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

/* Append the value of a replacement that names one value or a number. */
static void
put_single(const struct template *t, struct buf *b, const struct segment *seg,
    const struct template_args *a, struct template_failure *fail)
{
	char			 num[32];
	unsigned long long	 v = a->seq;
	int			 width = 0;
	long			 i;

	/* Measured at its widest before the host is known: a DNS name's. */
	if (seg->kind == REPL_HOST) {
		put_value(b, seg, a->host != NULL ? a->host : widest_host,
		    a->host != NULL ? strlen(a->host) : sizeof(widest_host) - 1,
		    0, fail);
		return;
	}
	if (is_number(seg->kind)) {
		switch (seg->kind) {
		case REPL_SLOT:
		case REPL_SLOT0:
			v = a->slot;
			break;
		case REPL_TOTAL:
			v = a->total;
			break;
		default:
			break;
		}
		/* Zero-padded to the width of the total, or of -j. */
		if (seg->kind == REPL_SEQ0 || seg->kind == REPL_SLOT0)
			width = snprintf(num, sizeof(num), "%llu",
			    seg->kind == REPL_SEQ0 ? a->total :
			    (unsigned long long)t->slots);
		(void)snprintf(num, sizeof(num), "%0*llu", width, v);
		buf_adds(b, num);
		return;
	}
	i = seg->pos > 0 ? seg->pos - 1 : (long)a->n + seg->pos;
	if (i >= 0 && (size_t)i < a->n)
		put_value(b, seg, a->v[i], a->len[i], (size_t)i, fail);
	else if (!t->use_shell || t->kind != TEMPLATE_COMMAND ||
	    seg->ctx != CTX_BARE || seg->kind == REPL_DEFAULT)
		put_value(b, seg, "", 0, a->n, fail);
	/* Else a value the job lacks is no word of the line, as in GNU's. */
}

/* Whether a segment stands for every value. */
static int
is_multi(const struct segment *seg)
{
	return seg->is_repl && seg->pos == 0 && !is_number(seg->kind) &&
	    seg->kind != REPL_HOST;
}

/* End the current argv element (direct mode) or add a blank (shell). */
static void
word_break(const struct template *t, struct buf *b, size_t *argc)
{
	if (t->use_shell || t->kind == TEMPLATE_TEXT) {
		buf_addc(b, ' ');
		return;
	}
	buf_addc(b, '\0');
	(*argc)++;
}

/*
 * Expand one word; value is the value every multi replacement takes
 * (for -X), or -1 for all of them in turn.
 */
static void
expand_word(const struct template *t, const struct word *w,
    const struct template_args *a, long value, struct buf *b, size_t *argc,
    struct template_failure *fail)
{
	const struct segment	*seg;
	size_t			 i, k;

	for (i = 0; i < w->nseg; i++) {
		seg = &t->segs[w->seg + i];
		if (!seg->is_repl) {
			buf_add(b, seg->text, seg->len);
			continue;
		}
		buf_add(b, seg->prefix, seg->prefixlen);
		if (!is_multi(seg))
			put_single(t, b, seg, a, fail);
		else if (value >= 0)
			put_value(b, seg, a->v[value], a->len[value],
			    (size_t)value, fail);
		else
			for (k = 0; k < a->n; k++) {
				/* In a SCRIPT, values are words of its line. */
				if (k > 0 && seg->quote)
					buf_addc(b, ' ');
				else if (k > 0)
					word_break(t, b, argc);
				put_value(b, seg, a->v[k], a->len[k], k, fail);
			}
	}
}

/*
 * Whether word w of a command run without a shell is only replacements
 * of values the job does not have (-N's last job, a record short of
 * --colsep's columns): it vanishes then, as in GNU parallel, rather than
 * being an empty argument.  In a shell line, put_single() leaves such a
 * value out.
 */
static int
only_missing(const struct template *t, const struct word *w,
    const struct template_args *a)
{
	const struct segment	*seg;
	size_t			 i;
	long			 k;

	if (t->use_shell || w->litlen > 0 || w->prefixlen > 0 || w->multi ||
	    w->script || w->piece || w->nseg == 0 ||
	    t->kind != TEMPLATE_COMMAND)
		return 0;
	for (i = 0; i < w->nseg; i++) {
		seg = &t->segs[w->seg + i];
		if (!seg->is_repl || seg->pos == 0 || seg->ctx != CTX_BARE ||
		    is_number(seg->kind) || seg->kind == REPL_HOST ||
		    seg->kind == REPL_DEFAULT)
			return 0;
		k = seg->pos > 0 ? seg->pos - 1 : (long)a->n + seg->pos;
		if (k >= 0 && (size_t)k < a->n)
			return 0;
	}
	return 1;
}

/* Expand for one job; see template.h. */
size_t
template_expand(const struct template *t, const struct template_args *a,
    struct buf *b, struct template_failure *fail)
{
	const struct word	*w;
	size_t			 argc = 0, i, k, mark;
	int			 direct, piece, ends;

	/* Even an empty expansion is a string: a fresh buffer gets its NUL. */
	buf_reset(b);
	buf_add(b, "", 0);
	if (fail != NULL)
		fail->failed = 0;
	if (t->bare) {
		for (k = 0; k < a->n; k++) {
			if (k > 0)
				buf_addc(b, ' ');
			buf_add(b, a->v[k], a->len[k]);
		}
		return 1;
	}
	direct = !t->use_shell && t->kind == TEMPLATE_COMMAND;
	for (i = 0; i < t->nwords; i++) {
		w = &t->words[i];
		/* A piece of SCRIPT: its copies are words of its line. */
		piece = direct && w->piece;
		ends = !direct || i + 1 == t->nwords || !t->words[i + 1].cont;
		if (only_missing(t, w, a))
			continue;
		if (!direct)
			buf_add(b, w->sep, w->seplen);
		if (t->xargs && w->multi && !w->script) {
			for (k = 0; k < a->n; k++) {
				if (k > 0 && (!direct || piece))
					buf_addc(b, ' ');
				expand_word(t, w, a, (long)k, b, &argc, fail);
				if (direct && !piece)
					word_break(t, b, &argc);
			}
			if (piece && ends)
				word_break(t, b, &argc);
			continue;
		}
		mark = b->len;
		expand_word(t, w, a, -1, b, &argc, fail);
		/* A word of only {} with no values at all vanishes. */
		if (direct && ends && (piece || b->len > mark ||
		    w->litlen > 0 || !w->multi || a->n > 0))
			word_break(t, b, &argc);
	}
	return direct ? argc : 1;
}

/* Expand once for each value, or once; see template.h. */
size_t
template_expand_each(const struct template *t, const struct template_args *a,
    struct buf *out)
{
	struct buf	 one = { 0 };
	size_t		 argc = 0, i, k, n;
	int		 multi = 0;

	for (i = 0; i < t->nwords; i++)
		multi |= t->words[i].multi;
	n = multi && a->n > 0 ? a->n : 1;
	buf_reset(out);
	for (k = 0; k < n; k++) {
		buf_reset(&one);
		for (i = 0; i < t->nwords; i++) {
			buf_add(&one, t->words[i].sep, t->words[i].seplen);
			expand_word(t, &t->words[i], a, multi && a->n > 0 ?
			    (long)k : -1, &one, &argc, NULL);
		}
		buf_add(out, one.data, one.len);
		buf_addc(out, '\0');
	}
	buf_free(&one);
	return n;
}

/* Bytes of the exec'd argv for an expansion of len bytes (see above). */
size_t
template_line_cost(const struct template *t, size_t len)
{
	/* SHELL -c LINE, or argv elements already NUL-separated. */
	return t->use_shell ? strlen(t->shell) + 4 + len + 1 : len;
}

/* Bytes of the exec'd argv with no values. */
size_t
template_base_cost(const struct template *t)
{
	struct template_args	 none = { 0 };
	struct buf		 b = { 0 };
	size_t			 cost;

	if (t->bare)
		return template_line_cost(t, 0);
	(void)template_expand(t, &none, &b, NULL);
	cost = template_line_cost(t, b.len);
	buf_free(&b);
	return cost;
}

/* Bytes one more value adds; see template.h. */
size_t
template_value_cost(const struct template *t, const char *s, size_t len)
{
	const struct word	*w;
	const struct segment	*seg;
	size_t			 i, k, cost = 0, one;

	if (t->bare)
		return len + 1;
	for (i = 0; i < t->nwords; i++) {
		w = &t->words[i];
		if (!w->multi)
			continue;
		one = 0;
		for (k = 0; k < w->nseg; k++) {
			seg = &t->segs[w->seg + k];
			if (!is_multi(seg))
				continue;
			one += value_len(seg, s, len) + 1;
		}
		cost += t->xargs && !w->script ? one + w->litlen +
		    w->prefixlen : one;
	}
	return cost;
}

/* Whether an expansion depends on the job's slot ({%}); see template.h. */
int
template_uses_slot(const struct template *t)
{
	size_t	 i;

	for (i = 0; t != NULL && i < t->nsegs; i++)
		if (t->segs[i].is_repl && (t->segs[i].kind == REPL_SLOT ||
		    t->segs[i].kind == REPL_SLOT0 ||
		    t->segs[i].kind == REPL_HOST))
			return 1;
	return 0;
}

/* The first replacement string of a job's own; see template.h. */
const char *
template_job_repl(const struct template *t, size_t *len)
{
	size_t	 i;

	for (i = 0; !t->appended && i < t->nsegs; i++)
		if (t->segs[i].is_repl && t->segs[i].kind != REPL_SLOT &&
		    t->segs[i].kind != REPL_SLOT0 &&
		    t->segs[i].kind != REPL_HOST) {
			*len = t->segs[i].len;
			return t->segs[i].text;
		}
	return NULL;
}

/* Whether an expansion depends on the total ({##}); see template.h. */
int
template_uses_total(const struct template *t)
{
	size_t	 i;

	for (i = 0; t != NULL && i < t->nsegs; i++)
		if (t->segs[i].is_repl && (t->segs[i].kind == REPL_TOTAL ||
		    t->segs[i].kind == REPL_SEQ0))
			return 1;
	return 0;
}
