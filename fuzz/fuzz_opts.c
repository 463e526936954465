/*
 * The option parser: the fuzz input split at NUL bytes into argv words,
 * then opts_parse() and, as main() does, opts_free() after OPTS_RUN and
 * nothing after OPTS_ERROR or OPTS_EXIT_OK, so either of those must leave
 * nothing allocated.  It must not crash, leak or hang; what it accepts
 * must hold together, and its command must make a template.
 *
 * Messages are caught in a memfd: a command line of printable words must
 * get printable messages, each a line of its own.
 *
 * getopt_long() keeps state between calls: optind = 0 makes GNU getopt
 * start afresh, as a new process would.
 */
#include <sys/mman.h>

#include <sanitizer/common_interface_defs.h>

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "template.h"
#include "util.h"

#include "fuzz.h"

#define NAME		"fuzz_opts"
#define MAXWORDS	128

static int	msgfd = -1;	/* where stderr goes during opts_parse() */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_report_init();
	/* Sanitizer reports must not end up in the message memfd. */
	__sanitizer_set_report_fd((void *)(intptr_t)fileno(fuzz_report));
	if ((msgfd = memfd_create("messages", 0)) == -1)
		fuzz_fail(NAME, "memfd_create: %s", strerror(errno));
	/* $SHELL decides the shell a template picks: keep runs alike. */
	setenv("SHELL", "/bin/sh", 1);
	unsetenv("FORKPOOL_SHELL");
	return 0;
}

/* Whether p[0..n) lies within argv's words. */
static int
in_argv(char **argv, int argc, char **p, size_t n)
{
	return p >= argv && p + n <= argv + argc;
}

/* What an accepted command line must look like. */
static void
check_opts(const struct opts *o, char **argv, int argc)
{
	size_t	 i;

	if (o->jobs < 1)
		fuzz_fail(NAME, "-j resolved to 0 jobs");
	if (o->retries < 1)
		fuzz_fail(NAME, "--retries below 1");
	if (o->termseq == NULL || o->ntermseq == 0)
		fuzz_fail(NAME, "no termination sequence");
	for (i = 0; i < o->ntermseq; i++)
		if (o->termseq[i].sig < 1 || o->termseq[i].ms < 0)
			fuzz_fail(NAME, "--termseq step %zu: signal %d, %d ms",
			    i, o->termseq[i].sig, o->termseq[i].ms);
	if (o->replstr == NULL || o->replstr[0] == '\0')
		fuzz_fail(NAME, "an empty replacement string");
	if (o->max_args != 0 && o->max_replace_args != 0)
		fuzz_fail(NAME, "-n and -N together");
	if (o->timeout_ms < 0 || o->delay_ms < 0)
		fuzz_fail(NAME, "a negative --timeout or --delay");
	if (o->halt.when != HALT_NEVER && o->halt.n == 0)
		fuzz_fail(NAME, "--halt with N = 0");
	if (o->halt.pct && o->halt.n > 100)
		fuzz_fail(NAME, "--halt over 100%%");
	if (o->resume != RESUME_NONE && o->joblog == NULL)
		fuzz_fail(NAME, "--resume without --joblog");
	if (o->joblog != NULL && o->joblog[0] == '\0')
		fuzz_fail(NAME, "an empty --joblog name");
	if (!in_argv(argv, argc, o->cmd, o->ncmd))
		fuzz_fail(NAME, "the command is not within argv");
	for (i = 0; i < o->nsources; i++) {
		if (i == 0 && o->sources[i].linked)
			fuzz_fail(NAME, "the first source is linked");
		if (o->sources[i].kind == SOURCE_FILE &&
		    o->sources[i].path == NULL)
			fuzz_fail(NAME, "source %zu has no path", i);
		if (o->sources[i].kind == SOURCE_VALUES &&
		    !in_argv(argv, argc, o->sources[i].values,
		    o->sources[i].nvalues))
			fuzz_fail(NAME, "source %zu is not within argv", i);
	}
}

/*
 * Whether the message template_new() printed says it refused a
 * replacement in a context no quoting makes safe (a here-document,
 * $'...', ${...}), a position out of range, a {= perl =}, a string
 * naming remote hosts, a --plus pattern PCRE2 does not take, or a {name}
 * with --colsep or --csv but no --header: a template may fail for that
 * alone.
 */
