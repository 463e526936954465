/*
 * The command template: template_new() on fuzzer-chosen words and
 * options, then template_expand() with fuzzer-chosen values, checking
 * what template.h promises about the expansion and its costs.
 *
 * Input: two header bytes, then NUL-separated pieces.
 *   byte 0: bit 0 TEXT (else COMMAND), bits 1-2 exec mode (auto, shell,
 *           direct), bit 3 -X, bit 4 the first piece is the -I string,
 *           bit 5 --plus
 *   byte 1: low nibble the number of template words (0-15), high nibble
 *           the number of values (0-15)
 *   then [-I string], the words, the values; {#} and {%} come from the
 *   last piece's length.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "template.h"
#include "util.h"

#include "fuzz.h"

#define MAXPIECES	40

static void __attribute__((noreturn))
die(const char *why)
{
	fuzz_fail("fuzz_template", "%s", why);
}

/* Whether a word may hold a replacement other than one of every value. */
static int
has_single(char **w, size_t n)
{
	const char	*p;
	size_t		 i;

	for (i = 0; i < n; i++)
		for (p = w[i]; (p = strchr(p, '{')) != NULL; p++)
			if (p[1] == '#' || p[1] == '%' || p[1] == '-' ||
			    (p[1] >= '0' && p[1] <= '9') ||
			    strncmp(p, "{slot}", 6) == 0)
				return 1;
	return 0;
}

/*
 * Whether a shell template may hold a replacement that cannot be quoted:
 * after a $, in $'...' or a here-document, in `...` nested too deeply, or
 * past more nesting than the quoting lexer follows.
 */
static int
may_refuse(char **w, size_t n)
{
	const char	*p;
	size_t		 i, open = 0;

	for (i = 0; i < n; i++) {
		if (strpbrk(w[i], "$`") != NULL || strstr(w[i], "<<") != NULL)
			return 1;
		for (p = w[i]; *p != '\0'; p++)
			open += *p == '(' || *p == '"' || *p == '[';
	}
	return open >= 63;
}

/*
 * Whether any template may be refused: a {= perl =}, a position out of
 * range, or with --plus a regex PCRE2 does not take or a string naming
 * remote hosts.
 */
static int
may_refuse_any(char **w, size_t n, int plus)
{
	const char	*p;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (strstr(w[i], "{=") != NULL ||
		    (plus && strchr(w[i], '{') != NULL))
			return 1;
		/* A position out of range: {N} with ten digits or more. */
		for (p = w[i]; (p = strchr(p, '{')) != NULL; ) {
			p += p[1] == '-' ? 2 : 1;
			if (strspn(p, "0123456789") >= 10)
				return 1;
		}
	}
	return 0;
}

/*
 * Check one expansion: a direct command is argc NUL-terminated elements
 * that fill the buffer exactly; anything else is one NUL-free string.
 */
static void
check_shape(const struct template *t, enum template_kind kind, size_t argc,
    const struct buf *b)
{
	const char	*p, *end;
	size_t		 i;

	if (b->data == NULL)
		die("template_expand left the buffer unallocated");
	if (b->data[b->len] != '\0')
		die("the expansion is not NUL-terminated");
	if (kind == TEMPLATE_TEXT || template_uses_shell(t)) {
		if (argc != 1)
			die("a shell line or a text is not one string");
		if (strlen(b->data) != b->len)
			die("a shell line or a text holds a NUL");
		return;
	}
	p = b->data;
	end = b->data + b->len;
	for (i = 0; i < argc; i++) {
		if (p >= end)
			die("fewer argv elements than template_expand says");
		p += strlen(p) + 1;
	}
	if (p != end)
		die("argv elements do not fill the expansion exactly");
}

