#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"
#include "util.h"

enum repl_kind {
	REPL_WHOLE,		/* {}	*/
	REPL_NOEXT,		/* {.}	*/
	REPL_BASE,		/* {/}	*/
	REPL_DIR,		/* {//}	*/
	REPL_BASENOEXT,		/* {/.}	*/
	REPL_SEQ,		/* {#}	*/
	REPL_SLOT		/* {%}	*/
};

/* A piece of a word: literal text or a replacement string. */
struct segment {
	int		 is_repl;
	const char	*text;		/* literal: into template->joined */
	size_t		 len;
	enum repl_kind	 kind;
	long		 pos;		/* 0: every value; n: the n-th; -n */
};

/* A blank-separated word of the template and the blanks before it. */
struct word {
	size_t		 seg;		/* first segment */
	size_t		 nseg;
	const char	*sep;		/* blanks before it, as written */
	size_t		 seplen;
	int		 multi;		/* holds a replacement of every value */
	size_t		 litlen;	/* bytes of literal text */
};

struct template {
	enum template_kind	 kind;
	char			*joined;	/* owned: the words joined */
	struct segment		*segs;
	size_t			 nsegs;
	struct word		*words;
	size_t			 nwords;
	int			 use_shell;
	int			 xargs;		/* -X: repeat the word per value */
	int			 bare;		/* no command: records are commands */
	const char		*shell;
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

/*
 * Recognise a replacement string at s; its length, or 0.  Forms: the
 * -I string, {.} {/} {//} {/.} {#} {%}, and {n} {n.} {n/} {n//} {n/.}.
 */
static size_t
match_repl(const char *s, const char *replstr, struct segment *seg)
{
	const char	*p = s + 1, *errstr;
	char		 num[24];
	size_t		 n, rl = strlen(replstr);
	long		 pos = 0;

	if (strncmp(s, replstr, rl) == 0) {
		seg->kind = REPL_WHOLE;
		seg->pos = 0;
		return rl;
	}
	if (*s != '{')
		return 0;
	if (strncmp(p, "#}", 2) == 0 || strncmp(p, "%}", 2) == 0) {
		seg->kind = *p == '#' ? REPL_SEQ : REPL_SLOT;
		seg->pos = 0;
		return 3;
	}
	n = strspn(p + (*p == '-'), "0123456789");
	if (n > 0) {
		n += *p == '-';
		if (n >= sizeof(num))
			return 0;
		memcpy(num, p, n);
		num[n] = '\0';
		pos = (long)strtonum(num, -1000000000, 1000000000, &errstr);
		if (errstr != NULL || pos == 0)
			return 0;
		p += n;
	}
	if (strncmp(p, "}", 1) == 0 && pos != 0)
		seg->kind = REPL_WHOLE;
	else if (strncmp(p, ".}", 2) == 0)
		seg->kind = REPL_NOEXT;
	else if (strncmp(p, "/}", 2) == 0)
		seg->kind = REPL_BASE;
	else if (strncmp(p, "//}", 3) == 0)
		seg->kind = REPL_DIR;
	else if (strncmp(p, "/.}", 3) == 0)
		seg->kind = REPL_BASENOEXT;
	else
		return 0;
	seg->pos = pos;
	return (size_t)(strchr(p, '}') - s) + 1;
}

/* Add a segment to the template and to its last word. */
static void
add_segment(struct template *t, const struct segment *seg)
{
	struct word	*w = &t->words[t->nwords - 1];

	t->segs = xreallocarray(t->segs, t->nsegs + 1, sizeof(*t->segs));
	t->segs[t->nsegs++] = *seg;
	w->nseg++;
	if (seg->is_repl && seg->pos == 0 && seg->kind != REPL_SEQ &&
	    seg->kind != REPL_SLOT)
		w->multi = 1;
	if (!seg->is_repl)
		w->litlen += seg->len;
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
 * character the shell would interpret.
 */
static int
parse(struct template *t, const char *replstr, int *meta)
{
	struct segment	 seg;
	const char	*s = t->joined, *lit = NULL;
	size_t		 n, blanks;
	int		 any = 0;

	*meta = 0;
	blanks = strspn(s, " \t");
	add_word(t, s, blanks);
	s += blanks;
	while (*s != '\0') {
		memset(&seg, 0, sizeof(seg));
		if ((n = match_repl(s, replstr, &seg)) > 0) {
			if (lit != NULL) {
				add_segment(t, &(struct segment){ .text = lit,
				    .len = (size_t)(s - lit) });
				lit = NULL;
			}
			seg.is_repl = 1;
			seg.text = s;
			seg.len = n;
			add_segment(t, &seg);
			any = 1;
			s += n;
			continue;
		}
		if (*s == ' ' || *s == '\t') {
			if (lit != NULL) {
				add_segment(t, &(struct segment){ .text = lit,
				    .len = (size_t)(s - lit) });
				lit = NULL;
			}
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
	if (lit != NULL)
		add_segment(t, &(struct segment){ .text = lit,
		    .len = (size_t)(s - lit) });
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

/* Parse the template once. */
struct template *
template_new(char **words, size_t nwords, enum template_kind kind,
    const struct opts *o)
{
	struct template	*t;
	struct buf	 b = { 0 };
	size_t		 i;
	int		 meta;

	t = xcalloc(1, sizeof(*t));
	t->kind = kind;
	t->xargs = o->xargs;
	t->shell = pick_shell(o);
	for (i = 0; i < nwords; i++) {
		if (i > 0)
			buf_addc(&b, ' ');
		buf_adds(&b, words[i]);
	}
	if (b.data == NULL)
		buf_adds(&b, "");
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
	if (!parse(t, o->replstr, &meta) && kind == TEMPLATE_COMMAND) {
		/* No replacement string: the values go last. */
		free(t->segs);
		free(t->words);
		t->segs = NULL;
		t->words = NULL;
		t->nsegs = t->nwords = 0;
		buf_addc(&b, ' ');
		buf_adds(&b, o->replstr);
		t->joined = b.data;
		parse(t, o->replstr, &meta);
	}
	if (kind == TEMPLATE_TEXT)
		return t;
	switch (o->exec_mode) {
	case EXEC_SHELL:
		t->use_shell = 1;
		break;
	case EXEC_DIRECT:
		if (meta || first_word_needs_shell(t)) {
			warnx("--exec-mode direct: the command needs a shell: "
			    "%s", t->joined);
			template_free(t);
			return NULL;
		}
		break;
	case EXEC_AUTO:
		t->use_shell = meta || first_word_needs_shell(t);
		break;
	}
	return t;
}

/* Release a template. */
void
template_free(struct template *t)
{
	if (t == NULL)
		return;
	free(t->joined);
	free(t->segs);
	free(t->words);
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

/* Append s as one shell word. */
void
shell_quote(struct buf *b, const char *s, size_t len)
{
	size_t	 i;

	if (shell_plain(s, len)) {
		buf_add(b, s, len);
		return;
	}
	buf_addc(b, '\'');
	for (i = 0; i < len; i++) {
		if (s[i] == '\'')
			buf_adds(b, "'\"'\"'");
		else
			buf_addc(b, s[i]);
	}
	buf_addc(b, '\'');
}

/* Bytes shell_quote() would append. */
static size_t
shell_quote_len(const char *s, size_t len)
{
	size_t	 i, n = 2;

	if (shell_plain(s, len))
		return len;
	for (i = 0; i < len; i++)
		n += s[i] == '\'' ? 5 : 1;
	return n;
}

/*
 * The part of value s that a replacement kind selects, as *p and *plen; {.}
 * drops an extension (not a leading dot), {//} of a bare name is ".".
 */
static void
transform(enum repl_kind kind, const char *s, size_t len, const char **p,
    size_t *plen)
{
	const char	*slash, *dot, *base;
	size_t		 i;

	slash = NULL;
	for (i = len; i-- > 0;)
		if (s[i] == '/') {
			slash = s + i;
			break;
		}
	base = slash != NULL ? slash + 1 : s;
	switch (kind) {
	case REPL_BASE:
	case REPL_BASENOEXT:
		*p = base;
		*plen = len - (size_t)(base - s);
		break;
	case REPL_DIR:
		if (slash == NULL) {
			*p = ".";
			*plen = 1;
		} else {
			*p = s;
			*plen = slash == s ? 1 : (size_t)(slash - s);
		}
		return;
	default:
		*p = s;
		*plen = len;
		break;
	}
	if (kind == REPL_NOEXT || kind == REPL_BASENOEXT) {
		dot = NULL;
		for (i = len; i-- > (size_t)(base - s);)
			if (s[i] == '.') {
				dot = s + i;
				break;
			}
		if (dot != NULL && dot > base)
			*plen = (size_t)(dot - *p);
	}
}

/* Append value s as a replacement kind selects it, quoted for a shell. */
static void
put_value(const struct template *t, struct buf *b, enum repl_kind kind,
    const char *s, size_t len)
{
	const char	*p;
	size_t		 plen;

	transform(kind, s, len, &p, &plen);
	if (t->use_shell && t->kind == TEMPLATE_COMMAND)
		shell_quote(b, p, plen);
	else
		buf_add(b, p, plen);
}

/* Append the value of a replacement that names one value or a number. */
static void
put_single(const struct template *t, struct buf *b, const struct segment *seg,
    const struct template_args *a)
{
	char	 num[32];
	long	 i;

	if (seg->kind == REPL_SEQ || seg->kind == REPL_SLOT) {
		(void)snprintf(num, sizeof(num), "%llu", seg->kind == REPL_SEQ ?
		    a->seq : (unsigned long long)a->slot);
		buf_adds(b, num);
		return;
	}
	i = seg->pos > 0 ? seg->pos - 1 : (long)a->n + seg->pos;
	if (i >= 0 && (size_t)i < a->n)
		put_value(t, b, seg->kind, a->v[i], a->len[i]);
	else
		put_value(t, b, seg->kind, "", 0);
}

/* Whether a segment stands for every value. */
static int
is_multi(const struct segment *seg)
{
	return seg->is_repl && seg->pos == 0 && seg->kind != REPL_SEQ &&
	    seg->kind != REPL_SLOT;
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
    const struct template_args *a, long value, struct buf *b, size_t *argc)
{
	const struct segment	*seg;
	size_t			 i, k;

	for (i = 0; i < w->nseg; i++) {
		seg = &t->segs[w->seg + i];
		if (!seg->is_repl)
			buf_add(b, seg->text, seg->len);
		else if (!is_multi(seg))
			put_single(t, b, seg, a);
		else if (value >= 0)
			put_value(t, b, seg->kind, a->v[value],
			    a->len[value]);
		else
			for (k = 0; k < a->n; k++) {
				if (k > 0)
					word_break(t, b, argc);
				put_value(t, b, seg->kind, a->v[k], a->len[k]);
			}
	}
}

/* Expand for one job; see template.h. */
size_t
template_expand(const struct template *t, const struct template_args *a,
    struct buf *b)
{
	const struct word	*w;
	size_t			 argc = 0, i, k, mark;
	int			 direct;

	/* Even an empty expansion is a string: a fresh buffer gets its NUL. */
	buf_reset(b);
	buf_add(b, "", 0);
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
		if (!direct)
			buf_add(b, w->sep, w->seplen);
		if (t->xargs && w->multi) {
			for (k = 0; k < a->n; k++) {
				if (k > 0 && !direct)
					buf_addc(b, ' ');
				expand_word(t, w, a, (long)k, b, &argc);
				if (direct)
					word_break(t, b, &argc);
			}
			continue;
		}
		mark = b->len;
		expand_word(t, w, a, -1, b, &argc);
		/* A word of only {} with no values at all vanishes. */
		if (direct && (b->len > mark || w->litlen > 0 ||
		    !w->multi || a->n > 0))
			word_break(t, b, &argc);
	}
	return direct ? argc : 1;
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
	(void)template_expand(t, &none, &b);
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
	const char		*p;
	size_t			 i, k, plen, cost = 0, one;

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
			transform(seg->kind, s, len, &p, &plen);
			one += (t->use_shell ? shell_quote_len(p, plen) :
			    plen) + 1;
		}
		cost += t->xargs ? one + w->litlen : one;
	}
	return cost;
}
