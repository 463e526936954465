#include <stddef.h>
#include <string.h>

#include "compat.h"

/* An option refused, and the note docs/compat.md gives for it. */
struct refusal {
	const char	*option;
	const char	*note;
};

/*
 * The rows of docs/compat.md marked unsupported, one entry per option,
 * sorted by name.
 */
static const struct refusal refusals[] = {
	{ "--_parset",
	    "parset is not part of forkpool; instead: readarray -t the "
	    "output of forkpool -k" },
	{ "--basenameextensionreplace",
	    "the names of replacement strings are fixed; instead: use {/.}" },
	{ "--basenamereplace",
	    "the names of replacement strings are fixed; instead: use {/}" },
	{ "--bin",
	    "not built in pipe mode yet; instead: split the input "
	    "with awk into files and give them as arguments" },
	{ "--block-timeout",
	    "not built in pipe mode yet; instead: split the input "
	    "into files and give them as arguments" },
	{ "--bner",
	    "the names of replacement strings are fixed; instead: use {/.}" },
	{ "--bnr",
	    "the names of replacement strings are fixed; instead: use {/}" },
	{ "--bt",
	    "not built in pipe mode yet; instead: split the input "
	    "into files and give them as arguments" },
	{ "--cf",
	    "failed jobs are not coloured apart; instead: "
	    "--output-on-failure, or --joblog to find the failed jobs" },
	{ "--color-failed",
	    "failed jobs are not coloured apart; instead: "
	    "--output-on-failure, or --joblog to find the failed jobs" },
	{ "--compress",
	    "forkpool keeps held output on disk only beyond 4 MiB and "
	    "frees it as it is printed; instead: give --tmpdir a directory "
	    "with room" },
	{ "--compress-program",
	    "forkpool keeps held output on disk only beyond 4 MiB and "
	    "frees it as it is printed; instead: give --tmpdir a directory "
	    "with room" },
	{ "--ctag",
	    "obsolete in GNU parallel too; instead: --color --tag" },
	{ "--ctagstring",
	    "obsolete in GNU parallel too; instead: --color --tagstring STR" },
	{ "--decompress-program",
	    "forkpool keeps held output on disk only beyond 4 MiB and "
	    "frees it as it is printed; instead: give --tmpdir a directory "
	    "with room" },
	{ "--dirnamereplace",
	    "the names of replacement strings are fixed; instead: use {//}" },
	{ "--dnr",
	    "the names of replacement strings are fixed; instead: use {//}" },
	{ "--embed",
	    "forkpool is a compiled program and cannot be pasted into a "
	    "script; instead: install forkpool next to the script" },
	{ "--er",
	    "the names of replacement strings are fixed; instead: use {.}" },
	{ "--extensionreplace",
	    "the names of replacement strings are fixed; instead: use {.}" },
	{ "--filter",
	    "forkpool does not evaluate Perl; instead: filter the input with "
	    "grep or awk before forkpool" },
	{ "--filter-hosts",
	    "this part of remote execution is not built yet; instead: list "
	    "only the hosts that answer" },
	{ "--group-by",
	    "not built in pipe mode yet; instead: split the input "
	    "by the column with awk into files and give them as arguments" },
	{ "--hashbang",
	    "forkpool does not read its options from a script; instead: "
	    "start the script with #!/bin/sh and run forkpool in it" },
	{ "--hgrp",
	    "this part of remote execution is not built yet; instead: run "
	    "forkpool once per group of hosts" },
	{ "--hostgroups",
	    "this part of remote execution is not built yet; instead: run "
	    "forkpool once per group of hosts" },
	{ "--latest-line",
	    "forkpool does not redraw lines on the terminal; instead: "
	    "--line-buffer --tag" },
	{ "--limit",
	    "forkpool does not run a command to decide whether to start a "
	    "job; instead: --load or --memfree" },
	{ "--ll",
	    "forkpool does not redraw lines on the terminal; instead: "
	    "--line-buffer --tag" },
	{ "--memsuspend",
	    "jobs are not suspended for memory; instead: --memfree SIZE, "
	    "which holds back new jobs" },
	{ "--minversion",
	    "forkpool's versions are not GNU parallel's; instead: check "
	    "forkpool --version" },
	{ "--noswap",
	    "swapping is not watched; instead: --memfree SIZE" },
	{ "--parens",
	    "Perl expressions are not supported; instead: the --plus "
	    "replacement strings, or shell code in the command" },
	{ "--plain",
	    "forkpool reads no configuration file; instead: unset FORKPOOL "
	    "to drop its default options" },
	{ "--profile",
	    "forkpool reads no profile; instead: put the options in the "
	    "FORKPOOL variable or a shell alias" },
	{ "--record-env",
	    "forkpool keeps no file of names; instead: --env VAR with each "
	    "name" },
	{ "--rpl",
	    "Perl expressions are not supported; instead: the --plus "
	    "replacement strings, or shell code in the command" },
	{ "--rsync-opts",
	    "this part of remote execution is not built yet; instead: run "
	    "rsync yourself before and after the run" },
	{ "--seqreplace",
	    "the names of replacement strings are fixed; instead: use {#}" },
	{ "--session",
	    "forkpool copies no shell session; instead: export the functions "
	    "(export -f) and variables the jobs need" },
	{ "--shard",
	    "not built in pipe mode yet; instead: split the input "
	    "by the column with awk into files and give them as arguments" },
	{ "--shebang",
	    "forkpool does not read its options from a script; instead: "
	    "start the script with #!/bin/sh and run forkpool in it" },
	{ "--shebang-wrap",
	    "forkpool does not wrap interpreters; instead: a shell script "
	    "that runs forkpool INTERPRETER SCRIPT ::: ARGS" },
	{ "--shell-completion",
	    "completions are shipped as files; instead: install the files in "
	    "completions/ (make install does)" },
	{ "--shell-quote",
	    "forkpool does not print quoted commands; instead: printf %q in "
	    "bash" },
	{ "--show-limits",
	    "forkpool has no such report; instead: --max-line-length-allowed" },
	{ "--silent",
	    "not one of forkpool's spellings; instead: leave out -v and -t, "
	    "no command is printed by default" },
	{ "--skip-first-line",
	    "no line of the input is skipped; instead: tail -n +2 FILE as "
	    "the input, or --header" },
	{ "--slotreplace",
	    "the names of replacement strings are fixed; instead: use {%}" },
	{ "--sql",
	    "forkpool has no database queue; instead: --joblog with --resume "
	    "or --retry-failed" },
	{ "--sql-and-worker",
	    "forkpool has no database queue; instead: --joblog with --resume "
	    "or --retry-failed" },
	{ "--sql-master",
	    "forkpool has no database queue; instead: --joblog with --resume "
	    "or --retry-failed" },
	{ "--sql-worker",
	    "forkpool has no database queue; instead: --partition K/N on "
	    "each worker" },
	{ "--sqlmaster",
	    "forkpool has no database queue; instead: --joblog with --resume "
	    "or --retry-failed" },
	{ "--sqlworker",
	    "forkpool has no database queue; instead: --partition K/N on "
	    "each worker" },
	{ "--tee",
	    "not built in pipe mode yet; instead: tee into one "
	    "process substitution per command" },
	{ "--template",
	    "forkpool does not fill in files; instead: sed on the template "
	    "file in the command" },
	{ "--tmpl",
	    "forkpool does not fill in files; instead: sed on the template "
	    "file in the command" },
	{ "--tmux",
	    "forkpool does not drive tmux; instead: --line-buffer --tag, or "
	    "--results DIR" },
	{ "--tmuxpane",
	    "forkpool does not drive tmux; instead: --line-buffer --tag, or "
	    "--results DIR" },
	{ "--tollef",
	    "retired in GNU parallel too; instead: leave it out" },
	{ "--total",
	    "forkpool counts the jobs itself; instead: leave it out, --eta "
	    "and --bar read ahead to count" },
	{ "--total-jobs",
	    "forkpool counts the jobs itself; instead: leave it out, --eta "
	    "and --bar read ahead to count" },
	{ "--use-cores-instead-of-threads",
	    "-j counts online CPU threads; instead: -j $(forkpool "
	    "--number-of-cores)" },
	{ "--use-cpus-instead-of-cores",
	    "-j counts online CPU threads; instead: -j $(forkpool "
	    "--number-of-cores)" },
	{ "--use-sockets-instead-of-threads",
	    "-j counts online CPU threads; instead: -j $(forkpool "
	    "--number-of-sockets)" },
	{ "-J",
	    "GNU parallel's -J (profiles) and BSD xargs's -J REPLSTR are not "
	    "supported; instead: put the options in the FORKPOOL variable, "
	    "or for -J use -m with {} where REPLSTR was" },
	{ "-R",
	    "-I replaces every occurrence, there is no count to set; "
	    "instead: leave out -R" },
	/*
	 * -S is --sshlogin; on_sshlogin() refuses with this note a value
	 * that is a number, BSD xargs's REPLSIZE.
	 */
	{ "-S",
	    "BSD xargs's -S REPLSIZE is not supported; instead: leave out "
	    "-S REPLSIZE: -I has no size limit" },
};

