/*
 * Replacement strings in the quoting contexts of a real shell line, run by
 * the real shells.  The fuzzer's bytes choose a template from a small
 * grammar of contexts (bare words, '...', "...", $(...), `...` nested to
 * any depth with the backslashes a user would write, ${x:-...} bare and
 * inside "...", a \ before the replacement, comments) and a value.  The
 * template stores what the value becomes in a variable and writes it with
 * printf %s to a file; the grammar knows what that file must hold.  The
 * line template_expand() makes is run by sh, dash, bash and zsh (those
 * installed) in an empty directory: each must exit 0, write exactly the
 * expected bytes, and create nothing else.
 *
 * Input: decision bytes for the grammar (one per choice, read from the
 * front), then after the first 0xff byte the value; a value holding a NUL
 * is refused.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "opts.h"
#include "template.h"
#include "util.h"

#include "fuzz.h"

#define MAXDEPTH	5
#define MAXVALUE	256
#define TIMEOUT_MS	5000

/* Where a piece of the template stands, which decides what may go there. */
enum gctx {
	G_ASSIGN,	/* x=...: not split */
	G_ARG,		/* an argument: split, so nothing unquoted expands */
	G_DQ,		/* inside "..." */
	G_DQWORD,	/* the word of "${x:-...}" */
	G_PWORD		/* the word of ${x:-...}, unquoted */
};

/* The fuzzer's choices, one byte at a time. */
struct choices {
	const uint8_t	*p;
	size_t		 n;
};

/* The template so far and what the value becomes: pre value suf. */
struct piece {
	struct buf	 text;
	struct buf	 pre;
	struct buf	 suf;
};

static const char *const shells[] = {
	"/bin/sh", "/usr/bin/dash", "/usr/bin/bash", "/usr/bin/zsh", NULL
};
static const char	*found[5];
static char		 scratch[] = "/tmp/forkpool-fuzz-contexts.XXXXXX";
static char		 outpath[sizeof(scratch) + 8];

static unsigned int
choose(struct choices *c, unsigned int n)
{
	if (c->n == 0)
		return 0;
	c->n--;
	return *c->p++ % n;
}

static void
piece_free(struct piece *p)
{
	buf_free(&p->text);
	buf_free(&p->pre);
	buf_free(&p->suf);
}

/* Append what a user writes for text inside `...` (XCU 2.6.3). */
static void
add_backquoted(struct buf *b, const struct buf *text, int in_dq)
{
	size_t	 i;

	for (i = 0; i < text->len; i++) {
		if (strchr("\\`$", text->data[i]) != NULL ||
		    (in_dq && text->data[i] == '"'))
			buf_addc(b, '\\');
		buf_addc(b, text->data[i]);
	}
}

