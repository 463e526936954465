#!/usr/bin/env bats
# Exit status contract, usage errors, --help, --version.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
	EXITWITH=$(mkscript exitwith 'exit "$1"')
}

# Every option of the specification, short and long.
SHORT_OPTS=(-a -0 -d -r -I -n -N -X -s -j -k -u -v -t -h -V)
LONG_OPTS=(--arg-file --null --delimiter --colsep --no-run-if-empty --link
	--max-args --max-replace-args --xargs --max-chars --shell --exec-mode
	--jobs --group --keep-order --line-buffer --ungroup --tag --tagstring
	--tmpdir --dry-run --verbose --help --version)

@test "all jobs succeed: exit 0" {
	run --separate-stderr fp true ::: a b c
	assert_success
	assert_output ''
	assert_equal "$stderr" ""
}

@test "no jobs at all: exit 0" {
	run fp true </dev/null
	assert_success
	assert_output ''
}

@test "exit status is the number of failed jobs" {
	run fp "$EXITWITH" ::: 0 1 0 2 0 3
	assert_failure 3
}

@test "any non-zero job status counts as one failure" {
	run fp "$EXITWITH" ::: 255
	assert_failure 1
	run fp "$EXITWITH" ::: 7 126 127
	assert_failure 3
}

@test "exactly 100 failed jobs: exit 100" {
	run fp false ::: $(seq 100)
	assert_failure 100
}

@test "101 failed jobs: exit 101" {
	run fp false ::: $(seq 101)
	assert_failure 101
}

@test "more than 101 failed jobs: still exit 101" {
	run fp false ::: $(seq 150)
	assert_failure 101
}

@test "failures from input errors and from jobs add up" {
	run --separate-stderr fp -k "$EXITWITH" < <(printf '0\n1\n\0\n0\n2\n')
	assert_failure 3
	assert_equal "$stderr" "forkpool: input record 3: contains a NUL byte"
}

@test "a job killed by a signal counts as failed" {
	local s
	s=$(mkscript killself 'echo "before $1"; kill -"$1" $$; echo "after $1"')
	run --separate-stderr fp -k "$s" ::: TERM KILL HUP
	assert_failure 3
	assert_output $'before TERM\nbefore KILL\nbefore HUP'
}

@test "a job killed by a signal does not stop the other jobs" {
	local s
	s=$(mkscript killsome 'if [ "$1" = die ]; then kill -KILL $$; fi; echo "$1"')
	run --separate-stderr fp -k -j1 "$s" ::: a die b
	assert_failure 1
	assert_output $'a\nb'
}

# --- usage errors -------------------------------------------------------------

@test "unknown long option: exit 255 naming it" {
	run --separate-stderr fp --no-such-option true ::: a
	assert_failure 255
	assert_output ''
	assert_regex "$stderr" '^forkpool: .*--no-such-option'
}

@test "unknown short option: exit 255 naming it" {
	run --separate-stderr fp -Q true ::: a
	assert_failure 255
	assert_output ''
	assert_regex "$stderr" '^forkpool: .*Q'
}

@test "a long option given an argument it does not take: exit 255 naming it" {
	local opt
	for opt in --link=x --dry-run=1 --help=x --resume-failed=yes; do
		run --separate-stderr fp "$opt" true ::: a
		assert_failure 255
		assert_output ''
		assert_equal "${stderr%%$'\n'*}" \
			"forkpool: $opt: ${opt%%=*} takes no argument"
	done
}

@test "an ambiguous long option prefix: exit 255 naming it" {
	run --separate-stderr fp --re true ::: a
	assert_failure 255
	assert_output ''
	assert_equal "${stderr%%$'\n'*}" 'forkpool: --re: ambiguous: --replace, --results, --retries, --resume, --resume-failed, --retry-failed, --regexp, --recend, --recstart, --return, --remove-rec-sep, --removerecsep, --res, --record-env'
}

@test "option missing its argument: exit 255" {
	local opt
	for opt in -j -n -N -s -d -I -a --colsep --shell --exec-mode --tmpdir --tagstring; do
		echo "checking $opt without its argument"
		run --separate-stderr fp "$opt" </dev/null
		assert_failure 255
		assert_output ''
		assert_regex "$stderr" '^forkpool: '
	done
}

@test "options after the command are part of the command" {
	run fp "$SHOWARGS" -j 5 --bogus ::: x
	assert_success
	assert_output '4:<-j><5><--bogus><x>'
}

@test "an invalid --colsep regex is a usage error" {
	run --separate-stderr fp --colsep '(' true ::: a
	assert_failure 255
	assert_output ''
	assert_regex "$stderr" '^forkpool: .*--colsep'
}

@test "a usage error runs no job" {
	run fp -j abc touch made ::: x
	assert_failure 255
	assert_file_not_exists made
}

# --- --help / --version ---------------------------------------------------------------

