#include <sys/resource.h>

#include <err.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "opts.h"
#include "util.h"

/* Long options without a short form get codes above the char range. */
enum {
	OPT_COLSEP = 256,
	OPT_LINK,
	OPT_SHELL,
	OPT_EXEC_MODE,
	OPT_GROUP,
	OPT_LINE_BUFFER,
	OPT_TAG,
	OPT_TAGSTRING,
	OPT_TMPDIR,
	OPT_DRY_RUN
};

static const char short_options[] = "+:a:0d:rI:n:N:Xs:j:kutvhV";

static const struct option long_options[] = {
	{ "arg-file",		required_argument,	NULL, 'a' },
	{ "null",		no_argument,		NULL, '0' },
	{ "delimiter",		required_argument,	NULL, 'd' },
	{ "colsep",		required_argument,	NULL, OPT_COLSEP },
	{ "no-run-if-empty",	no_argument,		NULL, 'r' },
	{ "link",		no_argument,		NULL, OPT_LINK },
	{ "max-args",		required_argument,	NULL, 'n' },
	{ "max-replace-args",	required_argument,	NULL, 'N' },
	{ "xargs",		no_argument,		NULL, 'X' },
	{ "max-chars",		required_argument,	NULL, 's' },
	{ "shell",		required_argument,	NULL, OPT_SHELL },
	{ "exec-mode",		required_argument,	NULL, OPT_EXEC_MODE },
	{ "jobs",		required_argument,	NULL, 'j' },
	{ "group",		no_argument,		NULL, OPT_GROUP },
	{ "keep-order",		no_argument,		NULL, 'k' },
	{ "line-buffer",	no_argument,		NULL, OPT_LINE_BUFFER },
	{ "ungroup",		no_argument,		NULL, 'u' },
	{ "tag",		no_argument,		NULL, OPT_TAG },
	{ "tagstring",		required_argument,	NULL, OPT_TAGSTRING },
	{ "tmpdir",		required_argument,	NULL, OPT_TMPDIR },
	{ "dry-run",		no_argument,		NULL, OPT_DRY_RUN },
	{ "verbose",		no_argument,		NULL, 't' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};

static const char help_text[] =
"usage: forkpool [OPTIONS] [COMMAND [ARG...]] [::: VALUE...] [:::: FILE...]\n"
"Run COMMAND once per input record, several at a time.\n"
"\n"
"Input:\n"
"  -a, --arg-file FILE        read records from FILE ('-' is stdin); repeatable\n"
"  -0, --null                 records end with NUL\n"
"  -d, --delimiter CHAR       records end with CHAR (\\n \\t \\0 \\\\ \\xHH accepted)\n"
"      --colsep REGEX         split records into columns {1}..{n} on REGEX\n"
"  -r, --no-run-if-empty      do not run blank records\n"
"      --link                 pair sources up instead of the cross product\n"
"  ::: VALUE...               values as a source; :::+ links it to the previous\n"
"  :::: FILE...               files as sources; ::::+ links them to the previous\n"
"\n"
"Command:\n"
"  -I STR                     use STR instead of {} as the replacement string\n"
"  -n, --max-args N           up to N records per job, as separate arguments\n"
"  -N, --max-replace-args N   exactly N records per job, as {1}..{N}\n"
"  -X, --xargs                as many records per job as fit the line limit\n"
"  -s, --max-chars MAX        a command line is at most MAX bytes\n"
"      --shell PATH           shell for templates that need one\n"
"      --exec-mode MODE       auto, shell or direct (default auto)\n"
"\n"
"Scheduling:\n"
"  -j, --jobs N               run N jobs at once: N, +N, -N, N% of CPUs, 0 for\n"
"                             as many as limits allow (default: CPUs)\n"
"\n"
"Output:\n"
"      --group                each job's output whole, when it ends (default)\n"
"  -k, --keep-order           print output in input order\n"
"      --line-buffer          print whole lines as they come\n"
"  -u, --ungroup              pass output straight through\n"
"      --tag                  prefix output lines with the arguments and a TAB\n"
"      --tagstring STR        prefix output lines with STR and a TAB\n"
"      --tmpdir DIR           spill held output to DIR (default $TMPDIR, /tmp)\n"
"      --dry-run              print the commands instead of running them\n"
"  -v                         print each command on stdout before its output\n"
"  -t, --verbose              print each command on stderr when it starts\n"
"\n"
"Other:\n"
"  -h, --help                 print this help and exit\n"
"  -V, --version              print the version and exit\n"
"\n"
"Replacement strings: {} {.} {/} {//} {/.} {#} {%} {n} {n.} {n/} {n//} {n/.}\n"
"Exit status: 0 all jobs succeeded, 1-100 that many failed, 101 more than 100\n"
"failed, 141 stdout was closed, 255 other errors.\n";

/* The short usage reminder after a command-line mistake. */
static void
usage(void)
{
	fprintf(stderr, "usage: forkpool [OPTIONS] [COMMAND [ARG...]] "
	    "[::: VALUE...] [:::: FILE...]\n"
	    "Try 'forkpool --help' for more.\n");
}

/* Online CPUs, at least 1. */
static unsigned int
online_cpus(void)
{
	long	 n;

	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : (unsigned int)n;
}

/*
 * The most jobs the limits allow: each running job holds two pipe ends in
 * forkpool, plus two more while it is being started.
 */
static unsigned int
jobs_cap(const char **why)
{
	struct rlimit	 rl;
	rlim_t		 cap = 1 << 16;

	*why = "an internal limit";
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rl.rlim_cur < 24 ? 1 : (rl.rlim_cur - 24) / 2) < cap) {
		cap = rl.rlim_cur < 24 ? 1 : (rl.rlim_cur - 24) / 2;
		*why = "the open files limit";
	}
	if (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < cap) {
		cap = rl.rlim_cur;
		*why = "the process limit";
	}
	return cap < 1 ? 1 : (unsigned int)cap;
}

