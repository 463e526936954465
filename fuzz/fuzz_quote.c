/*
 * shell_quote() round trip.  For any byte string v without a NUL,
 * shell_quote(v) must be one shell word that a POSIX shell reads back as
 * exactly v, wherever the word stands in a command line: no unquoted
 * character the shell would act on, and neither an assignment nor a
 * reserved word when it stands first.
 *
 * Running sh for every input is too slow for fuzzing, so the word is read
 * back here by a small reader of POSIX sh word syntax (2.2 Quoting):
 * unquoted characters, backslash escapes, '...' and "...".  Anything it
 * does not know is a failure: shell_quote() must stay inside what it
 * knows.  tests/quote.bats runs the real dash and bash on the same kind
 * of values.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "template.h"
#include "util.h"

#include "fuzz.h"

/* Reserved words of sh, bash, ksh and zsh: special only when unquoted. */
static const char *const reserved[] = {
	"!", "{", "}", "[[", "]]", "case", "coproc", "do", "done", "elif",
	"else", "end", "esac", "fi", "for", "foreach", "function", "if", "in",
	"nocorrect", "repeat", "select", "then", "time", "until", "while",
	NULL
};

static struct template	*shell_template;

static void __attribute__((noreturn))
die(const char *why, const char *v, size_t vlen, const struct buf *w)
{
	fuzz_dump("value", v, vlen);
	fuzz_dump("word", w->data, w->len);
	fuzz_fail("fuzz_quote", "%s", why);
}

/*
 * Characters that are plain text to every POSIX shell in any position.
 * Not '=': NAME=... first is an assignment, and zsh expands a word that
 * begins with '=' to a command's path.
 */
static int
plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("_-./,:+@%", c) != NULL;
}

/* A name as sh defines it (XBD 3.235): what may stand before '=' . */
static int
is_name(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/*
 * Read one shell word w[0..n) as sh would, into out; NULL, or what is
 * wrong with it.  The word must end exactly at n: a blank, or any other
 * unquoted character that ends or changes a word, is an error.
 */
static const char *
read_word(const char *w, size_t n, struct buf *out)
{
	size_t	 i = 0;
	int	 quoted = 0;

	if (n == 0)
		return "empty: no word at all";
	while (i < n) {
		switch (w[i]) {
		case '\'':
			quoted = 1;
			for (i++; i < n && w[i] != '\''; i++)
				buf_addc(out, w[i]);
			if (i == n)
				return "unterminated '...'";
			i++;
			break;
		case '"':
			quoted = 1;
			for (i++; i < n && w[i] != '"'; i++) {
				if (w[i] == '$' || w[i] == '`')
					return "expansion inside \"...\"";
				if (w[i] == '\\' && i + 1 < n &&
				    strchr("$`\"\\\n", w[i + 1]) != NULL) {
					if (w[++i] != '\n')
						buf_addc(out, w[i]);
					continue;
				}
				buf_addc(out, w[i]);
			}
			if (i == n)
				return "unterminated \"...\"";
			i++;
			break;
		case '\\':
			quoted = 1;
			if (++i == n)
				return "backslash at the end";
			if (w[i] != '\n')	/* backslash-newline is removed */
				buf_addc(out, w[i]);
			i++;
			break;
		default:
			if (!plain((unsigned char)w[i]))
				return "unquoted special character";
			buf_addc(out, w[i++]);
			break;
		}
	}
	/* NAME= before any quote makes the word an assignment. */
	for (i = 0; i < n && w[i] != '='; i++)
		;
	if (i < n && is_name(w, i))
		return "an assignment when it stands first";
	for (i = 0; !quoted && reserved[i] != NULL; i++)
		if (strlen(reserved[i]) == n && memcmp(reserved[i], w, n) == 0)
			return "a reserved word when it stands first";
	return NULL;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char	*words[] = { (char *)"printf", (char *)"%s", NULL };
	struct opts	 o;

	(void)argc;
	(void)argv;
	fuzz_report_init();
	memset(&o, 0, sizeof(o));
	o.replstr = "{}";
	o.exec_mode = EXEC_SHELL;
	o.shell = "/bin/sh";
	shell_template = template_new(words, 2, TEMPLATE_COMMAND, &o);
	if (shell_template == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	 prefix[] = "x ";
	const char		*v = (const char *)data, *why;
	struct buf		 w = { 0 }, back = { 0 }, tail = { 0 };
	size_t			 cost;

	if (memchr(data, '\0', size) != NULL)
		return -1;	/* not a value: keep it out of the corpus */

	shell_quote(&w, v, size);
	if (w.len == 0 || strlen(w.data) != w.len)
		die("the word is empty or holds a NUL", v, size, &w);
	if ((why = read_word(w.data, w.len, &back)) != NULL)
		die(why, v, size, &w);
	if (back.len != size ||
	    (size > 0 && memcmp(back.data, v, size) != 0))
		die("the word reads back as another value", v, size, &w);

	/* Appending keeps what the buffer held. */
	buf_adds(&tail, prefix);
	shell_quote(&tail, v, size);
	if (tail.len != w.len + sizeof(prefix) - 1 ||
	    memcmp(tail.data, prefix, sizeof(prefix) - 1) != 0 ||
	    memcmp(tail.data + sizeof(prefix) - 1, w.data, w.len) != 0)
		die("appending to a buffer changed it", v, size, &w);

	/* The line-length estimate counts the quoted word and its blank. */
	cost = template_value_cost(shell_template, v, size);
	if (cost != w.len + 1)
		die("template_value_cost disagrees with shell_quote", v, size,
		    &w);

	buf_free(&w);
	buf_free(&back);
	buf_free(&tail);
	return 0;
}