static int
refused(void)
{
	char	 msg[4096];
	ssize_t	 n;

	if ((n = pread(msgfd, msg, sizeof(msg) - 1, 0)) < 0)
		fuzz_fail(NAME, "pread: %s", strerror(errno));
	msg[n] = '\0';
	return strstr(msg, ": cannot quote ") != NULL ||
	    strstr(msg, ": out of range: ") != NULL ||
	    strstr(msg, ": Perl expressions are not supported") != NULL ||
	    strstr(msg, ": not supported: ") != NULL ||
	    strstr(msg, ": bad pattern ") != NULL ||
	    strstr(msg, ": column names need --header") != NULL;
}

/* Make the templates main() would make, and expand them once. */
static void
check_templates(const struct opts *o)
{
	static char		*vals[] = { (char *)"a b", (char *)"d/f.x" };
	static const size_t	 lens[] = { 3, 5 };
	struct template_args	 a = { vals, lens, 2, 1, 1, 2 };
	struct template		*t;
	struct buf		 b = { 0 };
	char			*tagwords[1];

	t = template_new(o->cmd, o->ncmd, TEMPLATE_COMMAND, o);
	if (t != NULL) {
		(void)template_expand(t, &a, &b, NULL);
		(void)template_base_cost(t);
		template_free(t);
	} else if (o->exec_mode != EXEC_DIRECT && !refused())
		fuzz_fail(NAME, "template_new failed outside --exec-mode "
		    "direct, and not for a context it cannot quote");
	if (o->tagstring != NULL) {
		tagwords[0] = (char *)o->tagstring;
		if ((t = template_new(tagwords, 1, TEMPLATE_TEXT, o)) == NULL)
			fuzz_fail(NAME, "--tagstring made no template");
		(void)template_expand(t, &a, &b, NULL);
		template_free(t);
	}
	buf_free(&b);
}

/* Check what opts_parse() printed on stderr. */
static void
check_messages(int printable)
{
	char	 msg[4096];
	ssize_t	 n, i;

	n = pread(msgfd, msg, sizeof(msg), 0);
	if (n < 0)
		fuzz_fail(NAME, "pread: %s", strerror(errno));
	if (n > 0 && msg[n - 1] != '\n' && n < (ssize_t)sizeof(msg))
		fuzz_fail(NAME, "a message without its newline");
	for (i = 0; printable && i < n; i++)
		if (msg[i] != '\n' && (msg[i] < 0x20 || msg[i] > 0x7e)) {
			fuzz_dump("message", msg, (size_t)n);
			fuzz_fail(NAME, "an unprintable message for printable "
			    "words");
		}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct opts	 o;
	char		*copy, **argv;
	size_t		 i;
	int		 argc = 1, saved, printable = 1;

	/* Every word its own allocation, so a read past one is caught. */
	argv = xcalloc(MAXWORDS + 2, sizeof(*argv));
	argv[0] = xstrdup("forkpool");
	copy = xmalloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (i = 0; i <= size && argc <= MAXWORDS; i++) {
		argv[argc++] = xstrdup(copy + i);
		i += strlen(copy + i);
	}
	for (i = 0; i < size; i++)
		if (copy[i] != '\0' && (copy[i] < 0x20 || copy[i] > 0x7e))
			printable = 0;
	free(copy);

	/* Empty the memfd and write from its start: fd 2 shares the offset. */
	if (ftruncate(msgfd, 0) == -1 || lseek(msgfd, 0, SEEK_SET) == -1 ||
	    (saved = dup(STDERR_FILENO)) == -1 ||
	    dup2(msgfd, STDERR_FILENO) == -1)
		fuzz_fail(NAME, "redirecting stderr: %s", strerror(errno));
	optind = 0;
	switch (opts_parse(&o, argc, argv)) {
	case OPTS_RUN:
		/* The templates' messages go to the memfd as well. */
		check_opts(&o, argv, argc);
		check_templates(&o);
		dup2(saved, STDERR_FILENO);
		check_messages(printable);
		opts_free(&o);
		break;
	case OPTS_EXIT_OK:
	case OPTS_ERROR:
		dup2(saved, STDERR_FILENO);
		check_messages(printable);
		break;
	}
	close(saved);
	for (i = 0; i < (size_t)argc; i++)
		free(argv[i]);
	free(argv);
	return 0;
}
