#!/usr/bin/env bats
# Options forkpool accepts so that command lines written for GNU parallel
# run unchanged.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
}

@test "GNU parallel's notice flags --will-cite, --no-notice and --gnu are accepted and change nothing" {
	local flag
	for flag in --will-cite --no-notice --gnu; do
		run --separate-stderr fp "$flag" -k echo ::: a b
		assert_success
		assert_output $'a\nb'
		assert_equal "$stderr" ""
	done
	run --separate-stderr fp --will-cite --no-notice --gnu -k false ::: a b
	assert_failure 2
	assert_output ""
}

@test "--citation and --bibtex print nothing and exit 0 without running anything" {
	local flag
	for flag in --citation --bibtex; do
		run --separate-stderr fp "$flag" 'echo ran >ran' ::: a
		assert_success
		assert_output ""
		assert_equal "$stderr" ""
		assert [ ! -e ran ]
	done
}

@test "the notice flags take no value" {
	run --separate-stderr fp --will-cite=yes echo ::: a
	assert_failure 255
	assert_output ""
	assert_equal "${stderr%%$'\n'*}" "forkpool: --will-cite=yes: --will-cite takes no argument"
}

# same_as ALIAS-ARGS -- ORIGINAL-ARGS: both runs print the same and exit alike.
same_as() {
	local -a alias=() orig=()
	while [[ $1 != -- ]]; do alias+=("$1"); shift; done
	shift
	orig=("$@")
	run fp "${alias[@]}"
	local out=$output st=$status
	run fp "${orig[@]}"
	assert_equal "$out" "$output"
	assert_equal "$st" "$status"
	[ -n "$out" ]
}

@test "GNU parallel's names for options are aliases of forkpool's" {
	printf 'x\ny\n' >file
	same_as -P 1 -k echo ::: a b -- -j 1 -k echo ::: a b
	same_as --max-procs 1 -k echo ::: a b -- -j 1 -k echo ::: a b
	same_as -k --xapply echo ::: a b ::: 1 2 -- -k --link echo ::: a b ::: 1 2
	same_as -k -C , echo {2} ::: a,b c,d -- -k --colsep , echo {2} ::: a,b c,d
	same_as -k --col-sep , echo {2} ::: a,b -- -k --colsep , echo {2} ::: a,b
	same_as --linebuffer echo ::: a -- --line-buffer echo ::: a
	same_as --lb echo ::: a -- --line-buffer echo ::: a
	same_as --line-buffered echo ::: a -- --line-buffer echo ::: a
	same_as --dryrun echo ::: 'a b' -- --dry-run echo ::: 'a b'
	same_as --halt-on-error 2 -j1 sh -c 'echo $0; exit 1' ::: a b -- --halt 2 -j1 sh -c 'echo $0; exit 1' ::: a b
	same_as -k --argfile file echo -- -k -a file echo
	same_as --keeporder echo ::: a b c -- -k echo ::: a b c
	run fp --res rdir echo ::: a
	assert_success
	assert_equal "$(cat rdir/1/a/stdout)" a
}

@test "GNU parallel's spellings without hyphens, and colour for color, are the options they spell" {
	printf 'x\ny\n' >file
	same_as --pipepart -a file -k wc -l -- --pipe-part -a file -k wc -l
	same_as --numberofcores -- --number-of-cores
	same_as --maxargs 2 -k echo ::: a b c -- --max-args 2 -k echo ::: a b c
	same_as --maxargs=2 -k echo ::: a b c -- --max-args 2 -k echo ::: a b c
	same_as --tag-string x -k echo ::: a -- --tagstring x -k echo ::: a
	same_as --colour=always --tag echo ::: a -- --color=always --tag echo ::: a
	run -0 fp --roundrobin --pipe -k wc -l <file
	assert_output 2
	same_as --nokeeporder echo ::: a -- --no-keep-order echo ::: a
	# A refused option is refused in any of its spellings, with its note.
	run --separate-stderr fp --colorfailed echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --color-failed: not supported: failed jobs are not coloured apart; instead: --output-on-failure, or --joblog to find the failed jobs"
	# Not a spelling of anything: unknown, as before.
	run --separate-stderr fp --pipeparts echo ::: a
	assert_failure 255
	assert_equal "${stderr%%$'\n'*}" "forkpool: --pipeparts: unknown option"
	# An option's argument is never respelled.
	run -0 fp --tagstring --pipepart -k echo ::: a
	assert_output $'--pipepart\ta'
}

@test "--compress, --compress-program and --decompress-program are refused at start with one line naming the option, exit 255" {
	local msg='forkpool keeps held output on disk only beyond 4 MiB and frees it as it is printed; instead: give --tmpdir a directory with room'
	run --separate-stderr fp --compress touch ran ::: x
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" "forkpool: --compress: not supported: $msg"
	run --separate-stderr fp --compress-program zstd touch ran ::: x
	assert_failure 255
	assert_equal "$stderr" "forkpool: --compress-program: not supported: $msg"
	run --separate-stderr fp -k --decompress-program='zstd -dc' touch ran ::: x
	assert_failure 255
	assert_equal "$stderr" "forkpool: --decompress-program: not supported: $msg"
	assert [ ! -e ran ]
}

@test "--no-keep-order undoes an earlier -k" {
	local sleeper=$BATS_TEST_TMPDIR/sleeper
	printf '#!/bin/sh\nsleep "$1"; echo "$1"\n' >"$sleeper"
	chmod +x "$sleeper"
	run --separate-stderr fp -k --no-keep-order -j2 "$sleeper" ::: 0.5 0
	assert_success
	assert_output $'0\n0.5'
	assert_equal "$stderr" ''
	run --separate-stderr fp --no-keep-order -k -j2 "$sleeper" ::: 0.5 0
	assert_success
	assert_output $'0.5\n0'
}

@test "an abbreviation of several spellings of one option is that option" {
	local w
	for w in --keep --dry --line --line-buf; do
		run --separate-stderr fp "$w" -j1 echo ::: a b
		assert_success
		if [[ $w == --dry ]]; then
			assert_output $'echo a\necho b'
		else
			assert_output $'a\nb'
		fi
		assert_equal "$stderr" ''
	done
}

@test "an abbreviation that GNU parallel's refused options share is ambiguous; one of a refused option only gets its note" {
	run --separate-stderr fp --tm echo ::: a
	assert_failure 255
	assert_output ''
	assert_equal "${stderr_lines[0]}" 'forkpool: --tm: ambiguous: --tmpdir, --tmpl, --tmux, --tmuxpane'
	run --separate-stderr fp --re echo ::: a
	assert_failure 255
	assert_equal "${stderr_lines[0]}" 'forkpool: --re: ambiguous: --replace, --results, --retries, --resume, --resume-failed, --retry-failed, --regexp, --recend, --recstart, --return, --remove-rec-sep, --removerecsep, --res, --record-env'
	run --separate-stderr fp --rsync-o f echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --rsync-opts: not supported: this part of remote execution is not built yet; instead: run rsync yourself before and after the run'
	run --separate-stderr fp --sshlog=h echo ::: a
	assert_failure 255
	assert_equal "${stderr_lines[0]}" 'forkpool: --sshlog=h: ambiguous: --sshlogin, --sshloginfile'
	# an exact name is never ambiguous
	run --separate-stderr fp --shell sh -k echo ::: a
	assert_success
	assert_output a
}