/* Parse -j's N, +N, -N, N% or 0; 0 on success. */
static int
parse_jobs(const char *arg, unsigned int *jobs)
{
	const char	*errstr = NULL;
	const char	*why;
	char		 num[32];
	size_t		 len = strlen(arg);
	long long	 n, cpus = online_cpus(), cap;

	/* strtonum() would take blanks and a second sign: only digits here. */
	if (len == 0 || len >= sizeof(num) || strspn(arg + (arg[0] == '+' ||
	    arg[0] == '-'), "0123456789%") != len - (arg[0] == '+' ||
	    arg[0] == '-')) {
		warnx("-j %s: invalid", arg);
		return -1;
	}
	if (arg[0] == '+' || arg[0] == '-') {
		n = strtonum(arg + 1, 0, 1 << 20, &errstr);
		if (errstr == NULL)
			n = arg[0] == '+' ? cpus + n : cpus - n;
	} else if (arg[len - 1] == '%') {
		strlcpy(num, arg, len);
		n = strtonum(num, 1, 1 << 20, &errstr);
		if (errstr == NULL)
			n = cpus * n / 100;
	} else
		n = strtonum(arg, 0, 1 << 20, &errstr);
	if (errstr != NULL) {
		warnx("-j %s: %s", arg, errstr);
		return -1;
	}
	cap = jobs_cap(&why);
	if (n == 0 && arg[0] != '-') {
		warnx("-j %s: running at most %lld jobs at once (%s)", arg,
		    cap, why);
		n = cap;
	} else if (n > cap) {
		warnx("-j %s: lowered to %lld jobs at once (%s)", arg, cap,
		    why);
		n = cap;
	}
	*jobs = n < 1 ? 1 : (unsigned int)n;
	return 0;
}

