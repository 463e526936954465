#include <sys/resource.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH	8
#include <pcre2.h>

#include "compat.h"
#include "cpu.h"
#include "opts.h"
#include "results.h"
#include "sem.h"
#include "util.h"

static const char help_text[] =
"usage: forkpool [OPTIONS] [COMMAND [ARG...]] [::: VALUE...] [:::: FILE...]\n"
"Run COMMAND once per input record, several at a time.\n"
"\n"
"Input:\n"
"  -a, --arg-file FILE        read records from FILE ('-' is stdin); repeatable\n"
"  -0, --null                 records end with NUL\n"
"  -d, --delimiter CHAR       records end with CHAR (\\n \\t \\0 \\\\ \\xHH accepted)\n"
"      --colsep REGEX         split records into columns {1}..{n} on REGEX\n"
"                             (Perl's syntax; implies --trim rl)\n"
"      --trim n|l|r|lr|rl     strip blanks off the left, right or both ends of\n"
"                             every value or column (default n)\n"
"      --header :|N|REGEX     the first line (:), N lines or what REGEX matches\n"
"                             is a header: its columns name {name} (--colsep\n"
"                             defaults to TAB)\n"
"      --csv                  records are CSV (RFC 4180); --colsep CHAR sets the\n"
"                             separator (default ,)\n"
"  -r, --no-run-if-empty      do not run blank records\n"
"      --link                 pair sources up instead of the cross product\n"
"      --shuf                 run the jobs in a random order (reads all input\n"
"                             first; {#} and -k follow the order run)\n"
"      --partition K/N[,rr]   run only share K of N of the records (by hash,\n"
"                             or round-robin with rr)\n"
"  ::: VALUE...               values as a source; :::+ links it to the previous\n"
"  :::: FILE...               files as sources; ::::+ links them to the previous\n"
"      --arg-sep STR          STR instead of ::: (and STR+ instead of :::+)\n"
"      --arg-file-sep STR     STR instead of :::: (and STR+ instead of ::::+)\n"
"  -E EOF                     the input ends at a record equal to EOF\n"
"  -e, --eof[=EOF]            -E EOF; without EOF, no end string\n"
"\n"
"Command:\n"
"  -I STR                     use STR instead of {} as the replacement string\n"
"  -i, --replace[=STR]        -I STR, or -I {} without STR\n"
"      --plus                 more replacement strings, as GNU parallel's --plus\n"
"  -n, --max-args N           up to N records per job, as separate arguments\n"
"  -N, --max-replace-args N   N records per job (fewer if they do not fit),\n"
"                             as {1}..{N}; the word around {} is repeated\n"
"  -X                         as many records per job as fit the line limit,\n"
"                             the word around {} repeated for each\n"
"  -m                         as many records per job as fit, {} is all of them\n"
"      --xargs                -m, but the last records are not spread over slots\n"
"  -L N                       N non-blank lines per job, as -N; a line ending\n"
"                             in a blank goes on on the next\n"
"  -l, --max-lines[=N]        -L N, -L 1 without N\n"
"  -s, --max-chars MAX        a command line is at most MAX bytes\n"
"  -x, --exit                 stop if -s leaves a job fewer records than -n,\n"
"                             -N or -L give it (exit 255)\n"
"      --max-line-length-allowed\n"
"                             print the most bytes -s may be and exit\n"
"      --shell PATH           shell for templates that need one\n"
"      --exec-mode MODE       auto, shell or direct (default auto)\n"
"  -q, --quote                run the command's words as they are, never joined\n"
"                             into a shell line\n"
"      --workdir DIR          run the jobs in DIR; ... is a private temporary\n"
"                             directory, removed at the end; on remote hosts\n"
"                             made if missing, . is the same path under $HOME\n"
"      --env NAME             take variable NAME (a pattern, _: all) to\n"
"                             remote jobs; local jobs get every variable\n"
"      --nice N               run the jobs with N added to forkpool's niceness\n"
"\n"
"Pipe mode:\n"
"      --pipe, --spreadstdin  give each job a block of stdin on its stdin,\n"
"                             instead of values on its command line\n"
"      --pipe-part            --pipe on the blocks of the regular file -a FILE,\n"
"                             spliced to the jobs without being read\n"
"      --block, --block-size SIZE\n"
"                             a block is about SIZE bytes (K M G: 1024, k m g:\n"
"                             1000; default 1M); -N: N blocks per job slot\n"
"      --recend STR           records end with STR (default \\n)\n"
"      --recstart STR         records start with STR (default none)\n"
"      --regexp               --recend and --recstart are Perl regexes\n"
"      --rrs, --remove-rec-sep, --removerecsep\n"
"                             remove the record separators from the blocks\n"
"      --round-robin, --round start -j jobs only and deal the blocks to them\n"
"      --cat                  put each block in a file that {} names\n"
"      --fifo                 feed each block through a named pipe {} names\n"
"  -N, -L N                   with --pipe: N records (lines) per block\n"
"      --header N|:|REGEX     with --pipe: the header starts every block\n"
"\n"
"Scheduling:\n"
"  -j, --jobs N               run N jobs at once: N, +N, -N, N% of CPUs, 0 for\n"
"                             as many as limits allow (default: CPUs)\n"
"\n"
"Workers:\n"
"      --workers              start -j long-lived instances of COMMAND and\n"
"                             write each record to an idle one's stdin; its\n"
"                             answer is one line of stdout (NUL with -0)\n"
"      --max-tasks N          replace a worker after it answered N records\n"
"\n"
"Job control:\n"
"      --timeout SECS|N%      end a job running longer (N% of the median runtime)\n"
"      --termseq SIG,MS,...   how a job is ended (default TERM,200,TERM,100,\n"
"                             TERM,50,KILL,25)\n"
"      --retries N            run a failed job up to N times in all\n"
"      --tty                  give each job the terminal as stdin and foreground\n"
"                             (one job at a time, output not captured)\n"
"  -o, --open-tty             --tty, as xargs -o\n"
"  -p, --interactive          ask on the terminal before each job; run it if\n"
"                             the answer starts with y (one job at a time)\n"
"      --process-slot-var NAME\n"
"                             set NAME to each job's slot, counted from 0\n"
"      --xargs-status         exit as xargs: 123 commands failed, 124 one exited\n"
"                             255, 125 one was killed (both stop the run)\n"
"      --delay SECS           wait at least SECS between job starts\n"
"      --halt WHEN,WHAT=N     stop early: WHEN now|soon, WHAT fail|success|done,\n"
"                             N jobs or N%\n"
"      --load MAX|N%          start no job while the 1-minute load average is\n"
"                             above MAX (N% of the CPUs)\n"
"      --memfree SIZE         start no job while less memory is free (k, M, G)\n"
"      --joblog [+]FILE       log each finished job to FILE (+: append)\n"
"      --resume               skip the jobs already in the joblog\n"
"      --resume-failed        skip the joblog's jobs that succeeded\n"
"      --retry-failed         run only the joblog's failed commands again\n"
"      --junit FILE           write a JUnit XML report of the jobs to FILE\n"
"\n"
"Output:\n"
"      --group                each job's output whole, when it ends (default)\n"
"  -k, --keep-order           print output in input order\n"
"      --no-keep-order        print output as jobs end (the default): undoes -k\n"
"      --line-buffer          print whole lines as they come\n"
"  -u, --ungroup              pass output straight through\n"
"      --output-on-failure    print a job's output only if the job failed\n"
"      --tag                  prefix output lines with the arguments and a TAB\n"
"      --tagstring STR        prefix output lines with STR and a TAB\n"
"      --color[=WHEN]         colour each job's tag or lines: auto (the default\n"
"                             WHEN), always or never\n"
"      --tmpdir DIR           spill held output to DIR (default $TMPDIR, /tmp)\n"
"      --files                save each job's stdout in a file in the --tmpdir\n"
"                             and print the file's name instead\n"
"      --summary              report on the run on stderr at its end: counts,\n"
"                             failed jobs, times, the slowest jobs, peak RSS\n"
"      --results NAME         keep each job's output in directory NAME, or one\n"
"                             row per job in NAME.csv, .tsv or .json; print none\n"
"      --dry-run              print the commands instead of running them\n"
"  -v                         print each command on stdout before its output\n"
"  -t, --verbose              print each command on stderr when it starts\n"
"      --bar                  show a progress bar on stderr, if a terminal\n"
"      --progress             show running and done jobs on stderr, likewise\n"
"      --eta                  show the time and jobs left too; implies --progress\n"
"\n"
"Remote hosts (OpenSSH):\n"
"  -S, --sshlogin [N/][SSHCMD ][USER@]HOST[:PORT][,...]\n"
"                             run the jobs on HOST (N slots; : is this machine)\n"
"      --sshloginfile FILE, --slf FILE\n"
"                             the logins of FILE, one a line\n"
"      --ssh CMD              the ssh command (default $PARALLEL_SSH, or ssh)\n"
"      --no-multiplex         a connection of its own for every job, rather\n"
"                             than one shared per host (-M, --controlmaster)\n"
"      --transferfile FILE, --tf FILE\n"
"                             rsync FILE (a template) to the host before its job\n"
"      --transfer             --transferfile {}\n"
"      --return FILE          rsync FILE (a template) back after the job\n"
"      --cleanup              remove the files sent and returned on the host\n"
"      --trc FILE             --transfer --return FILE --cleanup\n"
"      --basefile FILE, --bf FILE\n"
"                             rsync FILE to each host once, before its jobs\n"
"      --sshdelay SECS        start ssh at most once every SECS (--ssh-delay)\n"
"      --onall                run all the jobs on every host, one at a time\n"
"                             on each, -j hosts at once (default: all)\n"
"      --nonall               run COMMAND once on every host, with no input\n"
"\n"
"Slurm:\n"
"      --slurm                run each job as a job step (srun) of the Slurm\n"
"                             allocation forkpool runs in\n"
"      --slurm-alloc ARGS     ask for an allocation (salloc ARGS) and run each\n"
"                             job as a job step of it\n"
"\n"
"Semaphore (also as forkpool-sem):\n"
"      --semaphore            run COMMAND once, holding one of -j slots (default\n"
"                             1) of a semaphore that forkpool processes share\n"
"      --id NAME              the semaphore (default: the terminal's, or notty)\n"
"      --bg                   return once COMMAND started (the default)\n"
"      --fg                   wait for COMMAND and exit with its status\n"
"      --wait                 wait until no command holds a slot of --id NAME\n"
"      --semaphoretimeout SECS, --st SECS\n"
"                             with no slot after SECS, run COMMAND anyway, or\n"
"                             give up with status 1 if SECS is negative\n"
"      --semaphore-name NAME, --semaphorename NAME\n"
"                             --id NAME\n"
"      --semaphore-timeout SECS\n"
"                             --semaphoretimeout SECS\n"
"\n"
"Aliases, GNU parallel's names:\n"
"  -P, --max-procs N          -j N\n"
"  -C, --col-sep REGEX        --colsep REGEX\n"
"      --argfile FILE         -a FILE\n"
"      --xapply               --link\n"
"      --linebuffer, --lb, --line-buffered\n"
"                             --line-buffer\n"
"      --keeporder            -k\n"
"      --dryrun               --dry-run\n"
"      --halt-on-error WHEN   --halt WHEN\n"
"      --res NAME             --results NAME\n"
"      --wd DIR               --workdir DIR\n"
"      --jl FILE              --joblog FILE\n"
"      --output-as-files      --files\n"
"  A long name written without its hyphens, or with colour for color, is\n"
"  that option too (as in GNU parallel).\n"
"\n"
"Other:\n"
"      --will-cite, --no-notice, --gnu\n"
"                             accepted and ignored, for GNU parallel's scripts\n"
"      --citation, --bibtex   print nothing and exit (GNU parallel's notices)\n"
"      --number-of-threads, --number-of-cores, --number-of-sockets\n"
"                             print how many of these forkpool may use, and\n"
"                             exit; --number-of-cpus is --number-of-cores\n"
"  -h, --help                 print this help and exit\n"
"  -V, --version              print the version and exit\n"
"\n"
"Replacement strings: {} {.} {/} {//} {/.} {#} {%} {n} {n.} {n/} {n//} {n/.}\n"
"and, with --header, {name} {name.} {name/} {name//} {name/.}\n"
"With --plus also: {..} {...} {/..} {/...} {+/} {+.} {+..} {+...} {##} {0#}\n"
"{0%} {slot} {:-STR} {:N} {:N:M} {#RE} {##RE} {%RE} {%%RE} {/RE/STR}\n"
"{/#RE/STR} {/%RE/STR} {//RE/STR} {^RE} {^^RE} {,RE} {,,RE}; n before all but\n"
"the numbers picks the n-th value ({2..}, {-1:-x}).\n"
"Durations (SECS): seconds, or with units s, m, h, d as in 1d2h3m4.5s\n"
"Default options: $FORKPOOL, read before the command line's; an option given\n"
"on the command line drops the variable's options of the same setting\n"
"Exit status: 0 all jobs succeeded, 1-100 that many failed, 101 more than 100\n"
"failed, 126 the program cannot run, 127 it was not found, 141 stdout was\n"
"closed, 255 other errors; with --xargs-status, as xargs (see above).\n";

/* The short usage reminder after a command-line mistake. */
static void
usage(void)
{
	(void)fprintf(stderr, "usage: forkpool [OPTIONS] [COMMAND [ARG...]] "
	    "[::: VALUE...] [:::: FILE...]\n"
	    "Try 'forkpool --help' for more.\n");
}