/* Generate a piece for context ctx into p. */
static void
gen(struct choices *c, enum gctx ctx, int depth, struct piece *p)
{
	static const char *const repl[] = { "{}", "{1}", "{-1}" };
	struct piece	 in = { 0 };
	unsigned int	 what;
	int		 in_dq = ctx == G_DQ || ctx == G_DQWORD;

	what = depth >= MAXDEPTH ? 0 : choose(c, 8);
	switch (what) {
	case 1:				/* a \ before it */
		buf_adds(&p->text, "\\");
		buf_adds(&p->text, repl[choose(c, 3)]);
		if (in_dq)
			buf_adds(&p->pre, "\\");
		return;
	case 2:				/* '<...>' */
		if (in_dq)
			break;
		buf_adds(&p->text, "'<");
		buf_adds(&p->text, repl[choose(c, 3)]);
		buf_adds(&p->text, ">'");
		buf_adds(&p->pre, "<");
		buf_adds(&p->suf, ">");
		return;
	case 3:				/* "<...>" */
		if (ctx == G_DQ)
			break;
		gen(c, G_DQ, depth + 1, &in);
		buf_adds(&p->text, ctx == G_DQWORD ? "\"" : "\"<");
		buf_add(&p->text, in.text.data, in.text.len);
		buf_adds(&p->text, ctx == G_DQWORD ? "\"" : ">\"");
		buf_adds(&p->pre, ctx == G_DQWORD ? "" : "<");
		buf_add(&p->pre, in.pre.data, in.pre.len);
		buf_add(&p->suf, in.suf.data, in.suf.len);
		buf_adds(&p->suf, ctx == G_DQWORD ? "" : ">");
		piece_free(&in);
		return;
	case 4:				/* $(printf %s. ...) */
	case 5:				/* `printf %s. ...` */
		if (ctx == G_ARG || ctx == G_PWORD)
			break;
		/*
		 * `...` inside "${x:-...}": how a \" in it is read is not
		 * specified, and bash reads it otherwise than dash, whatever
		 * the value.
		 */
		if (what == 5 && ctx == G_DQWORD)
			break;
		gen(c, G_ARG, depth + 1, &in);
		if (what == 4) {
			buf_adds(&p->text, "$(printf %s. ");
			buf_add(&p->text, in.text.data, in.text.len);
			buf_adds(&p->text, ")");
		} else {
			buf_adds(&p->text, "`printf %s. ");
			add_backquoted(&p->text, &in.text, in_dq);
			buf_adds(&p->text, "`");
		}
		buf_add(&p->pre, in.pre.data, in.pre.len);
		buf_add(&p->suf, in.suf.data, in.suf.len);
		buf_adds(&p->suf, ".");
		piece_free(&in);
		return;
	case 6:				/* ${fp_unset:-...} */
		if (ctx == G_DQWORD || ctx == G_PWORD)
			break;
		gen(c, in_dq ? G_DQWORD : G_PWORD, depth + 1, &in);
		buf_adds(&p->text, "${fp_unset:-");
		buf_add(&p->text, in.text.data, in.text.len);
		buf_adds(&p->text, "}");
		buf_add(&p->pre, in.pre.data, in.pre.len);
		buf_add(&p->suf, in.suf.data, in.suf.len);
		piece_free(&in);
		return;
	case 7:				/* $(case ...) holding it */
		if (ctx == G_ARG || ctx == G_PWORD)
			break;
		gen(c, G_ARG, depth + 1, &in);
		buf_adds(&p->text, "$(case x in (x) printf %s. ");
		buf_add(&p->text, in.text.data, in.text.len);
		buf_adds(&p->text, ";; y) ;; esac)");
		buf_add(&p->pre, in.pre.data, in.pre.len);
		buf_add(&p->suf, in.suf.data, in.suf.len);
		buf_adds(&p->suf, ".");
		piece_free(&in);
		return;
	default:
		break;
	}
	buf_adds(&p->text, repl[choose(c, 3)]);
}

/* Run sh -c line in the scratch directory; its exit status, or -1. */
static int
run(const char *sh, const char *line)
{
	static char	*envp[] = { (char *)"PATH=/usr/bin:/bin",
	    (char *)"LC_ALL=C", NULL };
	struct timespec	 ms = { 0, 1000000 };
	pid_t		 pid;
	int		 status, fd, waited;

	if ((pid = fork()) == -1)
		fuzz_fail("fuzz_contexts", "fork: %s", strerror(errno));
	if (pid == 0) {
		if (chdir(scratch) == -1 ||
		    (fd = open("/dev/null", O_RDWR)) == -1)
			_exit(126);
		(void)dup2(fd, 0);
		(void)dup2(fd, 1);
		(void)dup2(fd, 2);
		execle(sh, sh, "-c", line, (char *)NULL, envp);
		_exit(127);
	}
	for (waited = 0; waited < TIMEOUT_MS; waited++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		nanosleep(&ms, NULL);
	}
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &status, 0);
	return -1;
}

/* Read the output file into b and empty the scratch directory. */
static int
collect(struct buf *b)
{
	DIR		*d;
	struct dirent	*e;
	char		 chunk[4096], path[sizeof(scratch) + 300];
	ssize_t		 r;
	int		 fd, others = 0;

	buf_reset(b);
	buf_add(b, "", 0);
	if ((fd = open(outpath, O_RDONLY)) != -1) {
		while ((r = read(fd, chunk, sizeof(chunk))) > 0)
			buf_add(b, chunk, (size_t)r);
		close(fd);
	}
	if ((d = opendir(scratch)) == NULL)
		fuzz_fail("fuzz_contexts", "%s: %s", scratch, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (strcmp(e->d_name, "out") != 0)
			others = 1;
		(void)snprintf(path, sizeof(path), "%s/%s", scratch, e->d_name);
		(void)unlink(path);
	}
	closedir(d);
	return others;
}