@test "--help exits 0, prints on stdout, nothing on stderr" {
	run --separate-stderr fp --help
	assert_success
	assert_equal "$stderr" ""
	assert_regex "$output" 'forkpool'
}

@test "--help mentions every long option" {
	run --separate-stderr fp --help
	assert_success
	local o missing=()
	for o in "${LONG_OPTS[@]}"; do
		grep -Eq -- "(^|[^[:alnum:]-])$o([^[:alnum:]-]|\$)" <<<"$output" || missing+=("$o")
	done
	assert_equal "${missing[*]}" ""
}

@test "--help mentions every short option" {
	run --separate-stderr fp --help
	assert_success
	local o missing=()
	for o in "${SHORT_OPTS[@]}"; do
		grep -Eq -- "(^|[^[:alnum:]-])$o([^[:alnum:]-]|\$)" <<<"$output" || missing+=("$o")
	done
	assert_equal "${missing[*]}" ""
}

@test "--help mentions the input source separators" {
	run fp --help
	assert_success
	local o missing=()
	for o in ':::' '::::' ':::+' '::::+'; do
		grep -Fq -- "$o" <<<"$output" || missing+=("$o")
	done
	assert_equal "${missing[*]}" ""
}

@test "-h is the same as --help" {
	run --separate-stderr fp --help
	local long=$output
	run --separate-stderr fp -h
	assert_success
	assert_output "$long"
}

@test "--version prints 'forkpool VERSION' and exits 0" {
	run --separate-stderr fp --version
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_regex "$output" '^forkpool [0-9]+\.[0-9]+'
	assert_equal "$stderr" ""
}

@test "-V is the same as --version" {
	run fp --version
	local long=$output
	run fp -V
	assert_success
	assert_output "$long"
}

@test "--help and --version after options that allocate leave nothing behind" {
	local o check=()
	# valgrind cannot run a sanitized build, which finds leaks itself
	if [[ -z ${FORKPOOL_SANITIZED:-} ]]; then
		require_cmd valgrind
		check=(valgrind -q --leak-check=full \
			--errors-for-leak-kinds=definite --error-exitcode=99)
	fi
	for o in --help --version; do
		run --separate-stderr "${check[@]}" \
			"$FP_BIN" --termseq TERM,10,KILL,5 "$o"
		assert_success
		assert_equal "$stderr" ""
	done
}

@test "an unknown short option in a cluster is named, not the option before it" {
	run --separate-stderr fp --tag -YZ echo ::: a
	assert_failure 255
	assert_output ''
	assert_equal "${stderr%%$'\n'*}" 'forkpool: -Y: unknown option'
	run --separate-stderr fp -k -kQ echo ::: a
	assert_failure 255
	assert_equal "${stderr%%$'\n'*}" 'forkpool: -Q: unknown option'
	run --separate-stderr fp --tag -kQ echo ::: a
	assert_failure 255
	assert_equal "${stderr%%$'\n'*}" 'forkpool: -Q: unknown option'
}

@test "a missing program named in the template: reported once, no more jobs, exit 127" {
	run -127 --separate-stderr bash -c 'seq 1000 | "$FP_BIN" -j3 no-such-program-xyz'
	assert_failure 127
	assert_output ''
	assert_equal "$stderr" "forkpool: no-such-program-xyz: command not found
forkpool: starting no more jobs: the command cannot run"
}

@test "a program that cannot be run, named in the template: reported once, exit 126" {
	printf 'echo hi\n' >noexec
	chmod -x noexec
	run --separate-stderr bash -c 'seq 100 | "$FP_BIN" -j1 ./noexec'
	assert_failure 126
	assert_output ''
	assert_equal "$stderr" "forkpool: ./noexec: Permission denied
forkpool: starting no more jobs: the command cannot run"
}

@test "a missing program that comes from a value fails that record alone" {
	run --separate-stderr fp -k {} ok ::: echo no-such-program-xyz echo
	assert_failure 1
	assert_output $'ok\nok'
	assert_equal "$stderr" "forkpool: no-such-program-xyz: command not found"
}

@test "stdout closed at start: job output does not land in the joblog" {
	fp --joblog log echo hello ::: x >&-
	run cat log
	refute_line 'hello x'
	assert_equal "$(wc -l <log)" 2
	run cut -f7,9 <(tail -n1 log)
	assert_output $'0\techo hello x'
}

@test "stderr closed at start: job stderr does not land in the joblog" {
	fp --joblog log sh -c 'echo oops >&2' ::: x 2>&-
	run cat log
	refute_line oops
	assert_equal "$(wc -l <log)" 2
}

@test "stdin closed at start: input read from -a does not land on the wrong descriptor" {
	printf 'a\nb\n' >in
	run bash -c '"$FP_BIN" -k -a in echo <&-'
	assert_success
	assert_output $'a\nb'
}
