#include <ctype.h>
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	enum quote_ctx	 ctx;
	unsigned int	 bq;		/* backquote levels around it */
	unsigned int	 bqbs;		/* bit n: a \ before it at level n */
	int		 after_bs;	/* a \ before it at its own level */
	int		 placed;	/* the lexer saw it */
	char		 prefix[PREFIX_MAX];	/* ends the \ before it */
	size_t		 prefixlen;
	int		 quote;		/* values quoted as ctx says */
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
	int			 argv;		/* words are argv as given */
	const char		*shell;
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
	size_t		 ws;		/* where the current word began */
};

#define FRAMES_MAX	64
#define LEVELS_MAX	16
#define NO_WORD		((size_t)-1)

/* What every level of the line shares. */
struct lex_state {
	struct template	*t;
	int		 heredoc;	/* 1: a << was seen; 2: past its line */
	int		 ambiguous;	/* a \' in $'...': shells part ways */
	int		 overflow;	/* nesting deeper than followed */
	const char	*why;		/* set: a replacement cannot be quoted */
	struct segment	*why_seg;
};

/* One level of the line: the line itself, or the inside of `...`. */
struct lexer {
	struct lex_state *s;
	const char	*c;		/* the level's bytes */
	const size_t	*at;		/* where each stands in t->joined */
	size_t		 n;
	unsigned int	 level;		/* backquotes around it */
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

/* Note a replacement's context, or why it has none that is safe. */
static void
place(struct lexer *lx, struct segment *seg, enum quote_ctx ctx,
    int after_bs, const char *refuse)
{
	struct lex_state	*s = lx->s;

	seg->placed = 1;
	if (refuse == NULL && s->heredoc == 2)
		refuse = "inside a here-document";
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

/* Whether frame f holds commands (where case, #, ( and ) mean something). */
static int
frame_commands(const struct frame *f)
{
	return f->kind == FRAME_TOP || f->kind == FRAME_PAREN ||
	    f->kind == FRAME_CMDSUB;
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
	if (lx->level + 1 < LEVELS_MAX) {
		in = xcalloc(1, sizeof(*in));
		in->s = lx->s;
		in->c = c;
		in->at = at;
		in->n = m;
		in->level = lx->level + 1;
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
		return i + 1;
	}
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
		if (lx->s->heredoc == 1)
			lx->s->heredoc = 2;
		f->cmd_start = 1;
		return i + 1;
	case ';':
	case '&':
	case '|':
		f->cmd_start = 1;
		return i + 1;
	case '(':
		if (f->cmd_start && next == '(') {
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
			if (lx->s->heredoc == 0)
				lx->s->heredoc = 1;
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

	place(lx, seg, frame_ctx(f), 0, NULL);
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

/* Follow byte c of a ${...}: its braces, its end, a subscript opening. */
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
	else if (c == '[' && !f->word)
		push(lx, FRAME_ARITH, 0, ']');
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
	}
	return i;
}

/* Read a level of the line, placing every replacement in it. */
static void
lex(struct lexer *lx)
{
	struct frame	*f;
	struct segment	*seg;
	size_t		 i = 0, next;
	char		 c;

	lx->nf = 0;
	push(lx, FRAME_TOP, 0, '\0');
	while (i < lx->n) {
		f = top(lx);
		c = lx->c[i];
		if ((seg = repl_at(lx, i)) != NULL) {
			i = lex_repl(lx, i, seg);
			continue;
		}
		if (f->kind == FRAME_PARAM) {
			if (f->seen > 0 && !isalnum((unsigned char)c) &&
			    c != '_')
				f->word = 1;
			f->seen++;
		}
		if (frame_commands(f) && strchr(" \t\n;&|()<>", c) != NULL) {
			i = lex_operator(lx, i);
			continue;
		}
		if (frame_commands(f) && c == '#' && f->ws == NO_WORD) {
			i = lex_comment(lx, i);
			continue;
		}
		if (f->ws == NO_WORD)
			f->ws = i;
		if ((next = lex_quoting(lx, i)) != i) {
			i = next;
			continue;
		}
		if (f->kind == FRAME_PARAM)
			lex_param(lx, c);
		else if (f->kind == FRAME_ARITH)
			i = lex_arith(lx, i);
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
	size_t			 i, k, off;
	size_t			*at;

	s.t = t;
	at = xreallocarray(NULL, n + 1, sizeof(*at));
	for (i = 0; i < n; i++)
		at[i] = from + i;
	lx = xcalloc(1, sizeof(*lx));
	lx->s = &s;
	lx->c = t->joined + from;
	lx->at = at;
	lx->n = n;
	lex(lx);
	free(lx);
	free(at);
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
		return -1;
	}
	for (i = 0; i < t->nwords; i++)
		for (k = 0; k < t->words[i].nseg; k++) {
			set_prefix(&t->segs[t->words[i].seg + k]);
			t->words[i].prefixlen +=
			    t->segs[t->words[i].seg + k].prefixlen;
		}
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
 * The index of SCRIPT when words are SHELL [OPTION...] -c SCRIPT [ARG...]
 * for a known shell, else 0.  The options are those sh, bash and zsh
 * share: -abc or +abc letters, -o NAME and +o NAME (bash's -O and +O
 * too), and bash's --long options; -c among letters makes the next word
 * the script.
 */
static size_t
script_word(char **words, size_t nwords)
{
	const char	*base, *w;
	size_t		 i, len;

	if (nwords < 3)
		return 0;
	base = strrchr(words[0], '/') != NULL ? strrchr(words[0], '/') + 1 :
	    words[0];
	for (i = 0; script_shells[i] != NULL; i++)
		if (strcmp(base, script_shells[i]) == 0)
			break;
	if (script_shells[i] == NULL)
		return 0;
	for (i = 1; i + 1 < nwords; i++) {
		w = words[i];
		len = strlen(w);
		if (w[0] == '-' && w[1] == '-' && len > 2)
			continue;
		if ((w[0] != '-' && w[0] != '+') || len < 2 ||
		    strspn(w + 1, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != len - 1)
			return 0;
		if (w[0] == '-' && strchr(w + 1, 'c') != NULL)
			return i + 1;
		/* -o NAME: the name is no option of its own. */
		if (w[len - 1] == 'o' || w[len - 1] == 'O')
			i++;
	}
	return 0;
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
			memset(&seg, 0, sizeof(seg));
			if ((n = match_repl(s, replstr, &seg)) == 0 ||
			    n > (size_t)(end - s)) {
				if (lit == NULL)
					lit = s;
				s++;
				continue;
			}
			if (lit != NULL)
				add_segment(t, &(struct segment){ .text = lit,
				    .len = (size_t)(s - lit) });
			lit = NULL;
			seg.is_repl = 1;
			seg.text = s;
			seg.len = n;
			add_segment(t, &seg);
			any = 1;
			s += n;
		}
		if (lit != NULL)
			add_segment(t, &(struct segment){ .text = lit,
			    .len = (size_t)(s - lit) });
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
	if (!parse_argv(t, words, nwords, script, o->replstr)) {
		free(t->segs);
		free(t->words);
		t->segs = NULL;
		t->words = NULL;
		t->nsegs = t->nwords = 0;
		buf_addc(&b, ' ');
		buf_adds(&b, o->replstr);
		t->joined = b.data;
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
quote_words(struct buf *b, char **words, size_t nwords, const char *replstr)
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
			n = *s == '\0' ? 0 : match_repl(s, replstr, &seg);
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

/* Parse the template once. */
struct template *
template_new(char **words, size_t nwords, enum template_kind kind,
    const struct opts *o)
{
	struct template	*t;
	struct buf	 b = { 0 };
	size_t		 script = 0;
	int		 meta;

	t = xcalloc(1, sizeof(*t));
	t->kind = kind;
	t->xargs = o->xargs;
	t->shell = pick_shell(o);
	if (kind == TEMPLATE_COMMAND && o->exec_mode != EXEC_SHELL)
		script = script_word(words, nwords);
	if (kind == TEMPLATE_COMMAND && o->quote && script == 0 &&
	    o->exec_mode != EXEC_DIRECT && nwords > 0 &&
	    shell_plain(words[0], strlen(words[0])) && is_function(words[0]))
		quote_words(&b, words, nwords, o->replstr);
	else if (kind == TEMPLATE_COMMAND && (o->quote || script > 0)) {
		if (template_argv(t, words, nwords, script, o) == -1) {
			template_free(t);
			return NULL;
		}
		return t;
	} else
		join_words(&b, words, nwords);
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

/* Release a template. */
void
template_free(struct template *t)
{
	if (t == NULL)
		return;
	free(t->joined);
	free(t->segs);
	free(t->words);
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
 * The part of value s that a replacement kind selects, as *p and *plen; {.}
 * drops an extension (not a leading dot), {//} of a bare name is ".".
 */
static void
transform(enum repl_kind kind, const char *s, size_t len, const char **p,
    size_t *plen)
{
	const char	*slash, *dot, *base;

	slash = memrchr(s, '/', len);
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
		dot = memrchr(base, '.', len - (size_t)(base - s));
		if (dot != NULL && dot > base)
			*plen = (size_t)(dot - *p);
	}
}

/* Append value s as a replacement selects it, quoted for where it stands. */
static void
put_value(struct buf *b, const struct segment *seg, const char *s, size_t len)
{
	struct sink	 k = { b, 0, seg->bq };
	const char	*p;
	size_t		 plen;

	transform(seg->kind, s, len, &p, &plen);
	if (seg->quote)
		sink_value(&k, seg->ctx, p, plen);
	else
		buf_add(b, p, plen);
}

/* Bytes put_value() appends for value s. */
static size_t
value_len(const struct segment *seg, const char *s, size_t len)
{
	struct sink	 k = { NULL, 0, seg->bq };
	const char	*p;
	size_t		 plen;

	transform(seg->kind, s, len, &p, &plen);
	if (!seg->quote)
		return plen;
	sink_value(&k, seg->ctx, p, plen);
	return k.n;
}

/* Append the value of a replacement that names one value or a number. */
static void
put_single(struct buf *b, const struct segment *seg,
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
		put_value(b, seg, a->v[i], a->len[i]);
	else
		put_value(b, seg, "", 0);
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
		if (!seg->is_repl) {
			buf_add(b, seg->text, seg->len);
			continue;
		}
		buf_add(b, seg->prefix, seg->prefixlen);
		if (!is_multi(seg))
			put_single(b, seg, a);
		else if (value >= 0)
			put_value(b, seg, a->v[value], a->len[value]);
		else
			for (k = 0; k < a->n; k++) {
				/* In a SCRIPT, values are words of its line. */
				if (k > 0 && seg->quote)
					buf_addc(b, ' ');
				else if (k > 0)
					word_break(t, b, argc);
				put_value(b, seg, a->v[k], a->len[k]);
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
		if (t->xargs && w->multi && !w->script) {
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
		if (t->segs[i].is_repl && t->segs[i].kind == REPL_SLOT)
			return 1;
	return 0;
}