/* What the exec'd argv takes: SHELL -c LINE, or the elements as they are. */
static size_t
argv_bytes(const struct template *t, enum template_kind kind,
    const struct buf *b)
{
	if (kind == TEMPLATE_COMMAND && template_uses_shell(t))
		return strlen(template_shell(t)) + 1 + 3 + b->len + 1;
	return b->len;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_report_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum exec_mode	 modes[] = {
		EXEC_AUTO, EXEC_SHELL, EXEC_DIRECT, EXEC_AUTO
	};
	struct opts			 o;
	struct template			*t;
	struct template_args		 a = { 0 }, none = { 0 };
	struct buf			 b = { 0 }, b2 = { 0 }, prev = { 0 };
	enum template_kind		 kind;
	char				*copy, *pieces[MAXPIECES], **words;
	char				**vals;
	size_t				 lens[MAXPIECES], npieces = 0, nwords;
	size_t				 nvals, i, argc, cost, delta, k;
	int				 single;

	if (size < 2)
		return -1;
	copy = xmalloc(size - 2 + 1);
	memcpy(copy, data + 2, size - 2);
	copy[size - 2] = '\0';
	pieces[npieces++] = copy;
	for (i = 0; i < size - 2 && npieces < MAXPIECES; i++)
		if (copy[i] == '\0')
			pieces[npieces++] = copy + i + 1;

	memset(&o, 0, sizeof(o));
	kind = data[0] & 1 ? TEMPLATE_TEXT : TEMPLATE_COMMAND;
	o.exec_mode = modes[(data[0] >> 1) & 3];
	o.xargs = o.context = (data[0] >> 3) & 1;
	o.plus = (data[0] >> 5) & 1;
	o.jobs = 1 + (unsigned int)(size % 200);
	o.replstr = "{}";
	o.shell = "/bin/sh";
	words = pieces;
	if (data[0] & 0x10) {
		/* What opts_parse() refuses: empty, or a blank first. */
		if (strchr(" \t", pieces[0][0]) == NULL)
			o.replstr = pieces[0];
		words++;
	}
	nwords = data[1] & 0xf;
	nvals = data[1] >> 4;
	if ((size_t)(words - pieces) + nwords + nvals > npieces)
		goto out;
	vals = words + nwords;
	for (i = 0; i < nvals; i++)
		lens[i] = strlen(vals[i]);
	a.v = vals;
	a.len = lens;
	a.seq = (unsigned long long)size * 7919;
	a.slot = (unsigned int)(size % 64);
	a.total = (unsigned long long)size * 104729;

	t = template_new(words, nwords, kind, &o);
	if (t == NULL) {
		if (may_refuse_any(words, nwords, o.plus))
			goto out;
		if (kind != TEMPLATE_COMMAND || (o.exec_mode != EXEC_DIRECT &&
		    !may_refuse(words, nwords)))
			die("template_new failed outside --exec-mode direct");
		goto out;
	}
	if (kind == TEMPLATE_COMMAND && o.exec_mode == EXEC_SHELL &&
	    !template_uses_shell(t))
		die("--exec-mode shell and no shell");
	if (o.exec_mode == EXEC_DIRECT && kind == TEMPLATE_COMMAND &&
	    template_uses_shell(t))
		die("--exec-mode direct and a shell");

	single = has_single(words, nwords);
	for (k = 0; k <= nvals; k++) {
		a.n = k;
		argc = template_expand(t, &a, &b, NULL);
		check_shape(t, kind, argc, &b);
		if (kind == TEMPLATE_COMMAND &&
		    template_line_cost(t, b.len) != argv_bytes(t, kind, &b))
			die("template_line_cost is not the argv's size");
		/* The same expansion into a used buffer is the same. */
		buf_adds(&b2, "left over");
		if (template_expand(t, &a, &b2, NULL) != argc || b2.len != b.len ||
		    memcmp(b2.data, b.data, b.len) != 0)
			die("expanding twice gave two results");
		/*
		 * One more value adds at most template_value_cost(), and
		 * exactly that after the first, when every replacement
		 * stands for every value.
		 */
		if (k > 0 && kind == TEMPLATE_COMMAND && !single) {
			cost = template_value_cost(t, vals[k - 1],
			    lens[k - 1]);
			delta = b.len - prev.len;
			if (b.len < prev.len || delta > cost)
				die("a value added more than "
				    "template_value_cost");
			if (k > 1 && !o.xargs && delta != cost)
				die("template_value_cost is not exact");
		}
		buf_reset(&prev);
		buf_add(&prev, b.data, b.len);
	}
	/* The base cost is that of a line with no values, {#} and {%} 0. */
	if (kind == TEMPLATE_COMMAND) {
		(void)template_expand(t, &none, &b, NULL);
		if (template_base_cost(t) != template_line_cost(t, b.len))
			die("template_base_cost is not the empty expansion");
	}
	template_free(t);
out:
	buf_free(&b);
	buf_free(&b2);
	buf_free(&prev);
	free(copy);
	return 0;
}