/* Parse a -d argument: one character or one escape; 0 on success. */
static int
parse_delimiter(const char *arg, char *delim)
{
	char		 hex[3];
	const char	*errstr = NULL;
	char		*end;
	long		 v;

	if (arg[0] != '\0' && arg[1] == '\0') {
		*delim = arg[0];
		return 0;
	}
	if (arg[0] == '\\' && arg[1] != '\0' && arg[2] == '\0') {
		switch (arg[1]) {
		case 'n': *delim = '\n'; return 0;
		case 't': *delim = '\t'; return 0;
		case 'r': *delim = '\r'; return 0;
		case '0': *delim = '\0'; return 0;
		case '\\': *delim = '\\'; return 0;
		default: break;
		}
	}
	if (arg[0] == '\\' && arg[1] == 'x' && arg[2] != '\0' &&
	    strlen(arg) <= 4) {
		strlcpy(hex, arg + 2, sizeof(hex));
		v = strtol(hex, &end, 16);
		if (*end == '\0') {
			*delim = (char)v;
			return 0;
		}
		errstr = "invalid hex escape";
	}
	warnx("-d %s: %s", arg, errstr != NULL ? errstr :
	    "must be one character or one of \\n \\t \\r \\0 \\\\ \\xHH");
	return -1;
}

/* Parse a positive count for -n, -N or -s; 0 on success. */
static int
parse_count(int opt, const char *arg, long long max, size_t *out)
{
	const char	*errstr;
	long long	 n;

	n = strtonum(arg, 1, max, &errstr);
	if (errstr != NULL) {
		warnx("-%c %s: %s", opt, arg, errstr);
		return -1;
	}
	*out = (size_t)n;
	return 0;
}