/* Remove the scratch directory when the fuzzer exits. */
static void
cleanup(void)
{
	struct buf	 b = { 0 };

	(void)collect(&b);
	buf_free(&b);
	(void)rmdir(scratch);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct buf	 b = { 0 };
	size_t		 i, n = 0;

	(void)argc;
	(void)argv;
	fuzz_report_init();
	if (mkdtemp(scratch) == NULL)
		fuzz_fail("fuzz_contexts", "mkdtemp: %s", strerror(errno));
	(void)snprintf(outpath, sizeof(outpath), "%s/out", scratch);
	atexit(cleanup);
	/* A shell that cannot even write a file would let anything pass. */
	for (i = 0; shells[i] != NULL; i++) {
		if (access(shells[i], X_OK) != 0)
			continue;
		if (run(shells[i], "printf %s ok >out") != 0 ||
		    collect(&b) != 0 || b.len != 2 ||
		    memcmp(b.data, "ok", 2) != 0)
			fuzz_fail("fuzz_contexts", "%s does not run", shells[i]);
		found[n++] = shells[i];
	}
	buf_free(&b);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct choices		 c;
	struct piece		 p = { 0 };
	struct buf		 line = { 0 }, want = { 0 }, got = { 0 };
	struct opts		 o;
	struct template		*t;
	struct template_args	 a = { 0 };
	const uint8_t		*sep;
	char			*words[1], *val;
	size_t			 vlen, i;
	int			 status, others;

	if ((sep = memchr(data, 0xff, size)) == NULL)
		return -1;
	vlen = size - (size_t)(sep + 1 - data);
	if (vlen > MAXVALUE || memchr(sep + 1, '\0', vlen) != NULL)
		return -1;
	val = xmalloc(vlen + 1);
	memcpy(val, sep + 1, vlen);
	val[vlen] = '\0';
	c.p = data;
	c.n = (size_t)(sep - data);

	/* [: "{}" '{}' ;] x=PIECE; printf %s "$x" >out [# {}] */
	if (choose(&c, 2))
		buf_adds(&p.text, ": \"{}\" '{}' {} ;");
	buf_adds(&p.text, "x=");
	gen(&c, G_ASSIGN, 0, &p);
	buf_adds(&p.text, "; printf %s \"$x\" >out");
	if (choose(&c, 2))
		buf_adds(&p.text, " # {}");
	buf_add(&want, p.pre.data, p.pre.len);
	buf_add(&want, val, vlen);
	buf_add(&want, p.suf.data, p.suf.len);

	memset(&o, 0, sizeof(o));
	o.replstr = "{}";
	o.exec_mode = EXEC_SHELL;
	o.shell = "/bin/sh";
	words[0] = p.text.data;
	if ((t = template_new(words, 1, TEMPLATE_COMMAND, &o)) == NULL) {
		fuzz_dump("template", p.text.data, p.text.len);
		fuzz_fail("fuzz_contexts", "template_new refused the template");
	}
	a.v = &val;
	a.len = &vlen;
	a.n = 1;
	a.seq = 1;
	a.slot = 1;
	(void)template_expand(t, &a, &line, NULL);

	for (i = 0; found[i] != NULL; i++) {
		status = run(found[i], line.data);
		others = collect(&got);
		if (status != 0 || others || got.len != want.len ||
		    memcmp(got.data, want.data, want.len) != 0) {
			fuzz_dump("template", p.text.data, p.text.len);
			fuzz_dump("value", val, vlen);
			fuzz_dump("line", line.data, line.len);
			fuzz_dump("expected", want.data, want.len);
			fuzz_dump("written", got.data, got.len);
			fuzz_fail("fuzz_contexts", "%s: %s", found[i],
			    status != 0 ? "exit status not 0" : others ?
			    "a file was created" : "the value changed");
		}
	}
	template_free(t);
	piece_free(&p);
	buf_free(&line);
	buf_free(&want);
	buf_free(&got);
	free(val);
	return 0;
}