#define NREFUSALS	(sizeof(refusals) / sizeof(refusals[0]))

/* See compat.h. */
const char *
compat_refusal(const char *option)
{
	size_t	 i, len;

	/* A long option's value, after '=', is not part of its name. */
	len = strncmp(option, "--", 2) == 0 ? strcspn(option, "=") :
	    strlen(option);
	for (i = 0; i < NREFUSALS; i++)
		if (strlen(refusals[i].option) == len &&
		    strncmp(refusals[i].option, option, len) == 0)
			return refusals[i].note;
	return NULL;
}

/* See compat.h. */
size_t
compat_refused_prefix(const char *prefix, size_t len, size_t n,
    const char **option)
{
	size_t	 i, found = 0;

	for (i = 0; i < NREFUSALS; i++) {
		if (strncmp(refusals[i].option, "--", 2) != 0 ||
		    strncmp(refusals[i].option + 2, prefix, len) != 0)
			continue;
		if (found++ == n)
			*option = refusals[i].option;
	}
	return found;
}

/*
 * The letters of the len bytes of s that tell a spelling apart: no
 * hyphens, and "colour" as "color"; into key (size n), NUL-terminated.
 * 0 when it does not fit.
 */
static int
spelling_key(const char *s, size_t len, char *key, size_t n)
{
	size_t	 i, k = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '-')
			continue;
		if (k + 1 >= n)
			return 0;
		key[k++] = s[i];
		if (len - i >= 6 && strncmp(s + i, "colour", 6) == 0) {
			if (k + 4 >= n)
				return 0;
			memcpy(key + k, "olor", 4);
			k += 4;
			i += 5;
		}
	}
	key[k] = '\0';
	return 1;
}

/* See compat.h. */
int
compat_same_spelling(const char *given, size_t len, const char *name)
{
	char	 a[64], b[64];

	return spelling_key(given, len, a, sizeof(a)) &&
	    spelling_key(name, strlen(name), b, sizeof(b)) &&
	    strcmp(a, b) == 0;
}

/* See compat.h. */
const char *
compat_refused_spelling(const char *given, size_t len)
{
	size_t	 i;

	for (i = 0; i < NREFUSALS; i++)
		if (strncmp(refusals[i].option, "--", 2) == 0 &&
		    compat_same_spelling(given, len, refusals[i].option + 2))
			return refusals[i].option;
	return NULL;
}