/* Add a source to the option set. */
static struct source_spec *
add_source(struct opts *o, enum source_kind kind, int linked)
{
	struct source_spec	*s;

	o->sources = xreallocarray(o->sources, o->nsources + 1,
	    sizeof(*o->sources));
	s = &o->sources[o->nsources++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->linked = linked;
	return s;
}

/* Which source separator a word is: 0 none, else 3 or 4 colons (+ 10 linked). */
static int
separator_kind(const char *w)
{
	if (strcmp(w, ":::") == 0)
		return 3;
	if (strcmp(w, "::::") == 0)
		return 4;
	if (strcmp(w, ":::+") == 0)
		return 13;
	if (strcmp(w, "::::+") == 0)
		return 14;
	return 0;
}

/* Split the words after the options into the template and the sources. */
static int
parse_operands(struct opts *o, int argc, char **argv)
{
	struct source_spec	*s;
	int			 i, k, kind;

	for (i = 0; i < argc && separator_kind(argv[i]) == 0; i++)
		;
	o->cmd = argv;
	o->ncmd = (size_t)i;
	while (i < argc) {
		kind = separator_kind(argv[i++]);
		if (kind % 10 == 3) {
			s = add_source(o, SOURCE_VALUES, kind > 10);
			s->values = argv + i;
			while (i < argc && separator_kind(argv[i]) == 0)
				i++;
			s->nvalues = (size_t)(argv + i - s->values);
			continue;
		}
		for (k = 0; i < argc && separator_kind(argv[i]) == 0; k++) {
			s = add_source(o, SOURCE_FILE, kind > 10);
			s->path = argv[i++];
		}
		if (k == 0) {
			warnx("%s: expects at least one file", kind > 10 ?
			    "::::+" : "::::");
			return -1;
		}
	}
	if (o->nsources > 0 && o->sources[0].linked) {
		warnx("%s: there is no source before it to link to",
		    o->sources[0].kind == SOURCE_VALUES ? ":::+" : "::::+");
		return -1;
	}
	return 0;
}

/* Parse the command line; see enum opts_result. */
enum opts_result
opts_parse(struct opts *o, int argc, char **argv)
{
	struct source_spec	*s;
	const char		*jobs_arg = NULL;
	size_t			 nfiles = 0, i;
	char			**files;
	int			 ch;

	memset(o, 0, sizeof(*o));
	o->delim = '\n';
	o->replstr = "{}";
	o->exec_mode = EXEC_AUTO;
	o->out_mode = OUT_GROUP;
	files = xcalloc((size_t)argc + 1, sizeof(*files));
	opterr = 0;

	while ((ch = getopt_long(argc, argv, short_options, long_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'a':
			files[nfiles++] = optarg;
			break;
		case '0':
			o->delim = '\0';
			break;
		case 'd':
			if (parse_delimiter(optarg, &o->delim) == -1)
				goto fail;
			break;
		case OPT_COLSEP:
			if (optarg[0] == '\0') {
				warnx("--colsep: the pattern is empty");
				goto fail;
			}
			o->colsep = optarg;
			break;
		case 'r':
			o->no_run_if_empty = 1;
			break;
		case OPT_LINK:
			o->link = 1;
			break;
		case 'I':
			if (optarg[0] == '\0') {
				warnx("-I: the replacement string is empty");
				goto fail;
			}
			o->replstr = optarg;
			break;
		case 'n':
			if (parse_count(ch, optarg, INT_MAX, &o->max_args) == -1)
				goto fail;
			break;
		case 'N':
			if (parse_count(ch, optarg, INT_MAX,
			    &o->max_replace_args) == -1)
				goto fail;
			break;
		case 'X':
			o->xargs = 1;
			break;
		case 's':
			if (parse_count(ch, optarg, INT_MAX, &o->max_chars) == -1)
				goto fail;
			break;
		case OPT_SHELL:
			if (optarg[0] == '\0') {
				warnx("--shell: the path is empty");
				goto fail;
			}
			o->shell = optarg;
			break;
		case OPT_EXEC_MODE:
			if (strcmp(optarg, "auto") == 0)
				o->exec_mode = EXEC_AUTO;
			else if (strcmp(optarg, "shell") == 0)
				o->exec_mode = EXEC_SHELL;
			else if (strcmp(optarg, "direct") == 0)
				o->exec_mode = EXEC_DIRECT;
			else {
				warnx("--exec-mode %s: must be auto, shell or "
				    "direct", optarg);
				goto fail;
			}
			break;
		case 'j':
			jobs_arg = optarg;
			break;
		case OPT_GROUP:
			o->out_mode = OUT_GROUP;
			break;
		case 'k':
			o->keep_order = 1;
			break;
		case OPT_LINE_BUFFER:
			o->out_mode = OUT_LINE;
			break;
		case 'u':
			o->out_mode = OUT_UNGROUP;
			break;
		case OPT_TAG:
			o->tag = 1;
			break;
		case OPT_TAGSTRING:
			o->tagstring = optarg;
			break;
		case OPT_TMPDIR:
			o->tmpdir = optarg;
			break;
		case OPT_DRY_RUN:
			o->dry_run = 1;
			break;
		case 'v':
			o->print_stdout = 1;
			break;
		case 't':
			o->print_stderr = 1;
			break;
		case 'h':
			fputs(help_text, stdout);
			free(files);
			return OPTS_EXIT_OK;
		case 'V':
			printf("forkpool %s\n", FORKPOOL_VERSION);
			free(files);
			return OPTS_EXIT_OK;
		case ':':
			warnx("%s: needs an argument", argv[optind - 1]);
			usage();
			goto fail;
		default:
			if (optopt != 0)
				warnx("-%c: unknown option", optopt);
			else
				warnx("%s: unknown option", argv[optind - 1]);
			usage();
			goto fail;
		}
	}

	if (jobs_arg == NULL)
		o->jobs = online_cpus();
	else if (parse_jobs(jobs_arg, &o->jobs) == -1)
		goto fail;
	if (o->max_args != 0 && o->max_replace_args != 0) {
		warnx("-n and -N cannot be used together");
		goto fail;
	}
	if (o->xargs && o->max_replace_args != 0) {
		warnx("-X and -N cannot be used together");
		goto fail;
	}
	if (o->out_mode == OUT_UNGROUP && (o->tag || o->tagstring != NULL)) {
		warnx("%s cannot be used with -u: an ungrouped line has no "
		    "start to tag", o->tag ? "--tag" : "--tagstring");
		goto fail;
	}
	for (i = 0; i < nfiles; i++) {
		s = add_source(o, SOURCE_FILE, 0);
		s->path = files[i];
	}
	free(files);
	files = NULL;
	if (parse_operands(o, argc - optind, argv + optind) == -1)
		goto fail;
	return OPTS_RUN;
fail:
	free(files);
	opts_free(o);
	return OPTS_ERROR;
}

/* Release what opts_parse() allocated. */
void
opts_free(struct opts *o)
{
	free(o->sources);
	o->sources = NULL;
	o->nsources = 0;
}