/*
 * The CPUs that -j and --load count, at least 1: those of the affinity
 * mask, as GNU parallel and nproc(1) count them.
 */
static unsigned int
online_cpus(void)
{
	return cpu_threads();
}

/*
 * The most jobs the limits allow: each running job holds fds pipe ends in
 * forkpool (two, three for a worker's stdin), plus two more while it is
 * being started.  *tight is set to the open files limit when it is so low
 * that even one job may not fit.
 */
static unsigned int
jobs_cap(rlim_t fds, const char **why, long long *tight)
{
	struct rlimit	 rl;
	rlim_t		 cap = 1 << 16;

	*why = "an internal limit";
	*tight = 0;
	/* 0, 1, 2, the signalfd, the input, a spill file and some slack. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rl.rlim_cur < 10 + fds ? 1 : (rl.rlim_cur - 10) / fds) < cap) {
		cap = rl.rlim_cur < 10 + fds ? 1 : (rl.rlim_cur - 10) / fds;
		*why = "the open files limit";
		if (rl.rlim_cur < 10 + fds)
			*tight = (long long)rl.rlim_cur;
	}
	if (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < cap) {
		cap = rl.rlim_cur;
		*why = "the process limit";
		*tight = 0;
	}
	return cap < 1 ? 1 : (unsigned int)cap;
}

/*
 * Parse -j's N, +N, -N, N% or 0; 0 on success.  The slots of a semaphore
 * (sem) take no descriptors and are processes of their own: no limit
 * lowers them, and 0 means no limit at all.  A worker (workers) holds a
 * third pipe end, its stdin.
 */
static int
parse_jobs(const char *arg, int sem, int workers, unsigned int *jobs)
{
	const char	*errstr = NULL;
	const char	*why;
	char		 num[32];
	size_t		 len = strlen(arg);
	long long	 n, cpus = online_cpus(), cap, tight;

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
	if (sem) {
		*jobs = n == 0 && arg[0] != '-' ? UINT_MAX : n < 1 ? 1 :
		    (unsigned int)n;
		return 0;
	}
	cap = jobs_cap(workers ? 3 : 2, &why, &tight);
	if ((n == 0 && arg[0] != '-') || n > cap) {
		/* Not "lowered to 1": whether one fits shows when it starts. */
		if (tight > 0)
			warnx("-j %s: the open files limit (%lld) leaves room "
			    "for one job at most", arg, tight);
		else
			warnx("-j %s: %s %lld job%s at once (%s)", arg,
			    n == 0 ? "running at most" : "lowered to", cap,
			    cap == 1 ? "" : "s", why);
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
		/* Only digits: strtol() would also take a sign or blanks. */
		strlcpy(hex, arg + 2, sizeof(hex));
		if (strspn(hex, "0123456789abcdefABCDEF") == strlen(hex)) {
			*delim = (char)strtol(hex, NULL, 16);
			return 0;
		}
		errstr = "invalid hex escape";
	}
	warnx("-d %s: %s", arg, errstr != NULL ? errstr :
	    "must be one character or one of \\n \\t \\r \\0 \\\\ \\xHH");
	return -1;
}

/* Parse a count from 1 to max for opt (-s, --retries); 0 on success. */
static int
parse_count(const char *opt, const char *arg, long long max, size_t *out)
{
	const char	*errstr;
	long long	 n;

	n = strtonum(arg, 1, max, &errstr);
	if (errstr != NULL) {
		warnx("%s %s: %s", opt, arg, errstr);
		return -1;
	}
	*out = (size_t)n;
	return 0;
}

/* The longest --timeout or --delay, in seconds: about 31 years. */
#define DURATION_MAX	1000000000LL

/*
 * Parse a duration for opt: seconds, with a fraction or units as in
 * 1d2h3m4.5s (util.h), into ms; with a leading '-' (negative set) the
 * result is negative.  A duration above 0 is at least 1 ms, as GNU
 * parallel takes --timeout 0.0001 too.  0 on success.
 */
static int
parse_duration(const char *opt, const char *arg, int negative,
    long long *ms)
{
	const char	*errstr, *s = arg + (negative && arg[0] == '-');

	*ms = duration_ms(s, DURATION_MAX, &errstr);
	if (errstr == NULL) {
		/* Units are letters: any nonzero digit means above 0. */
		if (*ms == 0 && strpbrk(s, "123456789") != NULL)
			*ms = 1;
		if (s != arg)
			*ms = -*ms;
		return 0;
	}
	if (strcmp(errstr, "too large") == 0)
		warnx("%s %s: %s (%lld seconds at most)", opt, arg, errstr,
		    DURATION_MAX);
	else
		warnx("%s %s: %s", opt, arg, errstr);
	return -1;
}

/* Parse --timeout SECS or N%; 0 on success. */
static int
parse_timeout(struct opts *o, const char *arg)
{
	const char	*errstr;
	char		 num[32];
	size_t		 len = strlen(arg);

	if (len > 1 && arg[len - 1] == '%' && len < sizeof(num)) {
		strlcpy(num, arg, len);
		o->timeout_pct = (unsigned int)strtonum(num, 1, 100000, &errstr);
		if (errstr != NULL) {
			warnx("--timeout %s: %s", arg, errstr);
			return -1;
		}
		o->timeout_ms = 0;
		return 0;
	}
	o->timeout_pct = 0;
	if (parse_duration("--timeout", arg, 0, &o->timeout_ms) == -1)
		return -1;
	if (o->timeout_ms == 0) {
		warnx("--timeout %s: must be more than 0", arg);
		return -1;
	}
	return 0;
}

/* A signal by name (TERM, SIGTERM) or number; -1 if unknown. */
static int
signal_number(const char *s)
{
	static const struct { const char *name; int sig; } names[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
		{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
		{ "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "CONT", SIGCONT },
		{ "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "ABRT", SIGABRT },
		{ "PIPE", SIGPIPE }
	};
	const char	*errstr;
	size_t		 i;
	int		 n;

	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].sig;
	n = (int)strtonum(s, 1, NSIG - 1, &errstr);
	return errstr == NULL ? n : -1;
}

/* Parse --termseq SIG,MS,SIG,MS,...; 0 on success. */
static int
parse_termseq(struct opts *o, const char *arg)
{
	struct term_step	*steps = NULL;
	const char		*errstr;
	char			*copy, *p, *tok;
	size_t			 n = 0;
	int			 sig, ms, want_sig = 1;

	copy = xstrdup(arg);
	for (p = copy; (tok = strsep(&p, ",")) != NULL;) {
		if (want_sig) {
			if ((sig = signal_number(tok)) == -1) {
				warnx("--termseq %s: %s: not a signal", arg,
				    tok);
				goto fail;
			}
			steps = xreallocarray(steps, n + 1, sizeof(*steps));
			steps[n].sig = sig;
			steps[n++].ms = 0;
		} else {
			ms = (int)strtonum(tok, 0, 3600 * 1000, &errstr);
			if (errstr != NULL) {
				warnx("--termseq %s: %s: milliseconds %s", arg,
				    tok, errstr);
				goto fail;
			}
			steps[n - 1].ms = ms;
		}
		want_sig = !want_sig;
	}
	if (n == 0) {
		warnx("--termseq %s: no signal", arg);
		goto fail;
	}
	free(copy);
	free(o->termseq);
	o->termseq = steps;
	o->ntermseq = n;
	return 0;
fail:
	free(copy);
	free(steps);
	return -1;
}

/* Parse --halt; 0 on success.  0, 1 and 2 are GNU parallel's old forms. */
static int
parse_halt(struct halt *h, const char *arg)
{
	const char	*errstr, *eq, *what;
	char		 num[32];
	size_t		 len;

	memset(h, 0, sizeof(*h));
	if (strcmp(arg, "never") == 0 || strcmp(arg, "0") == 0)
		return 0;
	if (strcmp(arg, "1") == 0 || strcmp(arg, "2") == 0) {
		h->when = arg[0] == '1' ? HALT_SOON : HALT_NOW;
		h->what = HALT_FAIL;
		h->n = 1;
		return 0;
	}
	if (strncmp(arg, "now,", 4) == 0)
		h->when = HALT_NOW;
	else if (strncmp(arg, "soon,", 5) == 0)
		h->when = HALT_SOON;
	else
		goto bad;
	what = strchr(arg, ',') + 1;
	if ((eq = strchr(what, '=')) == NULL)
		goto bad;
	len = (size_t)(eq - what);
	if (len == 4 && strncmp(what, "fail", 4) == 0)
		h->what = HALT_FAIL;
	else if (len == 7 && strncmp(what, "success", 7) == 0)
		h->what = HALT_SUCCESS;
	else if (len == 4 && strncmp(what, "done", 4) == 0)
		h->what = HALT_DONE;
	else
		goto bad;
	len = strlen(eq + 1);
	if (len == 0 || len >= sizeof(num))
		goto bad;
	strlcpy(num, eq + 1, sizeof(num));
	if (num[len - 1] == '%') {
		num[len - 1] = '\0';
		h->pct = 1;
	}
	h->n = (unsigned long long)strtonum(num, 1, h->pct ? 100 :
	    LLONG_MAX, &errstr);
	if (errstr != NULL) {
		warnx("--halt %s: %s %s", arg, eq + 1, errstr);
		return -1;
	}
	return 0;
bad:
	warnx("--halt %s: must be now|soon,fail|success|done=N or N%%", arg);
	return -1;
}

/* Parse --memfree SIZE with an optional k, M, G or T suffix; 0 on success. */
static int
parse_size(const char *opt, const char *arg, unsigned long long *bytes)
{
	char		*end;
	double		 v;
	const char	*units = "kmgt";
	const char	*u;
	size_t		 n;

	v = strtod(arg, &end);
	if (end == arg || !(v >= 0))
		goto bad;
	if (*end != '\0') {
		if (end[1] != '\0' || (u = strchr(units,
		    (char)(*end | 0x20))) == NULL)
			goto bad;
		/* k is 1024 once; no pointer before units (C11 6.5.6). */
		for (n = (size_t)(u - units) + 1; n > 0; n--)
			v *= 1024;
	}
	if (v > 1e18)
		goto bad;
	*bytes = (unsigned long long)v;
	return 0;
bad:
	warnx("%s %s: must be a size such as 512M or 2G", opt, arg);
	return -1;
}

/* A word an option takes, and what it means. */
struct keyword {
	const char	*name;
	int		 value;
};

/*
 * The value of the word arg in list (ended by a NULL name); -1 after a
 * message naming opt, arg and the words allowed.
 */
static int
keyword(const char *opt, const char *arg, const struct keyword *list)
{
	const struct keyword	*k;
	struct buf		 words = { 0 };

	for (k = list; k->name != NULL; k++)
		if (strcmp(arg, k->name) == 0)
			return k->value;
	for (k = list; k->name != NULL; k++) {
		if (k != list)
			buf_adds(&words, k[1].name == NULL ? " or " : ", ");
		buf_adds(&words, k->name);
	}
	warnx("%s %s: must be %s", opt, arg, words.data);
	buf_free(&words);
	return -1;
}

/* Parse --trim n|l|r|lr|rl; 0 on success. */
static int
parse_trim(const char *arg, enum trim *t)
{
	static const struct keyword	 words[] = {
		{ "n", TRIM_NONE }, { "l", TRIM_LEFT }, { "r", TRIM_RIGHT },
		{ "lr", TRIM_BOTH }, { "rl", TRIM_BOTH }, { NULL, 0 }
	};
	int				 v;

	if ((v = keyword("--trim", arg, words)) == -1)
		return -1;
	*t = (enum trim)v;
	return 0;
}

/*
 * A number of --partition: plain decimal digits only, where strtonum()
 * alone would take blanks and a sign before them too.
 */
static long long
partition_number(const char *s, long long min, const char **errstr)
{
	if (*s == '\0' || s[strspn(s, "0123456789")] != '\0') {
		*errstr = "invalid";
		return 0;
	}
	return strtonum(s, min, LLONG_MAX, errstr);
}

/*
 * Parse --partition K/N or K/N,rr; 0 on success.  Usage errors name the
 * option and the value, as every other one here.
 */
static int
parse_partition(struct opts *o, const char *arg)
{
	const char	*errstr, *what = "K";
	char		*copy, *n, *mode;
	long long	 k = 0, total = 0;

	copy = xstrdup(arg);
	if ((mode = strchr(copy, ',')) != NULL)
		*mode++ = '\0';
	if ((n = strchr(copy, '/')) == NULL || (mode != NULL &&
	    strcmp(mode, "rr") != 0)) {
		warnx("--partition %s: must be K/N or K/N,rr", arg);
		free(copy);
		return -1;
	}
	*n++ = '\0';
	k = partition_number(copy, 0, &errstr);
	if (errstr == NULL) {
		what = "N";
		total = partition_number(n, 1, &errstr);
	}
	free(copy);
	if (errstr != NULL) {
		warnx("--partition %s: %s is %s", arg, what, errstr);
		return -1;
	}
	if (k < 1 || k > total) {
		warnx("--partition %s: K must be from 1 to N", arg);
		return -1;
	}
	o->part_k = (unsigned long long)k;
	o->part_n = (unsigned long long)total;
	o->part_rr = mode != NULL;
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

/*
 * Which source separator a word is: 0 none, 3 values (:::), 4 files
 * (::::), plus 10 when linked (a + after it).
 */
static int
separator_kind(const struct opts *o, const char *w)
{
	size_t	 len = strlen(w);

	if (strcmp(w, o->arg_sep) == 0)
		return 3;
	if (strcmp(w, o->arg_file_sep) == 0)
		return 4;
	if (len == 0 || w[len - 1] != '+')
		return 0;
	if (strncmp(w, o->arg_sep, len - 1) == 0 && o->arg_sep[len - 1] ==
	    '\0')
		return 13;
	if (strncmp(w, o->arg_file_sep, len - 1) == 0 &&
	    o->arg_file_sep[len - 1] == '\0')
		return 14;
	return 0;
}

/* Split the words after the options into the template and the sources. */
static int
parse_operands(struct opts *o, int argc, char **argv)
{
	struct source_spec	*s;
	int			 i, k, kind;

	if (strcmp(o->arg_sep, o->arg_file_sep) == 0) {
		warnx("--arg-sep and --arg-file-sep are both %s, so values and "
		    "files could not be told apart", o->arg_sep);
		return -1;
	}
	for (i = 0; i < argc && separator_kind(o, argv[i]) == 0; i++)
		;
	o->cmd = argv;
	o->ncmd = (size_t)i;
	/*
	 * A lone ::: or :::: with nothing after it names no source: the
	 * input is stdin (or -a's), as in GNU parallel.
	 */
	if (i == argc - 1 && separator_kind(o, argv[i]) < 10)
		return 0;
	while (i < argc) {
		kind = separator_kind(o, argv[i++]);
		if (kind % 10 == 3) {
			s = add_source(o, SOURCE_VALUES, kind > 10);
			s->values = argv + i;
			while (i < argc && separator_kind(o, argv[i]) == 0)
				i++;
			s->nvalues = (size_t)(argv + i - s->values);
			continue;
		}
		for (k = 0; i < argc && separator_kind(o, argv[i]) == 0; k++) {
			s = add_source(o, SOURCE_FILE, kind > 10);
			s->path = argv[i++];
		}
		if (k == 0) {
			warnx("%s%s: expects at least one file",
			    o->arg_file_sep, kind > 10 ? "+" : "");
			return -1;
		}
	}
	if (o->nsources > 0 && o->sources[0].linked) {
		warnx("%s+: there is no source before it to link to",
		    o->sources[0].kind == SOURCE_VALUES ? o->arg_sep :
		    o->arg_file_sep);
		return -1;
	}
	return 0;
}

/*
 * For the options that need the jobs' output to pass through forkpool:
 * why -u is refused, and the output modes that lift --tty's -u.
 */
#define NOT_SEEN	"the jobs' output would not pass through forkpool"
#define HELD_MODES	"--group or --line-buffer"

/* What --semaphore, --bg, --fg and --wait set. */
enum { SEM_ON, SEM_BG, SEM_FG, SEM_WAIT };

/* What opts_parse() keeps while it reads the options. */
struct parse_state {
	struct opts		*o;
	const char		**files;	/* -a FILEs, into argv */
	size_t			 nfiles;
	const char		*jobs_arg;	/* -j as given, or NULL */
	const char		*block_arg;	/* --block as given, or NULL */
	int			 trim_given;
	int			 out_given;	/* --group, --line-buffer, -u */
	char			 out_label[40];	/* that option, as given */
	int			 value;		/* the current entry's value */
	const char		*long_name;	/* the current option's long
						   name when that was given */
	char			 label[40];	/* the current option, for
						   messages */
	int			 in_env;	/* reading $FORKPOOL's words */
	int			 argc;		/* the words being read */
	char			**argv;
	const struct optdef	*not_sem;	/* the first option given that
						   --semaphore has no use for */
	unsigned char		*origin;	/* per setting_of(): where it was
						   last given, an enum origin */
	int			*moved;		/* owned: the words respell()
						   replaced in argv, */
	char			**moved_from;	/* owned: and what they were */
	size_t			 nmoved;
};

/* Where a setting was given. */
enum origin {
	ORIGIN_NONE,
	ORIGIN_ENV,		/* in $FORKPOOL */
	ORIGIN_CMD		/* on the command line */
};

/* What an entry of the option table does with its option. */
enum opt_kind {
	KIND_FLAG,		/* an int field is set to 1 */
	KIND_STRING,		/* a const char * field gets the argument */
	KIND_COUNT,		/* a size_t field gets a number from 1 to max */
	KIND_HANDLER		/* the entry's handler decides */
};

/* One option: its names, whether it takes an argument and what it does. */
struct optdef {
	const char	*name;		/* long name, or NULL */
	int		 letter;	/* short letter, or 0 */
	int		 has_arg;	/* no_argument, required_argument or
					   (long only) optional_argument */
	enum opt_kind	 kind;
	int		 value;		/* handed to the handler */
	size_t		 field;		/* offset in struct opts, but HANDLER */
	long long	 max;		/* KIND_COUNT */
	const char	*what;		/* KIND_STRING: what may not be empty */
	enum opts_result (*handler)(struct parse_state *, const char *);
};

/* -a FILE, --arg-file FILE. */
static enum opts_result
on_arg_file(struct parse_state *st, const char *arg)
{
	st->files[st->nfiles++] = arg;
	return OPTS_RUN;
}

/* -0, --null. */
static enum opts_result
on_null(struct parse_state *st, const char *arg)
{
	(void)arg;
	st->o->delim = '\0';
	return OPTS_RUN;
}

/* -d CHAR, --delimiter CHAR. */
static enum opts_result
on_delimiter(struct parse_state *st, const char *arg)
{
	return parse_delimiter(arg, &st->o->delim) == -1 ? OPTS_ERROR :
	    OPTS_RUN;
}

/* --trim n|l|r|lr|rl; remembered, since --colsep implies one. */
static enum opts_result
on_trim(struct parse_state *st, const char *arg)
{
	if (parse_trim(arg, &st->o->trim) == -1)
		return OPTS_ERROR;
	st->trim_given = 1;
	return OPTS_RUN;
}

/* --partition K/N[,rr]. */
static enum opts_result
on_partition(struct parse_state *st, const char *arg)
{
	return parse_partition(st->o, arg) == -1 ? OPTS_ERROR : OPTS_RUN;
}

/* -I STR. */
static enum opts_result
on_replstr(struct parse_state *st, const char *arg)
{
	if (arg[0] == '\0') {
		warnx("-I: the replacement string is empty");
		return OPTS_ERROR;
	}
	/* Blanks split the template first: it would never match. */
	if (arg[0] == ' ' || arg[0] == '\t') {
		warnx("-I '%s': the replacement string begins with a blank",
		    arg);
		return OPTS_ERROR;
	}
	st->o->replstr = arg;
	st->o->replstr_given = 1;
	return OPTS_RUN;
}

/*
 * The word after an option whose argument is optional (-i, --replace),
 * when it is the argument as GNU parallel reads it: not an option, and
 * found again in a later word, as a replacement string is.  Otherwise,
 * as in xargs, the argument is only ever in the option's own word and
 * the next word starts the command.  NULL if it is not.
 */
static const char *
next_word_used(const struct parse_state *st)
{
	const char	*w;
	int		 i;

	if (optind >= st->argc || st->argv[optind][0] == '-' ||
	    st->argv[optind][0] == '\0')
		return NULL;
	w = st->argv[optind];
	for (i = optind + 1; i < st->argc; i++)
		if (strstr(st->argv[i], w) != NULL)
			return w;
	return NULL;
}

/* -i[STR], --replace[=STR]: -I STR, or -I {} without one. */
static enum opts_result
on_replace(struct parse_state *st, const char *arg)
{
	if (arg == NULL && (arg = next_word_used(st)) != NULL)
		optind++;
	if (arg == NULL) {
		st->o->replstr = "{}";
		st->o->replstr_given = 1;
		return OPTS_RUN;
	}
	return on_replstr(st, arg);
}

/*
 * -n N, -N N: the entry's value says which.  0, as GNU parallel's, is a
 * record per job with none of its values on the line.
 */
static enum opts_result
on_max_args(struct parse_state *st, const char *arg)
{
	struct opts	*o = st->o;
	size_t		 n = 1;

	o->no_values = strcmp(arg, "0") == 0;
	if (!o->no_values && parse_count(st->label, arg, INT_MAX, &n) == -1)
		return OPTS_ERROR;
	if (st->value == 'n')
		o->max_args = n;
	else
		o->max_replace_args = n;
	return OPTS_RUN;
}

/*
 * -L N, -l[N], --max-lines[=N]: -l alone is one line, and so is -l 0;
 * -L 0 is a line per job with none of it on the line, as -N 0.
 */
static enum opts_result
on_max_lines(struct parse_state *st, const char *arg)
{
	struct opts	*o = st->o;

	/* -l N, as GNU parallel reads it: a number in the next word. */
	if (arg == NULL && optind < st->argc && st->argv[optind][0] != '\0' &&
	    strspn(st->argv[optind], "0123456789") ==
	    strlen(st->argv[optind]))
		arg = st->argv[optind++];
	o->max_lines = 1;
	/* -L always has its argument; the analyzer cannot know it. */
	o->no_values = st->value == 'L' && arg != NULL &&
	    strcmp(arg, "0") == 0;
	if (arg == NULL || strcmp(arg, "0") == 0)
		return OPTS_RUN;
	return parse_count(st->label, arg, INT_MAX, &o->max_lines) == -1 ?
	    OPTS_ERROR : OPTS_RUN;
}

/*
 * -X, -m, --xargs: the entry's value is the letter, 0 for --xargs.  The
 * last one given counts.
 */
static enum opts_result
on_multi(struct parse_state *st, const char *arg)
{
	(void)arg;
	st->o->xargs = st->value == 'X';
	st->o->multi = st->value != 'X';
	st->o->spread = st->value != 0;
	return OPTS_RUN;
}

/* -E EOF, -e[EOF], --eof[=EOF]: without EOF, there is none. */
static enum opts_result
on_eof(struct parse_state *st, const char *arg)
{
	st->o->eof_str = arg;
	return OPTS_RUN;
}

/* --arg-sep STR, --arg-file-sep STR: the entry's value says which. */
static enum opts_result
on_arg_sep(struct parse_state *st, const char *arg)
{
	if (arg[0] == '\0') {
		warnx("%s: the separator is empty", st->value == 3 ?
		    "--arg-sep" : "--arg-file-sep");
		return OPTS_ERROR;
	}
	if (st->value == 3)
		st->o->arg_sep = arg;
	else
		st->o->arg_file_sep = arg;
	return OPTS_RUN;
}

/* --exec-mode auto|shell|direct. */
static enum opts_result
on_exec_mode(struct parse_state *st, const char *arg)
{
	static const struct keyword	 words[] = {
		{ "auto", EXEC_AUTO }, { "shell", EXEC_SHELL },
		{ "direct", EXEC_DIRECT }, { NULL, 0 }
	};
	int				 v;

	if ((v = keyword("--exec-mode", arg, words)) == -1)
		return OPTS_ERROR;
	st->o->exec_mode = (enum exec_mode)v;
	return OPTS_RUN;
}

/*
 * Whether s is a variable or exported function name, or a glob pattern of
 * names, as GNU parallel's --env takes: letters, digits and _ (and in a
 * function's name also - . : + @), * and ?, and [...] of those, ! and ^;
 * not beginning with a digit or a dash.
 */
static int
env_pattern(const char *s)
{
	int	 in_class = 0;

	if (*s == '\0' || (*s >= '0' && *s <= '9') || *s == '-')
		return 0;
	for (; *s != '\0'; s++) {
		if (isalnum((unsigned char)*s) || strchr("_-.:+@", *s) != NULL)
			continue;
		if (in_class && (*s == '!' || *s == '^' || *s == '-'))
			continue;
		if (!in_class && (*s == '*' || *s == '?'))
			continue;
		if (*s == (in_class ? ']' : '['))
			in_class = !in_class;
		else
			return 0;
	}
	return !in_class;
}

/*
 * --env NAME: locally every variable reaches the job anyway; the names
 * are kept for an executor that must carry them elsewhere.
 */
static enum opts_result
on_env(struct parse_state *st, const char *arg)
{
	struct opts	*o = st->o;

	if (!env_pattern(arg)) {
		warnx("--env %s: not a variable name, _ or a pattern", arg);
		return OPTS_ERROR;
	}
	o->env = xreallocarray(o->env, o->nenv + 1, sizeof(*o->env));
	o->env[o->nenv++] = arg;
	return OPTS_RUN;
}

/*
 * -S LOGIN[,LOGIN...], --sshlogin, and --sshloginfile FILE (value 1):
 * kept as given, in order; exec_ssh.c reads them.  A -S that is a
 * number is BSD xargs's -S REPLSIZE, which no login looks like.
 */
static enum opts_result
on_sshlogin(struct parse_state *st, const char *arg)
{
	struct opts		*o = st->o;
	struct login_arg	*l;

	if (st->value == 0 && strcmp(st->label, "-S") == 0 &&
	    arg[0] != '\0' && strspn(arg, "0123456789") == strlen(arg)) {
		warnx("-S: not supported: %s", compat_refusal("-S"));
		return OPTS_ERROR;
	}
	o->logins = xreallocarray(o->logins, o->nlogins + 1,
	    sizeof(*o->logins));
	l = &o->logins[o->nlogins++];
	strlcpy(l->opt, st->label, sizeof(l->opt));
	l->value = arg;
	l->file = st->value;
	return OPTS_RUN;
}

/* -M, --controlmaster: connections are shared already (the default). */
static enum opts_result
on_multiplex(struct parse_state *st, const char *arg)
{
	(void)arg;
	st->o->no_multiplex = st->value;
	return OPTS_RUN;
}

/* --sshdelay SECS, --ssh-delay. */
static enum opts_result
on_sshdelay(struct parse_state *st, const char *arg)
{
	return parse_duration(st->label, arg, 0, &st->o->sshdelay_ms) == -1 ?
	    OPTS_ERROR : OPTS_RUN;
}

/* --nice N: any number, clamped to what the system allows, as nice(1). */
static enum opts_result
on_nice(struct parse_state *st, const char *arg)
{
	const char	*errstr;

	st->o->nice = (int)strtonum(arg, -1000000, 1000000, &errstr);
	if (errstr != NULL) {
		warnx("--nice %s: %s", arg, errstr);
		return OPTS_ERROR;
	}
	return OPTS_RUN;
}

/* --workdir DIR: made and checked when the executor is. */
static enum opts_result
on_workdir(struct parse_state *st, const char *arg)
{
	if (*arg == '\0') {
		warnx("%s: the directory is empty", st->label);
		return OPTS_ERROR;
	}
	st->o->workdir = arg;
	return OPTS_RUN;
}

/* Append arg to the array *v of *n: the options that add up. */
static enum opts_result
add_file_arg(const char *opt, const char ***v, size_t *n, const char *arg)
{
	if (*arg == '\0') {
		warnx("%s: the file name is empty", opt);
		return OPTS_ERROR;
	}
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = arg;
	return OPTS_RUN;
}

/* --transferfile FILE, --tf FILE: a template, for remote jobs. */
static enum opts_result
on_transferfile(struct parse_state *st, const char *arg)
{
	return add_file_arg("--transferfile", &st->o->transfers,
	    &st->o->ntransfers, arg);
}

/* --return FILE: a template; --trc FILE is --transfer --cleanup too. */
static enum opts_result
on_return(struct parse_state *st, const char *arg)
{
	if (st->value == 1) {
		st->o->transfer = 1;
		st->o->cleanup = 1;
	}
	return add_file_arg(st->value == 1 ? "--trc" : "--return",
	    &st->o->returns, &st->o->nreturns, arg);
}

/* --basefile FILE, --bf FILE: copied to each host once. */
static enum opts_result
on_basefile(struct parse_state *st, const char *arg)
{
	return add_file_arg("--basefile", &st->o->basefiles,
	    &st->o->nbasefiles, arg);
}

/* -j N: resolved after the loop, since --tty decides what it may be. */
static enum opts_result
on_jobs(struct parse_state *st, const char *arg)
{
	st->jobs_arg = arg;
	return OPTS_RUN;
}

/* --group, --line-buffer, -u: the entry's value is the mode. */
static enum opts_result
on_out_mode(struct parse_state *st, const char *arg)
{
	(void)arg;
	st->o->out_mode = (enum out_mode)st->value;
	st->out_given = 1;
	(void)strlcpy(st->out_label, st->label, sizeof(st->out_label));
	return OPTS_RUN;
}

/* --no-keep-order: undoes -k, as GNU parallel's. */
static enum opts_result
on_no_keep_order(struct parse_state *st, const char *arg)
{
	(void)arg;
	st->o->keep_order = 0;
	return OPTS_RUN;
}

/* --color[=auto|always|never]: bare, it is auto, as ls(1)'s. */
static enum opts_result
on_color(struct parse_state *st, const char *arg)
{
	static const struct keyword	 words[] = {
		{ "auto", COLOR_AUTO }, { "always", COLOR_ALWAYS },
		{ "never", COLOR_NEVER }, { NULL, 0 }
	};
	int				 v;

	if ((v = keyword("--color", arg != NULL ? arg : "auto",
	    words)) == -1)
		return OPTS_ERROR;
	st->o->color = (enum color_mode)v;
	return OPTS_RUN;
}

/* --timeout SECS|N%. */
static enum opts_result
on_timeout(struct parse_state *st, const char *arg)
{
	return parse_timeout(st->o, arg) == -1 ? OPTS_ERROR : OPTS_RUN;
}

/* --termseq SIG,MS,... */
static enum opts_result
on_termseq(struct parse_state *st, const char *arg)
{
	return parse_termseq(st->o, arg) == -1 ? OPTS_ERROR : OPTS_RUN;
}

/* --retries N. */
static enum opts_result
on_retries(struct parse_state *st, const char *arg)
{
	size_t	 count;

	if (parse_count("--retries", arg, 1000000, &count) == -1)
		return OPTS_ERROR;
	st->o->retries = (unsigned int)count;
	return OPTS_RUN;
}

/*
 * --tty, -o, --open-tty: the entry's value is the name's index in
 * names[], kept so that messages name the option given.  xargs's -o
 * leaves its children in its own process group, which has the
 * terminal; forkpool's jobs each have a group of their own, which must
 * get the foreground to read it: so -o is --tty.
 */
static enum opts_result
on_tty(struct parse_state *st, const char *arg)
{
	static const char *const names[] = { "--tty", "-o", "--open-tty" };

	(void)arg;
	st->o->tty = 1;
	st->o->tty_name = names[st->value];
	return OPTS_RUN;
}

/* -p, --interactive: the entry's value is the letter, 0 for the name. */
static enum opts_result
on_ask(struct parse_state *st, const char *arg)
{
	(void)arg;
	st->o->ask = st->value == 'p' ? "-p" : "--interactive";
	return OPTS_RUN;
}

/*
 * --process-slot-var NAME: a name the environment can hold, and not one
 * of the variables every job gets (exec_local.c), which count slots
 * from 1 where NAME counts them from 0, as xargs's.
 */
static enum opts_result
on_slot_var(struct parse_state *st, const char *arg)
{
	static const char *const own[] = {
		"FORKPOOL_SEQ", "FORKPOOL_SLOT", "PARALLEL_SEQ",
		"PARALLEL_JOBSLOT"
	};
	size_t			 i;

	if (arg[0] == '\0') {
		warnx("--process-slot-var: the name is empty");
		return OPTS_ERROR;
	}
	if (strchr(arg, '=') != NULL) {
		warnx("--process-slot-var %s: a variable name cannot contain "
		    "'='", arg);
		return OPTS_ERROR;
	}
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (strcmp(arg, own[i]) == 0) {
			warnx("--process-slot-var %s: forkpool sets that "
			    "variable itself", arg);
			return OPTS_ERROR;
		}
	st->o->slot_var = arg;
	return OPTS_RUN;
}

/* --delay SECS. */
static enum opts_result
on_delay(struct parse_state *st, const char *arg)
{
	return parse_duration("--delay", arg, 0, &st->o->delay_ms) == -1 ?
	    OPTS_ERROR : OPTS_RUN;
}

/* --halt WHEN,WHAT=N. */
static enum opts_result
on_halt(struct parse_state *st, const char *arg)
{
	return parse_halt(&st->o->halt, arg) == -1 ? OPTS_ERROR : OPTS_RUN;
}

/* --load MAX or N%: N% is of the CPUs, as GNU parallel's (and -j's). */
static enum opts_result
on_load(struct parse_state *st, const char *arg)
{
	const char	*errstr;
	char		*end, num[32];
	size_t		 len = strlen(arg);
	long long	 pct;

	if (len > 0 && arg[len - 1] == '%') {
		/* Digits only: strtonum() would take blanks and a sign. */
		if (len == 1 || len >= sizeof(num) ||
		    strspn(arg, "0123456789") != len - 1) {
			warnx("--load %s: N%% must be a whole number of "
			    "percent", arg);
			return OPTS_ERROR;
		}
		strlcpy(num, arg, len);
		pct = strtonum(num, 1, 1000000, &errstr);
		if (errstr != NULL) {
			warnx("--load %s: %s", arg, errstr);
			return OPTS_ERROR;
		}
		st->o->load = online_cpus() * (double)pct / 100;
		return OPTS_RUN;
	}
	/*
	 * Digits and one point, as a duration's: strtod() alone would also
	 * take blanks, a sign, an exponent, hex, and "inf", which turned the
	 * check off.
	 */
	len = strspn(arg, "0123456789");
	if (arg[len] == '.' && arg[len + 1] != '\0')
		len += 1 + strspn(arg + len + 1, "0123456789");
	if (len == 0 || arg[len] != '\0' || (len == 1 && arg[0] == '.') ||
	    !((st->o->load = strtod(arg, &end)) > 0)) {
		warnx("--load %s: must be a decimal number above 0, or N%% of "
		    "the CPUs", arg);
		return OPTS_ERROR;
	}
	return OPTS_RUN;
}

/*
 * --number-of-threads, --number-of-cores, --number-of-sockets and
 * --number-of-cpus (GNU parallel's old name for the cores): print the
 * count, of the CPUs forkpool may run on, and exit.
 */
static enum opts_result
on_number_of(struct parse_state *st, const char *arg)
{
	struct cpu_count	 c;

	(void)arg;
	cpu_count(&c);
	printf("%u\n", st->value == 's' ? c.sockets : st->value == 'c' ?
	    c.cores : c.threads);
	return OPTS_EXIT_OK;
}

/* --memfree SIZE. */
static enum opts_result
on_memfree(struct parse_state *st, const char *arg)
{
	return parse_size("--memfree", arg, &st->o->memfree) == -1 ?
	    OPTS_ERROR : OPTS_RUN;
}

/*
 * GNU parallel lowers a --block of 2 GiB or more to this: larger blocks
 * break its reads.  The same limit keeps a block's buffer addressable
 * by the int lengths of the syscalls that write it.
 */
#define BLOCK_MAX	2147483647ULL

/*
 * A --block size: bytes, with GNU parallel's unit prefixes, K M G T P for
 * powers of 1024 and k m g t p for powers of 1000, and a fraction, whose
 * fraction of a byte is dropped as GNU parallel does; 0 on success.  Sizes
 * of 2 GiB or more are BLOCK_MAX + 1.
 */
static int
parse_block(const char *opt, const char *arg, unsigned long long *bytes)
{
	static const char	 units[] = "KMGTPkmgtp";
	const char		*u;
	char			*end;
	double			 v;
	size_t			 n;

	v = strtod(arg, &end);
	if (end == arg || !(v >= 0) || arg[strspn(arg, "0123456789.")] !=
	    *end)
		goto bad;
	if (*end != '\0') {
		if (end[1] != '\0' || (u = strchr(units, *end)) == NULL)
			goto bad;
		n = (size_t)(u - units);
		for (n = n % 5 + 1; n > 0; n--)
			v *= *u >= 'a' ? 1000 : 1024;
	}
	*bytes = v > (double)BLOCK_MAX ? BLOCK_MAX + 1 :
	    (unsigned long long)v;
	return 0;
bad:
	warnx("%s %s: must be a size such as 512k or 2M", opt, arg);
	return -1;
}

/*
 * --block SIZE, as GNU parallel's; or -N, N blocks per job slot, which
 * needs the input's size ahead: --pipe-part's file (check_pipe()).
 */
static enum opts_result
on_block(struct parse_state *st, const char *arg)
{
	st->block_arg = arg;
	st->o->block_slots = 0;
	if (arg[0] == '-') {
		if (parse_block(st->label, arg + 1, &st->o->block_slots) == -1)
			return OPTS_ERROR;
		if (st->o->block_slots == 0) {
			warnx("%s %s: must be at least 1 block per job slot",
			    st->label, arg);
			return OPTS_ERROR;
		}
		return OPTS_RUN;
	}
	if (parse_block(st->label, arg, &st->o->block) == -1)
		return OPTS_ERROR;
	if (st->o->block == 0) {
		warnx("%s %s: must be at least 1 byte", st->label, arg);
		return OPTS_ERROR;
	}
	if (st->o->block > BLOCK_MAX) {
		warnx("%s %s: 2 GiB or more: %llu bytes (2G-1) are used",
		    st->label, arg, BLOCK_MAX);
		st->o->block = BLOCK_MAX;
	}
	return OPTS_RUN;
}

/* --joblog [+]FILE. */
static enum opts_result
on_joblog(struct parse_state *st, const char *arg)
{
	st->o->joblog_append = arg[0] == '+';
	st->o->joblog = arg + st->o->joblog_append;
	if (st->o->joblog[0] == '\0') {
		warnx("--joblog %s: the file name is empty", arg);
		return OPTS_ERROR;
	}
	return OPTS_RUN;
}

/* --resume, --resume-failed, --retry-failed: the value is the mode. */
static enum opts_result
on_resume(struct parse_state *st, const char *arg)
{
	(void)arg;
	st->o->resume = (enum resume_mode)st->value;
	return OPTS_RUN;
}

/*
 * --will-cite, --no-notice, --gnu: GNU parallel's notice flags, which a
 * script written for it may give; forkpool has no notice to silence.
 */
static enum opts_result
on_notice(struct parse_state *st, const char *arg)
{
	(void)st;
	(void)arg;
	return OPTS_RUN;
}

/* --citation, --bibtex: GNU parallel prints its notice; there is none. */
static enum opts_result
on_citation(struct parse_state *st, const char *arg)
{
	(void)st;
	(void)arg;
	return OPTS_EXIT_OK;
}

/* --semaphore, --bg, --fg, --wait: each means semaphore mode. */
static enum opts_result
on_semaphore(struct parse_state *st, const char *arg)
{
	(void)arg;
	st->o->semaphore = 1;
	if (st->value == SEM_FG || st->value == SEM_BG)
		st->o->sem_fg = st->value == SEM_FG;
	else if (st->value == SEM_WAIT)
		st->o->sem_wait = 1;
	return OPTS_RUN;
}

/* --id NAME, --semaphore-name NAME: a file name of its own. */
static enum opts_result
on_sem_id(struct parse_state *st, const char *arg)
{
	if (sem_check_name(arg) == -1)
		return OPTS_ERROR;
	st->o->semaphore = 1;
	st->o->sem_id = arg;
	return OPTS_RUN;
}

/* --semaphoretimeout SECS, --st SECS: the sign says what comes after. */
static enum opts_result
on_sem_timeout(struct parse_state *st, const char *arg)
{
	long long	 ms;

	if (parse_duration("--semaphoretimeout", arg, 1, &ms) == -1)
		return OPTS_ERROR;
	st->o->semaphore = 1;
	st->o->sem_timeout_ms = ms;
	st->o->sem_timeout_arg = arg;
	return OPTS_RUN;
}

/* -h, --help. */
static enum opts_result
on_help(struct parse_state *st, const char *arg)
{
	(void)st;
	(void)arg;
	(void)fputs(help_text, stdout);
	return OPTS_EXIT_OK;
}

/* -V, --version. */
static enum opts_result
on_version(struct parse_state *st, const char *arg)
{
	(void)st;
	(void)arg;
	printf("forkpool %s\n", FORKPOOL_VERSION);
	return OPTS_EXIT_OK;
}

/*
 * The offset of field f of struct opts, which must be of type t: the
 * comparison, never evaluated, has the compiler check that it is.
 */
#define FIELD(f, t)	(offsetof(struct opts, f) + \
			    0 * sizeof(&((struct opts *)NULL)->f == (t *)NULL))

#define FLAG(nm, ch, f) \
	{ .name = (nm), .letter = (ch), .has_arg = no_argument, \
	    .kind = KIND_FLAG, .field = FIELD(f, int) }
#define STRING(nm, ch, f, empty) \
	{ .name = (nm), .letter = (ch), .has_arg = required_argument, \
	    .kind = KIND_STRING, .field = FIELD(f, const char *), \
	    .what = (empty) }
#define COUNT(nm, ch, f, most) \
	{ .name = (nm), .letter = (ch), .has_arg = required_argument, \
	    .kind = KIND_COUNT, .field = FIELD(f, size_t), .max = (most) }
#define ARG(nm, ch, fn) \
	{ .name = (nm), .letter = (ch), .has_arg = required_argument, \
	    .kind = KIND_HANDLER, .handler = (fn) }
#define ARGV(nm, ch, fn, v) \
	{ .name = (nm), .letter = (ch), .has_arg = required_argument, \
	    .kind = KIND_HANDLER, .handler = (fn), .value = (v) }
#define NOARG(nm, ch, fn, v) \
	{ .name = (nm), .letter = (ch), .has_arg = no_argument, \
	    .kind = KIND_HANDLER, .handler = (fn), .value = (v) }
/*
 * The argument is optional: it must follow an '=' (long) or be in the
 * same word (short); without it the handler gets NULL.
 */
#define OPTARG(nm, ch, fn, v) \
	{ .name = (nm), .letter = (ch), .has_arg = optional_argument, \
	    .kind = KIND_HANDLER, .handler = (fn), .value = (v) }

/*
 * Every option.  getopt_long()'s tables are made from this one; an alias
 * would be a second entry doing the same.
 */
static const struct optdef optdefs[] = {
	ARG("arg-file",			'a', on_arg_file),
	NOARG("null",			'0', on_null, 0),
	ARG("delimiter",		'd', on_delimiter),
	STRING("colsep",		0, colsep, "the pattern"),
	ARG("trim",			0, on_trim),
	STRING("header",		0, header, "the header's pattern"),
	FLAG("csv",			0, csv),
	FLAG("no-run-if-empty",		'r', no_run_if_empty),
	FLAG("link",			0, link),
	FLAG("shuf",			0, shuf),
	ARG("partition",		0, on_partition),
	ARG(NULL,			'I', on_replstr),
	FLAG("plus",			0, plus),
	OPTARG("replace",		'i', on_replace, 0),
	ARGV("max-args",		'n', on_max_args, 'n'),
	ARGV("max-replace-args",	'N', on_max_args, 'N'),
	ARGV(NULL,			'L', on_max_lines, 'L'),
	OPTARG("max-lines",		'l', on_max_lines, 'l'),
	NOARG(NULL,			'X', on_multi, 'X'),
	NOARG(NULL,			'm', on_multi, 'm'),
	NOARG("xargs",			0, on_multi, 0),
	ARG(NULL,			'E', on_eof),
	OPTARG("eof",			'e', on_eof, 0),
	ARGV("arg-sep",			0, on_arg_sep, 3),
	ARGV("arg-file-sep",		0, on_arg_sep, 4),
	COUNT("max-chars",		's', max_chars, INT_MAX),
	FLAG("exit",			'x', exit_size),
	STRING("shell",			0, shell, "the path"),
	ARG("exec-mode",		0, on_exec_mode),
	FLAG("quote",			'q', quote),
	ARG("workdir",			0, on_workdir),
	ARG("wd",			0, on_workdir),
	ARG("env",			0, on_env),
	ARG("nice",			0, on_nice),
	ARG("jobs",			'j', on_jobs),
	NOARG("group",			0, on_out_mode, OUT_GROUP),
	FLAG("keep-order",		'k', keep_order),
	NOARG("no-keep-order",		0, on_no_keep_order, 0),
	NOARG("line-buffer",		0, on_out_mode, OUT_LINE),
	NOARG("ungroup",		'u', on_out_mode, OUT_UNGROUP),
	FLAG("output-on-failure",	0, output_on_failure),
	FLAG("tag",			0, tag),
	STRING("tagstring",		0, tagstring, NULL),
	OPTARG("color",			0, on_color, 0),
	STRING("tmpdir",		0, tmpdir, NULL),
	FLAG("files",			0, files),
	FLAG("summary",			0, summary),
	STRING("results",		0, results, "the name"),
	FLAG("dry-run",			0, dry_run),
	ARG("timeout",			0, on_timeout),
	ARG("termseq",			0, on_termseq),
	ARG("retries",			0, on_retries),
	NOARG("tty",			0, on_tty, 0),
	NOARG(NULL,			'o', on_tty, 1),
	NOARG("open-tty",		0, on_tty, 2),
	NOARG(NULL,			'p', on_ask, 'p'),
	NOARG("interactive",		0, on_ask, 0),
	ARG("process-slot-var",		0, on_slot_var),
	FLAG("xargs-status",		0, xargs_status),
	ARG("delay",			0, on_delay),
	ARG("halt",			0, on_halt),
	ARG("load",			0, on_load),
	ARG("memfree",			0, on_memfree),
	ARG("joblog",			0, on_joblog),
	NOARG("resume",			0, on_resume, RESUME),
	NOARG("resume-failed",		0, on_resume, RESUME_FAILED),
	NOARG("retry-failed",		0, on_resume, RETRY_FAILED),
	STRING("junit",			0, junit, "the file name"),
	FLAG("pipe",			0, pipe),
	FLAG("pipe-part",		0, pipe_part),
	ARG("block",			0, on_block),
	FLAG("regexp",			0, regexp),
	STRING("recend",		0, recend, NULL),
	STRING("recstart",		0, recstart, NULL),
	FLAG("rrs",			0, rrs),
	FLAG("round-robin",		0, round_robin),
	FLAG("cat",			0, cat),
	FLAG("fifo",			0, fifo),
	FLAG(NULL,			'v', print_stdout),
	FLAG("verbose",			't', print_stderr),
	FLAG("bar",			0, bar),
	FLAG("progress",		0, progress),
	FLAG("eta",			0, eta),
	FLAG("workers",			0, workers),
	COUNT("max-tasks",		0, max_tasks, INT_MAX),
	ARGV("sshlogin",		'S', on_sshlogin, 0),
	ARGV("sshloginfile",		0, on_sshlogin, 1),
	STRING("ssh",			0, ssh, "the command"),
	NOARG("no-multiplex",		0, on_multiplex, 1),
	NOARG("controlmaster",		'M', on_multiplex, 0),
	ARG("transferfile",		0, on_transferfile),
	ARG("tf",			0, on_transferfile),
	FLAG("transfer",		0, transfer),
	ARGV("return",			0, on_return, 0),
	ARGV("trc",			0, on_return, 1),
	FLAG("cleanup",			0, cleanup),
	ARG("basefile",			0, on_basefile),
	ARG("bf",			0, on_basefile),
	ARG("sshdelay",			0, on_sshdelay),
	ARG("ssh-delay",		0, on_sshdelay),
	FLAG("onall",			0, onall),
	FLAG("nonall",			0, nonall),
	FLAG("slurm",			0, slurm),
	STRING("slurm-alloc",		0, slurm_alloc, "the list of salloc options"),
	/* GNU parallel's other names for the options above. */
	ARG("max-procs",		'P', on_jobs),
	FLAG("spreadstdin",		0, pipe),
	ARG("block-size",		0, on_block),
	FLAG("remove-rec-sep",		0, rrs),
	FLAG("removerecsep",		0, rrs),
	FLAG("round",			0, round_robin),
	STRING("col-sep",		'C', colsep, "the pattern"),
	ARG("argfile",			0, on_arg_file),
	FLAG("xapply",			0, link),
	NOARG("linebuffer",		0, on_out_mode, OUT_LINE),
	NOARG("lb",			0, on_out_mode, OUT_LINE),
	NOARG("line-buffered",		0, on_out_mode, OUT_LINE),
	FLAG("keeporder",		0, keep_order),
	FLAG("dryrun",			0, dry_run),
	ARG("halt-on-error",		0, on_halt),
	STRING("res",			0, results, "the name"),
	ARG("jl",			0, on_joblog),
	FLAG("output-as-files",		0, files),
	ARGV("slf",			0, on_sshlogin, 1),
	NOARG("will-cite",		0, on_notice, 0),
	NOARG("no-notice",		0, on_notice, 0),
	NOARG("gnu",			0, on_notice, 0),
	NOARG("citation",		0, on_citation, 0),
	NOARG("bibtex",			0, on_citation, 0),
	NOARG("semaphore",		0, on_semaphore, SEM_ON),
	ARG("id",			0, on_sem_id),
	NOARG("bg",			0, on_semaphore, SEM_BG),
	NOARG("fg",			0, on_semaphore, SEM_FG),
	NOARG("wait",			0, on_semaphore, SEM_WAIT),
	ARG("semaphoretimeout",		0, on_sem_timeout),
	ARG("st",			0, on_sem_timeout),
	ARG("semaphore-name",		0, on_sem_id),
	ARG("semaphorename",		0, on_sem_id),
	ARG("semaphore-timeout",	0, on_sem_timeout),
	NOARG("number-of-threads",	0, on_number_of, 't'),
	NOARG("number-of-cores",	0, on_number_of, 'c'),
	NOARG("number-of-cpus",		0, on_number_of, 'c'),
	NOARG("number-of-sockets",	0, on_number_of, 's'),
	FLAG("max-line-length-allowed",	0, print_line_max),
	NOARG("help",			'h', on_help, 0),
	NOARG("version",		'V', on_version, 0)
};

#define NOPTDEFS	(sizeof(optdefs) / sizeof(optdefs[0]))

/* getopt_long()'s code for an option without a letter: above the chars. */
#define CODE_BASE	256

/*
 * getopt_long()'s view of optdefs, made once by make_getopt_tables(): "+"
 * stops at the command, ":" tells a missing argument from an unknown
 * option; then every letter, with ":" if it takes an argument.
 */
static struct option	long_options[NOPTDEFS + 1];
static size_t		long_optdef[NOPTDEFS];	/* their optdefs index */
static char		short_options[2 + 3 * NOPTDEFS + 1];

/*
 * The settings that several options write, each as a whole: the last of
 * them given counts, and one given on the command line drops those of
 * $FORKPOOL.  Any other option is a setting of its own.
 */
enum setting_group {
	GROUP_NONE,
	GROUP_BATCH,		/* -n -N -L -l -X -m --xargs */
	GROUP_OUTPUT,		/* --group --line-buffer -u */
	GROUP_ORDER,		/* -k --no-keep-order */
	GROUP_RESUME,		/* --resume --resume-failed --retry-failed */
	NGROUPS
};

/* The number of settings, for parse_state's origin. */
#define NSETTINGS	(NOPTDEFS + NGROUPS)

/* Which group option d belongs to, by the fields it writes. */
static enum setting_group
group_of(const struct optdef *d)
{
	if (d->handler == on_max_args || d->handler == on_max_lines ||
	    d->handler == on_multi)
		return GROUP_BATCH;
	if (d->handler == on_out_mode)
		return GROUP_OUTPUT;
	if (d->handler == on_resume)
		return GROUP_RESUME;
	if (d->handler == on_no_keep_order || (d->kind == KIND_FLAG &&
	    d->field == offsetof(struct opts, keep_order)))
		return GROUP_ORDER;
	return GROUP_NONE;
}

/*
 * The first entry of optdefs that does what d does: d itself, or the
 * option d is another name of.
 */
static size_t
canonical(const struct optdef *d)
{
	const struct optdef	*c;

	for (c = optdefs; c != d; c++)
		if (c->kind == d->kind && c->has_arg == d->has_arg &&
		    (d->kind == KIND_HANDLER ? c->handler == d->handler &&
		    c->value == d->value : c->field == d->field))
			break;
	return (size_t)(c - optdefs);
}

/* The setting option d gives, from 0 to NSETTINGS - 1. */
static size_t
setting_of(const struct optdef *d)
{
	enum setting_group	 g = group_of(d);

	return g != GROUP_NONE ? NOPTDEFS + g : canonical(d);
}

/* getopt_long()'s code for option d: the same for all its names. */
static int
getopt_code(const struct optdef *d)
{
	const struct optdef	*c = &optdefs[canonical(d)];

	return c->letter != 0 ? c->letter : CODE_BASE + (int)(c - optdefs);
}

/* Fill long_options and short_options from optdefs, on the first call. */
static void
make_getopt_tables(void)
{
	const struct optdef	*d;
	struct option		*lo = long_options;
	char			*so = short_options;
	size_t			 i;

	if (short_options[0] != '\0')
		return;
	*so++ = '+';
	*so++ = ':';
	for (i = 0; i < NOPTDEFS; i++) {
		d = &optdefs[i];
		if (d->letter != 0) {
			*so++ = (char)d->letter;
			if (d->has_arg != no_argument)
				*so++ = ':';
			if (d->has_arg == optional_argument)
				*so++ = ':';
		}
		if (d->name == NULL)
			continue;
		/*
		 * glibc takes an abbreviation that several names match as
		 * the first of them when their val is the same: --keep is
		 * --keep-order, which --keeporder is too.
		 */
		long_optdef[lo - long_options] = i;
		lo->name = d->name;
		lo->has_arg = d->has_arg;
		lo->flag = NULL;
		lo->val = getopt_code(d);
		lo++;
	}
	*so = '\0';
	memset(lo, 0, sizeof(*lo));
}

/*
 * The entry for what getopt_long() returned, the name given when it was
 * a long one (longindex), or NULL for '?'.
 */
static const struct optdef *
find_option(int ch, int longindex)
{
	size_t	 i;

	if (ch == '?' || ch == ':')
		return NULL;
	if (longindex >= 0)
		return &optdefs[long_optdef[longindex]];
	if (ch >= CODE_BASE && (size_t)(ch - CODE_BASE) < NOPTDEFS)
		return &optdefs[ch - CODE_BASE];
	for (i = 0; i < NOPTDEFS; i++)
		if (optdefs[i].letter != 0 && optdefs[i].letter == ch)
			return &optdefs[i];
	return NULL;
}

/*
 * Say that word, an option whose name is the len bytes of name, is
 * ambiguous, naming the options it may be: forkpool's, then those it
 * refuses.
 */
static void
ambiguous(const char *word, const char *name, size_t len)
{
	struct buf	 list = { 0 };
	const char	*refused;
	size_t		 i;

	for (i = 0; i < NOPTDEFS; i++)
		if (optdefs[i].name != NULL &&
		    strncmp(optdefs[i].name, name, len) == 0) {
			buf_adds(&list, list.len > 0 ? ", --" : "--");
			buf_adds(&list, optdefs[i].name);
		}
	for (i = 0; compat_refused_prefix(name, len, i, &refused) > i; i++) {
		buf_adds(&list, list.len > 0 ? ", " : "");
		buf_adds(&list, refused);
	}
	warnx("%s: ambiguous: %s", word, list.data);
	buf_free(&list);
}

/*
 * Name what getopt_long() refused.  For a long option, word is the one it
 * refused; for a short one, optopt is the letter.  optopt is also set for
 * a known long option given an argument it does not take (--link=x), and
 * is then its code, the letter or one above the char range.  Returns 1
 * for an option of GNU parallel or xargs that forkpool refuses: its
 * message says what to use instead, and the usage reminder would not.
 */
static int
unknown_option(const char *word)
{
	const char	*name = word + 2;
	const char	*note, *refused;
	char		 letter[3] = { '-', (char)optopt, '\0' };
	size_t		 i, len, n = 0;

	if (strncmp(word, "--", 2) != 0) {
		if ((note = compat_refusal(letter)) != NULL) {
			warnx("%s: not supported: %s", letter, note);
			return 1;
		}
		warnx("-%c: unknown option", optopt);
		return 0;
	}
	len = strcspn(name, "=");
	if (optopt == 0 && (note = compat_refusal(word)) != NULL) {
		warnx("--%.*s: not supported: %s", (int)len, name, note);
		return 1;
	}
	if (optopt != 0) {
		warnx("%s: --%.*s takes no argument", word, (int)len, name);
		return 0;
	}
	for (i = 0; i < NOPTDEFS; i++)
		if (optdefs[i].name != NULL &&
		    strncmp(optdefs[i].name, name, len) == 0)
			n++;
	/* An abbreviation of one refused option only: its note. */
	if (n == 0 && compat_refused_prefix(name, len, 0, &refused) == 1) {
		warnx("%s: not supported: %s", refused,
		    compat_refusal(refused));
		return 1;
	}
	if (n + compat_refused_prefix(name, len, 0, &refused) > 1)
		ambiguous(word, name, len);
	else
		warnx("%s: unknown option", word);
	return 0;
}

/* Carry out option d with argument arg (NULL if it takes none). */
static enum opts_result
apply_option(struct parse_state *st, const struct optdef *d,
    const char *arg)
{
	char	*field = (char *)st->o + d->field;
	char	*label = st->label;
	size_t	 count;
	int	 one = 1;

	/*
	 * Messages name the option as it was given: the letter, or the long
	 * name (in full, when an abbreviation was given).
	 */
	if (st->long_name != NULL)
		(void)snprintf(label, sizeof(st->label), "--%s", st->long_name);
	else if (d->letter != 0)
		(void)snprintf(label, sizeof(st->label), "-%c", d->letter);
	else
		(void)snprintf(label, sizeof(st->label), "--%s", d->name);
	/* memcpy(): the field is of the kind's type, FIELD() checked it. */
	switch (d->kind) {
	case KIND_FLAG:
		memcpy(field, &one, sizeof(one));
		break;
	case KIND_STRING:
		if (d->what != NULL && arg[0] == '\0') {
			warnx("%s: %s is empty", label, d->what);
			return OPTS_ERROR;
		}
		memcpy(field, &arg, sizeof(arg));
		break;
	case KIND_COUNT:
		if (parse_count(label, arg, d->max, &count) == -1)
			return OPTS_ERROR;
		memcpy(field, &count, sizeof(count));
		break;
	case KIND_HANDLER:
		st->value = d->value;
		return d->handler(st, arg);
	}
	return OPTS_RUN;
}

/*
 * Whether semaphore mode has a use for option d: its own options, -j,
 * how the command is run, and the notices.  $FORKPOOL's are not asked:
 * those that semaphore mode uses apply, the others are ignored there.
 */
static int
sem_uses(const struct optdef *d)
{
	static const char *const names[] = {
		"semaphore", "id", "bg", "fg", "wait", "semaphoretimeout", "st",
		"semaphore-name", "semaphorename", "semaphore-timeout", "jobs",
		"max-procs", "shell", "exec-mode", "quote", "will-cite",
		"no-notice", "gnu", "citation", "bibtex", "help", "version"
	};
	size_t	 i;

	for (i = 0; d->name != NULL && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(d->name, names[i]) == 0)
			return 1;
	return 0;
}

/*
 * Whether word, taken by getopt_long() as the long option of longindex,
 * is an abbreviation that one of GNU parallel's refused options shares
 * (--tm: --tmpdir or --tmux); then it is ambiguous there, and is here.
 */
static int
shared_abbreviation(const char *word, int longindex)
{
	const char	*name = word + 2, *refused;
	size_t		 len = strcspn(name, "=");

	if (len == strlen(long_options[longindex].name) ||
	    compat_refused_prefix(name, len, 0, &refused) == 0)
		return 0;
	ambiguous(word, name, len);
	return 1;
}

/*
 * Set every field of option d's setting back to its default, as if the
 * options of $FORKPOOL that gave it had not been.  Handlers other than
 * the groups' write all of theirs anew; -a, --env and the logins add up.
 */
static void
forget_setting(struct parse_state *st, const struct optdef *d)
{
	struct opts	*o = st->o;
	char		*field = (char *)o + d->field;
	const char	*no_string = NULL;
	size_t		 no_count = 0;
	int		 no_flag = 0;

	switch (group_of(d)) {
	case GROUP_BATCH:
		o->max_args = o->max_replace_args = o->max_lines = 0;
		o->no_values = o->xargs = o->multi = o->spread = 0;
		return;
	case GROUP_OUTPUT:
		o->out_mode = OUT_GROUP;
		st->out_given = 0;
		return;
	default:
		break;
	}
	/* memcpy(): the field is of the kind's type, FIELD() checked it. */
	if (d->kind == KIND_FLAG)
		memcpy(field, &no_flag, sizeof(no_flag));
	else if (d->kind == KIND_STRING)
		memcpy(field, &no_string, sizeof(no_string));
	else if (d->kind == KIND_COUNT)
		memcpy(field, &no_count, sizeof(no_count));
}

/*
 * Put in argv[i], a long option that is none of forkpool's names, the
 * name it spells as GNU parallel reads spellings (--pipepart is
 * --pipe-part; see compat_same_spelling()), forkpool's or one that it
 * refuses, with its value if one came after '='.  1 if it did, 0 if
 * the word spells no single option.
 */
static int
respell(struct parse_state *st, char **argv, int i)
{
	struct opts	*o = st->o;
	const char	*name = argv[i] + 2, *to = NULL;
	size_t		 k, len = strcspn(name, "=");
	int		 val = 0;
	char		*word;

	if (strncmp(argv[i], "--", 2) != 0 || compat_refusal(argv[i]) != NULL)
		return 0;
	for (k = 0; k < NOPTDEFS && long_options[k].name != NULL; k++) {
		if (!compat_same_spelling(name, len, long_options[k].name))
			continue;
		/* The names of one option share its value. */
		if (to != NULL && long_options[k].val != val)
			return 0;
		to = long_options[k].name;
		val = long_options[k].val;
	}
	if (to == NULL && (to = compat_refused_spelling(name, len)) != NULL)
		to += 2;
	if (to == NULL)
		return 0;
	if (asprintf(&word, "--%s%s", to, name + len) == -1)
		err(1, NULL);
	o->respelled = xreallocarray(o->respelled, o->nrespelled + 1,
	    sizeof(*o->respelled));
	o->respelled[o->nrespelled++] = word;
	st->moved = xreallocarray(st->moved, st->nmoved + 1,
	    sizeof(*st->moved));
	st->moved_from = xreallocarray(st->moved_from, st->nmoved + 1,
	    sizeof(*st->moved_from));
	st->moved[st->nmoved] = i;
	st->moved_from[st->nmoved++] = argv[i];
	argv[i] = word;
	return 1;
}

static enum opts_result	read_options(struct parse_state *, int, char **);

/*
 * Read the options up to the command; OPTS_RUN to go on.  The caller's
 * argv is left as it was: words read in another spelling are put back.
 */
static enum opts_result
parse_options(struct parse_state *st, int argc, char **argv)
{
	enum opts_result	 r;

	r = read_options(st, argc, argv);
	while (st->nmoved > 0) {
		st->nmoved--;
		argv[st->moved[st->nmoved]] = st->moved_from[st->nmoved];
	}
	free(st->moved);
	free(st->moved_from);
	st->moved = NULL;
	st->moved_from = NULL;
	return r;
}

/* parse_options()'s reading. */
static enum opts_result
read_options(struct parse_state *st, int argc, char **argv)
{
	const struct optdef	*d;
	enum opts_result	 r;
	size_t			 setting;
	int			 ch, before, longindex;

	opterr = 0;
	st->argc = argc;
	st->argv = argv;
	for (;;) {
		/*
		 * getopt_long() stays on a word while it walks a cluster of
		 * short options (-kQ): a refused option is then in that word,
		 * not in the one before it.
		 */
		before = optind > 0 ? optind : 1;
		longindex = -1;
		if ((ch = getopt_long(argc, argv, short_options, long_options,
		    &longindex)) == -1)
			return OPTS_RUN;
		st->long_name = longindex >= 0 ? long_options[longindex].name :
		    NULL;
		if (ch == ':') {
			warnx("%s: needs an argument", argv[optind - 1]);
			usage();
			return OPTS_ERROR;
		}
		if ((d = find_option(ch, longindex)) == NULL) {
			/* Read the word again in the spelling it stands for. */
			if (optind != before && optopt == 0 &&
			    respell(st, argv, optind - 1)) {
				optind--;
				continue;
			}
			if (unknown_option(optind == before ? argv[optind] :
			    argv[optind - 1]) == 0)
				usage();
			return OPTS_ERROR;
		}
		if (longindex >= 0 && shared_abbreviation(argv[before],
		    longindex)) {
			usage();
			return OPTS_ERROR;
		}
		setting = setting_of(d);
		if (!st->in_env && st->origin[setting] == ORIGIN_ENV)
			forget_setting(st, d);
		st->origin[setting] = st->in_env ? ORIGIN_ENV : ORIGIN_CMD;
		if (st->not_sem == NULL && !st->in_env && !sem_uses(d))
			st->not_sem = d;
		if ((r = apply_option(st, d, optarg)) != OPTS_RUN)
			return r;
	}
}

/* Where the option named name (long, without "--") was last given. */
static enum origin
origin_of(const struct parse_state *st, const char *name)
{
	size_t	 i;

	for (i = 0; i < NOPTDEFS; i++)
		if (optdefs[i].name != NULL && strcmp(optdefs[i].name, name) == 0)
			return (enum origin)st->origin[setting_of(&optdefs[i])];
	return ORIGIN_NONE;
}

/*
 * Have warnx() name $FORKPOOL, as parse_env() does, when the options
 * named a and b (b may be NULL) came from it: "forkpool: $FORKPOOL" if
 * all did, "forkpool: $FORKPOOL and the command line" if one did.
 * Returns the name to put back with blame_end().
 */
static char *
blame_begin(const struct parse_state *st, const char *a, const char *b)
{
	char	*name = program_invocation_short_name;
	int	 env, cmd;

	env = origin_of(st, a) == ORIGIN_ENV ||
	    (b != NULL && origin_of(st, b) == ORIGIN_ENV);
	cmd = origin_of(st, a) == ORIGIN_CMD ||
	    (b != NULL && origin_of(st, b) == ORIGIN_CMD);
	if (env)
		program_invocation_short_name = cmd ?
		    "forkpool: $FORKPOOL and the command line" :
		    "forkpool: $FORKPOOL";
	return name;
}

static void
blame_end(char *name)
{
	program_invocation_short_name = name;
}

/*
 * warnx() for a message about the options named a and b (b may be NULL),
 * naming $FORKPOOL as blame_begin() does.
 */
static void __attribute__((format(printf, 4, 5)))
blame_warnx(const struct parse_state *st, const char *a, const char *b,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*name = blame_begin(st, a, b);

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	blame_end(name);
}

/*
 * Resolve -j, which --tty and -p limit to one job; 0, or -1 after a
 * message.
 */
static int
resolve_jobs(struct parse_state *st)
{
	struct opts	*o = st->o;

	/* A semaphore is a mutex unless -j says otherwise, as GNU sem's. */
	char		*name;
	int		 rc = 0;

	o->jobs_given = st->jobs_arg != NULL;
	if (st->jobs_arg == NULL)
		o->jobs = o->semaphore ? 1 : online_cpus();
	else {
		name = blame_begin(st, "jobs", NULL);
		rc = parse_jobs(st->jobs_arg, o->semaphore, o->workers,
		    &o->jobs);
		blame_end(name);
		if (rc == -1)
			return -1;
	}
	/*
	 * GNU parallel's --tty implies -j1 and -u.  One job at a time, as a
	 * terminal has one foreground; an output mode given is kept, since
	 * a job may read the terminal and still have its output held.  -p
	 * shows the command it asks about rendered, {%} and all, which only
	 * one slot knows before the job starts.
	 */
	if (!o->tty && o->ask == NULL)
		return 0;
	if (st->jobs_arg != NULL && o->jobs != 1) {
		blame_warnx(st, o->tty ? "tty" : "interactive", "jobs",
		    "%s runs one job at a time: -j %s cannot be used with it",
		    o->tty ? o->tty_name : o->ask, st->jobs_arg);
		return -1;
	}
	o->jobs = 1;
	if (o->tty && !st->out_given)
		o->out_mode = OUT_UNGROUP;
	return 0;
}

/*
 * Say that opt cannot be used with the output mode in force, named as
 * the user chose it: the mode given, with why, or the -u that --tty
 * (or -o) implies, with the modes that lift it (lifted_by).  Only --tty
 * sets a mode that was not given.
 */
static void
mode_conflict(const struct parse_state *st, const char *opt,
    const char *why, const char *lifted_by)
{
	static const char *const names[] = {
		[OUT_GROUP] = "--group",
		[OUT_LINE] = "--line-buffer",
		[OUT_UNGROUP] = "-u"
	};

	if (st->out_given)
		blame_warnx(st, opt + 2, "group", "%s cannot be used with %s: "
		    "%s", opt, names[st->o->out_mode], why);
	else
		blame_warnx(st, opt + 2, "tty", "%s cannot be used with %s "
		    "unless %s is given: %s passes output straight through",
		    opt, st->o->tty_name, lifted_by, st->o->tty_name);
}

/*
 * The first replacement string in s, its length in *len: the -I string,
 * {#}, {%}, {= or {N} and the like, with or without a number and a . /
 * // /. suffix; NULL if none.
 */
static const char *
find_replacement(const char *s, const char *replstr, size_t *len)
{
	static const char *const suffixes[] = { "}", ".}", "/}", "//}", "/.}" };
	const char	*p, *q, *r = strstr(s, replstr);
	size_t		 i;

	for (p = strchr(s, '{'); p != NULL && (r == NULL || p < r);
	    p = strchr(p + 1, '{')) {
		q = p + 1;
		if (*q == '=') {
			*len = (q = strstr(q, "=}")) != NULL ?
			    (size_t)(q + 2 - p) : strlen(p);
			return p;
		}
		if ((*q == '#' || *q == '%') && q[1] == '}') {
			*len = 3;
			return p;
		}
		if (*q == '-' && (q[1] < '0' || q[1] > '9'))
			continue;
		q += *q == '-';
		q += strspn(q, "0123456789");
		for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
			if (strncmp(q, suffixes[i], strlen(suffixes[i])) == 0) {
				*len = (size_t)(q - p) + strlen(suffixes[i]);
				return p;
			}
	}
	if (r != NULL)
		*len = strlen(replstr);
	return r;
}

/* Whether s holds a replacement string (find_replacement()). */
static int
has_replacement(const char *s, const char *replstr)
{
	size_t	 len;

	return find_replacement(s, replstr, &len) != NULL;
}

/*
 * Refuse what --workers cannot do; 0, or -1 after a message.  A worker
 * runs once for many records, so its command has no value in it, only
 * its slot; the records go to its stdin one at a time.
 */
static int
check_workers(const struct parse_state *st)
{
	const struct opts	*o = st->o;
	const char		*other = NULL, *why = NULL;

	if (o->max_tasks != 0 && !o->workers) {
		blame_warnx(st, "max-tasks", NULL,
		    "--max-tasks needs --workers");
		return -1;
	}
	if (!o->workers)
		return 0;
	if (o->no_values || o->max_args > 1 || o->max_replace_args > 1)
		other = o->max_args != 0 ? "-n" : "-N";
	else if (o->max_lines != 0)
		other = "-L";
	else if (o->xargs || o->multi)
		other = o->xargs ? "-X" : o->spread ? "-m" : "--xargs";
	if (other != NULL)
		why = "a worker takes one record at a time";
	else if (o->tty) {
		other = o->tty_name;
		why = "workers read their records on stdin";
	} else if (o->ask != NULL) {
		other = o->ask;
		why = "a worker gets records without asking";
	} else if (o->out_mode == OUT_UNGROUP) {
		/* -u, or --ungroup: as given ($FORKPOOL's included). */
		other = st->out_label[0] != '\0' ? st->out_label : "-u";
		why = "forkpool reads each answer";
	} else if (o->resume == RETRY_FAILED) {
		other = "--retry-failed";
		why = "the joblog holds commands, not records";
	} else if (o->timeout_pct != 0) {
		other = "--timeout N%";
		why = "use --timeout SECS";
	} else if (o->delay_ms != 0 || o->load > 0 || o->memfree != 0) {
		other = o->delay_ms != 0 ? "--delay" : o->load > 0 ? "--load" :
		    "--memfree";
		why = "it gates job starts, and a worker starts once";
	}
	if (other == NULL)
		return 0;
	blame_warnx(st, "workers", NULL, "--workers cannot be used with %s: "
	    "%s", other, why);
	return -1;
}

/*
 * --workers runs the command given, once per worker: with none, there
 * is nothing to start.  0, or -1 after a message.  Which replacement
 * strings it may hold, the template tells (workers_check_command()).
 */
static int
check_worker_command(const struct parse_state *st)
{
	if (!st->o->workers || st->o->ncmd > 0)
		return 0;
	blame_warnx(st, "workers", NULL, "--workers needs a command");
	return -1;
}

/* Refuse what --results cannot do; 0, or -1 after a message. */
static int
check_results(const struct parse_state *st)
{
	const struct opts	*o = st->o;

	if (o->results == NULL)
		return 0;
	if (has_replacement(o->results, o->replstr)) {
		blame_warnx(st, "results", NULL, "--results %s: replacement "
		    "strings in the name are not supported", o->results);
		return -1;
	}
	if (o->out_mode == OUT_UNGROUP) {
		mode_conflict(st, "--results", NOT_SEEN, HELD_MODES);
		return -1;
	}
	if (o->files && results_is_table(o->results)) {
		blame_warnx(st, "files", "results", "--files cannot be used "
		    "with --results %s: the output goes to the table",
		    o->results);
		return -1;
	}
	if (o->resume == RETRY_FAILED && !results_is_table(o->results)) {
		blame_warnx(st, "results", "retry-failed", "--results %s "
		    "cannot be used with --retry-failed: its jobs have no "
		    "values to name directories by", o->results);
		return -1;
	}
	return 0;
}

/* Refuse options that cannot go together; 0, or -1 after a message. */
static int
check_conflicts(const struct parse_state *st)
{
	const struct opts	*o = st->o;

	if (check_workers(st) == -1)
		return -1;
	if (o->resume != RESUME_NONE && o->joblog == NULL) {
		blame_warnx(st, "resume", NULL, "%s needs --joblog FILE",
		    o->resume == RESUME ? "--resume" : o->resume ==
		    RESUME_FAILED ? "--resume-failed" : "--retry-failed");
		return -1;
	}
	if (o->shuf && o->resume != RESUME_NONE) {
		blame_warnx(st, "shuf", "resume", "--shuf cannot be used "
		    "with %s: the jobs are numbered in a new order on every "
		    "run", o->resume == RESUME ?
		    "--resume" : o->resume == RESUME_FAILED ?
		    "--resume-failed" : "--retry-failed");
		return -1;
	}
	if (o->quote && o->exec_mode == EXEC_SHELL) {
		blame_warnx(st, "quote", "exec-mode", "-q cannot be used with "
		    "--exec-mode shell: -q runs the command's words as they "
		    "are, without a shell");
		return -1;
	}
	if (o->max_args != 0 && o->max_replace_args != 0) {
		blame_warnx(st, "max-args", NULL,
		    "-n and -N cannot be used together");
		return -1;
	}
	if (o->max_lines != 0 && (o->max_args != 0 ||
	    o->max_replace_args != 0)) {
		blame_warnx(st, "max-args", NULL, "-L and %s cannot be used "
		    "together", o->max_args != 0 ? "-n" : "-N");
		return -1;
	}
	/* Printed as it comes, output cannot wait for the job's result. */
	if (o->output_on_failure && o->out_mode != OUT_GROUP) {
		mode_conflict(st, "--output-on-failure", "output is printed "
		    "before the job's result is known", "--group");
		return -1;
	}
	if (o->output_on_failure && o->files) {
		blame_warnx(st, "output-on-failure", "files",
		    "--output-on-failure cannot be used with --files: the "
		    "output goes to files, not to stdout");
		return -1;
	}
	if (o->out_mode == OUT_UNGROUP && (o->tag || o->tagstring != NULL)) {
		mode_conflict(st, o->tag ? "--tag" : "--tagstring",
		    "an ungrouped line has no start to tag", HELD_MODES);
		return -1;
	}
	if (o->out_mode == OUT_UNGROUP && o->color != COLOR_NEVER) {
		mode_conflict(st, "--color", "forkpool does not see the output",
		    HELD_MODES);
		return -1;
	}
	if (o->out_mode == OUT_UNGROUP && o->files) {
		mode_conflict(st, "--files", NOT_SEEN, HELD_MODES);
		return -1;
	}
	if (o->out_mode == OUT_UNGROUP && o->junit != NULL) {
		mode_conflict(st, "--junit", NOT_SEEN, HELD_MODES);
		return -1;
	}
	return check_results(st);
}

/*
 * --header: a line count (":" is one line, as GNU parallel's '.*\n') or a
 * pattern matched at the start of the input; -1 after a message.
 */
static int
parse_header(struct opts *o)
{
	PCRE2_UCHAR	 msg[256];
	PCRE2_SIZE	 off;
	const char	*errstr;
	int		 rc;

	if (strcmp(o->header, ":") == 0) {
		o->header_lines = 1;
		return 0;
	}
	if (o->header[strspn(o->header, "0123456789")] == '\0') {
		o->header_lines = (unsigned int)strtonum(o->header, 0, INT_MAX,
		    &errstr);
		if (errstr != NULL) {
			warnx("--header %s: %s", o->header, errstr);
			return -1;
		}
		if (o->header_lines == 0) {
			warnx("--header %s: a header of no lines names nothing",
			    o->header);
			return -1;
		}
		return 0;
	}
	o->header_re = pcre2_compile((PCRE2_SPTR)o->header,
	    PCRE2_ZERO_TERMINATED, 0, &rc, &off, NULL);
	if (o->header_re == NULL) {
		(void)pcre2_get_error_message(rc, msg, sizeof(msg));
		warnx("--header %s: %s at offset %zu", o->header, (char *)msg,
		    (size_t)off);
		return -1;
	}
	return 0;
}

/*
 * --header and --csv, once --colsep is known: --csv takes its one
 * character (',' without it) and trims nothing, as RFC 4180 keeps
 * blanks; --header splits on TAB without --colsep and, as GNU parallel,
 * trims nothing then.  -1 after a message.
 */
static int
finish_columns(struct opts *o)
{
	if (o->csv) {
		if (o->colsep == NULL)
			o->csv_sep = ',';
		else if (o->colsep[0] != '\0' && o->colsep[1] == '\0')
			o->csv_sep = o->colsep[0];
		/* \t as in a pattern; a \ before any other byte is it. */
		else if (o->colsep[0] == '\\' && o->colsep[1] == 't' &&
		    o->colsep[2] == '\0')
			o->csv_sep = '\t';
		else if (o->colsep[0] == '\\' && o->colsep[1] != '\0' &&
		    o->colsep[2] == '\0')
			o->csv_sep = o->colsep[1];
		else {
			warnx("--csv: --colsep %s: must be one character",
			    o->colsep);
			return -1;
		}
		if (o->csv_sep == '"' || o->csv_sep == o->delim) {
			warnx("--csv: --colsep %s: cannot be the quote or the "
			    "record delimiter", o->colsep);
			return -1;
		}
		return 0;
	}
	if (o->header != NULL && o->colsep == NULL &&
	    opts_set_colsep(o, "\\t") == -1)
		return -1;
	return 0;
}

/*
 * Check the options as a whole and fill in what was left to defaults,
 * in the order the messages come; 0, or -1 after a message.
 */
static int
finish_options(struct parse_state *st)
{
	struct opts		*o = st->o;
	struct source_spec	*s;
	char			*name;
	size_t			 i;
	int			 rc;

	if (resolve_jobs(st) == -1)
		return -1;
	if (o->termseq == NULL && parse_termseq(o,
	    "TERM,200,TERM,100,TERM,50,KILL,25") == -1)
		return -1;
	if (o->retries == 0)
		o->retries = 1;
	/* As GNU parallel's: the estimate comes with the progress lines. */
	if (o->eta)
		o->progress = 1;
	if (check_conflicts(st) == -1)
		return -1;
	/*
	 * GNU parallel's -N implies -X even with -m or --xargs (20221122
	 * repeats a{}b with -N2 -m); its -L implies -X unless they are given.
	 * With -N0 or -L0 there is no value to repeat the word for: {} is
	 * empty, the word stays once (GNU parallel prints hi for -N0 hi{}).
	 */
	o->context = !o->no_values && (o->xargs || o->max_replace_args != 0 ||
	    (!o->multi && o->max_lines != 0));
	/* GNU parallel: --colsep implies --trim rl unless --trim is given. */
	if (o->colsep != NULL && !o->csv) {
		name = blame_begin(st, "colsep", NULL);
		rc = opts_set_colsep(o, o->colsep);
		blame_end(name);
		if (rc == -1)
			return -1;
		if (!st->trim_given)
			o->trim = TRIM_BOTH;
	}
	if (o->header != NULL) {
		name = blame_begin(st, "header", NULL);
		rc = parse_header(o);
		blame_end(name);
		if (rc == -1)
			return -1;
	}
	name = blame_begin(st, "csv", o->csv ? "colsep" : NULL);
	rc = finish_columns(o);
	blame_end(name);
	if (rc == -1)
		return -1;
	for (i = 0; i < st->nfiles; i++) {
		s = add_source(o, SOURCE_FILE, 0);
		s->path = st->files[i];
	}
	return 0;
}

/*
 * What pipe mode cannot do, once the sources are known; 0, or -1 after a
 * message.  Its options mean nothing without --pipe, and are then
 * ignored, as GNU parallel ignores them.
 */
static int
check_pipe(const struct parse_state *st)
{
	struct opts	*o = st->o;

	if (o->pipe_part)
		o->pipe = 1;
	if (!o->pipe)
		return 0;
	if (!o->pipe_part && o->nsources > 0) {
		warnx("--pipe reads its blocks from stdin: it takes no input "
		    "source (-a, :::, ::::); --pipe-part -a FILE splits a file");
		return -1;
	}
	if (!o->pipe_part && o->block_slots != 0) {
		warnx("--block %s: blocks per job slot need --pipe-part: "
		    "the size of stdin is not known ahead; give a size such "
		    "as 10M", st->block_arg);
		return -1;
	}
	if (o->pipe_part && o->rrs) {
		warnx("--rrs cannot be used with --pipe-part: its blocks go to "
		    "the jobs without passing through forkpool");
		return -1;
	}
	if (o->round_robin && (o->cat || o->fifo)) {
		warnx("%s cannot be used with --round-robin: a job gets "
		    "many blocks, on its stdin", o->cat ? "--cat" : "--fifo");
		return -1;
	}
	if (o->cat && o->fifo) {
		warnx("--cat and --fifo cannot be used together: {} names "
		    "either a file or a named pipe");
		return -1;
	}
	if (o->round_robin && o->retries > 1) {
		warnx("--retries cannot be used with --round-robin: a job gets "
		    "many blocks, and a retry could not be fed them again");
		return -1;
	}
	if (o->shuf || o->resume != RESUME_NONE || o->results != NULL) {
		warnx("--pipe cannot be used with %s: its jobs have no values",
		    o->shuf ? "--shuf" : o->results != NULL ? "--results" :
		    o->resume == RESUME_FAILED ? "--resume-failed" :
		    "--resume");
		return -1;
	}
	return 0;
}

/*
 * What --slurm and --slurm-alloc (which implies --slurm) cannot be used
 * with; 0, or -1 after a message.
 */
static int
check_slurm(struct opts *o)
{
	const char	*opt = o->slurm_alloc != NULL ? "--slurm-alloc" :
			    "--slurm";

	if (o->slurm_alloc != NULL)
		o->slurm = 1;
	if (!o->slurm || o->semaphore)
		return 0;
	if (o->nlogins > 0 || o->onall || o->nonall) {
		warnx("%s cannot be used with %s: the jobs run either on "
		    "hosts over ssh or as Slurm job steps", opt,
		    o->onall ? "--onall" : o->nonall ? "--nonall" :
		    "-S or --sshloginfile");
		return -1;
	}
	if (o->tty) {
		warnx("%s cannot be used with %s: a job step has no terminal",
		    opt, o->tty_name);
		return -1;
	}
	return 0;
}

/* What semaphore mode cannot do; 0, or -1 after a message. */
static int
check_semaphore(const struct parse_state *st)
{
	const struct opts	*o = st->o;

	if (!o->semaphore)
		return 0;
	if (o->nsources > 0) {
		warnx("--semaphore runs the command once: it takes no input "
		    "source (-a, :::, ::::)");
		return -1;
	}
	if (st->not_sem != NULL) {
		if (st->not_sem->letter != 0)
			warnx("-%c: does not apply to --semaphore, which runs "
			    "one command", st->not_sem->letter);
		else
			warnx("--%s: does not apply to --semaphore, which runs "
			    "one command", st->not_sem->name);
		return -1;
	}
	if (o->sem_wait && o->ncmd > 0) {
		warnx("--wait runs no command: %s given", o->cmd[0]);
		return -1;
	}
	if (!o->sem_wait && o->ncmd == 0) {
		warnx("--semaphore: no command to run");
		return -1;
	}
	return 0;
}

/*
 * Split $FORKPOOL into words as the shell does (POSIX, 2.2 Quoting),
 * without expanding anything: blanks separate words; outside quotes a
 * backslash takes the next character as it is; single quotes take
 * everything up to the next one as it is; inside double quotes a
 * backslash escapes only $ ` " \ and newline, and stays before any other
 * character; a backslash-newline is removed.  (GNU parallel's
 * Text::ParseWords drops every backslash inside double quotes.)  The
 * words go, each NUL-terminated, into words (allocated); returns how
 * many, or -1 after a message.
 */
static int
split_env(const char *s, char **words)
{
	struct buf	 b = { 0 };
	int		 n = 0, inword = 0;
	char		 quote = 0;

	for (; *s != '\0'; s++) {
		/* A line continuation: neither a blank nor a word. */
		if (quote != '\'' && s[0] == '\\' && s[1] == '\n') {
			s++;
			continue;
		}
		if (quote == 0 && strchr(" \t\n\r\f\v", *s) != NULL) {
			if (inword)
				buf_addc(&b, '\0');
			inword = 0;
			continue;
		}
		if (!inword)
			n++;
		inword = 1;
		if (quote == 0 && (*s == '\'' || *s == '"'))
			quote = *s;
		else if (quote != 0 && *s == quote)
			quote = 0;
		else if (quote != '\'' && *s == '\\' && s[1] == '\0') {
			warnx("ends with a lone backslash");
			goto fail;
		} else if (*s == '\\' && (quote == 0 ||
		    (quote == '"' && strchr("$`\"\\", s[1]) != NULL)))
			buf_addc(&b, *++s);
		else
			buf_addc(&b, *s);
	}
	if (quote != 0) {
		warnx("a %c quote is not closed", quote);
		goto fail;
	}
	/* An empty last word ('') must still be a word. */
	buf_addc(&b, '\0');
	*words = b.data;
	return n;
fail:
	buf_free(&b);
	return -1;
}

/*
 * Read the options in $FORKPOOL, before the command line's; OPTS_RUN to
 * go on.  Its messages name the variable: warnx() prefixes the program's
 * name, which is "forkpool: $FORKPOOL" meanwhile, so that every
 * option's own message, wherever it is printed, says where the option
 * came from.
 */
static enum opts_result
parse_env(struct parse_state *st, char *argv0, int n)
{
	struct opts		*o = st->o;
	enum opts_result	 r;
	char			*name = program_invocation_short_name;
	char			*p;
	int			 i;

	o->env_argv = xcalloc((size_t)n + 2, sizeof(*o->env_argv));
	o->env_argv[0] = argv0;
	for (i = 1, p = o->env_words; i <= n; i++, p += strlen(p) + 1)
		o->env_argv[i] = p;
	program_invocation_short_name = "forkpool: $FORKPOOL";
	optind = 0;
	st->in_env = 1;
	r = parse_options(st, n + 1, o->env_argv);
	st->in_env = 0;
	if (r == OPTS_RUN && optind <= n) {
		warnx("%s: not an option (the variable holds options only)",
		    o->env_argv[optind]);
		r = OPTS_ERROR;
	}
	program_invocation_short_name = name;
	return r;
}

/* Parse the command line; see enum opts_result. */
enum opts_result
opts_parse(struct opts *o, int argc, char **argv)
{
	struct parse_state	 st;
	enum opts_result	 r = OPTS_RUN;
	const char		*env;
	char			*name = program_invocation_short_name;
	int			 nenv = 0;

	memset(o, 0, sizeof(*o));
	o->delim = '\n';
	o->replstr = "{}";
	o->arg_sep = ":::";
	o->arg_file_sep = "::::";
	o->exec_mode = EXEC_AUTO;
	o->out_mode = OUT_GROUP;
	memset(&st, 0, sizeof(st));
	st.o = o;
	if ((env = getenv("FORKPOOL")) != NULL) {
		program_invocation_short_name = "forkpool: $FORKPOOL";
		nenv = split_env(env, &o->env_words);
		program_invocation_short_name = name;
		if (nenv == -1) {
			opts_free(o);
			return OPTS_ERROR;
		}
	}
	st.files = xcalloc((size_t)argc + (size_t)nenv + 1, sizeof(*st.files));
	st.origin = xcalloc(NSETTINGS, sizeof(*st.origin));
	make_getopt_tables();
	o->semaphore = argc > 0 && sem_called_as(argv[0]);
	if (nenv > 0)
		r = parse_env(&st, argv[0], nenv);
	/* Start getopt_long() afresh, also on a second call. */
	optind = 0;
	if (r == OPTS_RUN)
		r = parse_options(&st, argc, argv);
	if (r == OPTS_RUN && (finish_options(&st) == -1 ||
	    parse_operands(o, argc - optind, argv + optind) == -1 ||
	    check_worker_command(&st) == -1 || check_semaphore(&st) == -1 ||
	    check_pipe(&st) == -1 || check_slurm(o) == -1))
		r = OPTS_ERROR;
	free(st.files);
	free(st.origin);
	if (r != OPTS_RUN)
		opts_free(o);	/* the caller frees only to run */
	return r;
}

/* Release what opts_parse() allocated. */
void
opts_free(struct opts *o)
{
	free(o->sources);
	o->sources = NULL;
	free(o->termseq);
	o->termseq = NULL;
	free(o->env);
	o->env = NULL;
	o->nenv = 0;
	free(o->logins);
	o->logins = NULL;
	free(o->transfers);
	o->transfers = NULL;
	o->ntransfers = 0;
	free(o->returns);
	o->returns = NULL;
	o->nreturns = 0;
	free(o->basefiles);
	o->basefiles = NULL;
	o->nbasefiles = 0;
	o->nlogins = 0;
	o->nsources = 0;
	pcre2_code_free(o->colsep_re);
	o->colsep_re = NULL;
	free(o->env_argv);
	o->env_argv = NULL;
	while (o->nrespelled > 0)
		free(o->respelled[--o->nrespelled]);
	free(o->respelled);
	o->respelled = NULL;
	free(o->env_words);
	o->env_words = NULL;
	pcre2_code_free(o->header_re);
	o->header_re = NULL;
}

/* Compile the --colsep pattern; see opts.h. */
int
opts_set_colsep(struct opts *o, const char *pattern)
{
	PCRE2_UCHAR	 msg[256];
	PCRE2_SIZE	 off;
	int		 rc;

	pcre2_code_free(o->colsep_re);
	o->colsep = pattern;
	/*
	 * Bytes, as GNU parallel's Perl reads its input: no UTF mode, which
	 * would refuse records that are not valid UTF-8.
	 */
	o->colsep_re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    0, &rc, &off, NULL);
	if (o->colsep_re == NULL) {
		(void)pcre2_get_error_message(rc, msg, sizeof(msg));
		warnx("--colsep %s: %s at offset %zu", pattern, (char *)msg,
		    (size_t)off);
		return -1;
	}
	return 0;
}

/* Where temporary files go; see opts.h. */
const char *
opts_tmpdir(const struct opts *o)
{
	const char	*t;

	if ((t = o->tmpdir) == NULL && ((t = getenv("TMPDIR")) == NULL ||
	    *t == '\0'))
		t = "/tmp";
	return t;
}
