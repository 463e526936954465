#!/usr/bin/env bats
# Reporting on a run: --output-on-failure, --color, --summary.

bats_require_minimum_version 1.5.0
load helper

setup_file() {
	# job DELAY STATUS: sleep DELAY seconds, print "out STATUS" on stdout
	# and "err STATUS" on stderr, exit STATUS.
	mkbin job 'sleep "$1"; echo "out $2"; echo "err $2" >&2; exit "$2"'
	# flaky ID K: print "ID attempt N" on both streams; succeed from
	# attempt K on (0: never).
	mkbin flaky 'n=$(cat "count.$1" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" >"count.$1"
echo "$1 attempt $n"
echo "$1 err $n" >&2
[ "$2" -gt 0 ] && [ "$n" -ge "$2" ]'
	# two A B: print the line A, then B without a newline.
	mkbin two 'printf "%s\\n%s" "$1" "$2"'
	export JOB="$BATS_FILE_TMPDIR/bin/job" FLAKY="$BATS_FILE_TMPDIR/bin/flaky"
	export TWO="$BATS_FILE_TMPDIR/bin/two"
	# quiet STATUS [DELAY]: sleep DELAY seconds (default 0), exit STATUS.
	mkbin quiet 'sleep "${2:-0}"; exit "$1"'
	# big: hold a 30 MB string in the shell, exit 0.
	mkbin big 'x=$(head -c 30000000 /dev/zero | tr "\\0" a); [ ${#x} -gt 0 ]'
	export QUIET="$BATS_FILE_TMPDIR/bin/quiet" BIG="$BATS_FILE_TMPDIR/bin/big"
}

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	kill_leftovers
}

# --- --output-on-failure -----------------------------------------------------

@test "--output-on-failure: only the failed jobs' stdout and stderr are printed" {
	run --separate-stderr fp -k --output-on-failure "$JOB" 0 ::: 0 1 0 2
	assert_failure 2
	assert_output $'out 1\nout 2'
	assert_equal "$stderr" $'err 1\nerr 2'
}

@test "--output-on-failure: a run where every job succeeds prints nothing" {
	run --separate-stderr fp --output-on-failure "$JOB" 0 ::: 0 0 0
	assert_success
	assert_output ''
	assert_equal "$stderr" ''
}

@test "--output-on-failure -k: failed jobs are printed in input order" {
	run fp -k -j3 --output-on-failure "$JOB" {} 3 ::: 0.4 0 0.2
	assert_failure 3
	assert_output $'out 3\nerr 3\nout 3\nerr 3\nout 3\nerr 3'
	run fp -k -j3 --output-on-failure --tag "$JOB" {} 3 ::: 0.4 0 0.2
	assert_failure 3
	assert_output "$(printf '0.4\tout 3\n0.4\terr 3\n0\tout 3\n0\terr 3\n0.2\tout 3\n0.2\terr 3')"
}

@test "--output-on-failure --retries: only the final attempt counts" {
	run --separate-stderr fp -k --retries 2 --output-on-failure "$FLAKY" ::: a b :::+ 2 0
	assert_failure 1
	assert_output 'b attempt 2'
	assert_equal "$stderr" 'b err 2'
	assert_equal "$(cat count.a)" 2
}

@test "--output-on-failure: -v's command line is printed with a failed job only" {
	run fp -k -v --output-on-failure "$JOB" 0 ::: 0 1
	assert_failure 1
	assert_output "$JOB 0 1"$'\nout 1\nerr 1'
}

@test "--output-on-failure leaves the joblog alone" {
	run fp -k --output-on-failure --joblog log "$JOB" 0 ::: 0 1
	assert_failure 1
	assert_output $'out 1\nerr 1'
	run cut -f1,7 log
	assert_output $'Seq\tExitval\n1\t0\n2\t1'
}

@test "--output-on-failure with -u or --line-buffer is a usage error (255)" {
	run --separate-stderr fp --output-on-failure -u echo ::: a
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" "forkpool: --output-on-failure cannot be used with -u: output is printed before the job's result is known"
	run --separate-stderr fp --line-buffer --output-on-failure echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --output-on-failure cannot be used with --line-buffer: output is printed before the job's result is known"
	run --separate-stderr fp --tty --output-on-failure echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --output-on-failure cannot be used with --tty unless --group is given: --tty passes output straight through"
}

# --- --color -------------------------------------------------------------------

# The escape sequences --color writes.
E=$'\e'
GREEN="$E[32m" YELLOW="$E[33m" BLUE="$E[34m" RED="$E[31m" OFF="$E[0m"

# in_tty COMMAND...: run COMMAND with stdout a pseudo-terminal; print what it
# wrote there with the terminal's carriage returns taken out.
in_tty() {
	require_cmd script
	local cmd
	printf -v cmd '%q ' "$@"
	script -qec "$cmd" /dev/null </dev/null | tr -d '\r'
}

@test "--color=always --tag: each job's tag has its own colour, by job number" {
	run fp -k --color=always --tag echo ::: a b c
	assert_success
	assert_output "${GREEN}a${OFF}"$'\ta\n'"${YELLOW}b${OFF}"$'\tb\n'"${BLUE}c${OFF}"$'\tc'
}

@test "--color=always --tagstring: the tag is coloured, the output is not" {
	run fp -k --color=always --tagstring 'job {#}' "$TWO" x y ::: a
	assert_success
	assert_output "${GREEN}job 1${OFF}"$'\tx\n'"${GREEN}job 1${OFF}"$'\ty'
}

@test "--color=always --tag: the tag of a failed job is red (--group and -k)" {
	# the failed job ends first and waits for its turn
	run fp -k -j2 --color=always --tag "$JOB" ::: 0.3 0 :::+ 0 1
	assert_failure 1
	assert_output "${GREEN}0.3 0${OFF}"$'\tout 0\n'"${GREEN}0.3 0${OFF}"$'\terr 0\n'"${RED}0 1${OFF}"$'\tout 1\n'"${RED}0 1${OFF}"$'\terr 1'
	run fp -j2 --group --color=always --tag "$JOB" 0 ::: 1
	assert_failure 1
	assert_output "${RED}1${OFF}"$'\tout 1\n'"${RED}1${OFF}"$'\terr 1'
}

@test "--color=always --line-buffer: lines printed while a failed job runs keep its colour" {
	local s
	s=$(mkscript late 'echo early; sleep 0.3; printf late; exit 1')
	run fp --line-buffer --color=always --tag "$s" ::: a
	assert_failure 1
	assert_output "${GREEN}a${OFF}"$'\tearly\n'"${RED}a${OFF}"$'\tlate'
}

@test "--color=always without a tag: each job's lines are coloured, reset before the newline" {
	run fp -k --color=always "$TWO" {} {}2 ::: a b
	assert_success
	assert_output "${GREEN}a${OFF}"$'\n'"${GREEN}a2${OFF}${YELLOW}b${OFF}"$'\n'"${YELLOW}b2${OFF}"
	run fp -k -j2 --color=always "$JOB" ::: 0.3 0 :::+ 0 1
	assert_failure 1
	assert_output "${GREEN}out 0${OFF}"$'\n'"${GREEN}err 0${OFF}"$'\n'"${RED}out 1${OFF}"$'\n'"${RED}err 1${OFF}"
}

@test "--color=always: the palette has no red and cycles by job number" {
	run fp -k --color=always --tag echo ::: 1 2 3 4 5 6 7 8 9 10 11
	assert_success
	assert_output "$(n=0; for c in 32 33 34 35 36 92 93 94 95 96 32; do
		n=$((n + 1)); printf '\e[%sm%s\e[0m\t%s\n' "$c" "$n" "$n"; done)"
}

@test "--color and --color=auto colour nothing when stdout is not a terminal" {
	run --separate-stderr fp --color --tag echo ::: a
	assert_success
	assert_output $'a\ta'
	run --separate-stderr fp --color=auto --tag echo ::: a
	assert_success
	assert_output $'a\ta'
}

@test "--color=auto colours a terminal unless NO_COLOR is set and not empty" {
	run in_tty env -u NO_COLOR "$FP_BIN" --color --tag echo ::: a
	assert_output "${GREEN}a${OFF}"$'\ta'
	run in_tty env NO_COLOR= "$FP_BIN" --color=auto --tag echo ::: a
	assert_output "${GREEN}a${OFF}"$'\ta'
	run in_tty env NO_COLOR=1 "$FP_BIN" --color --tag echo ::: a
	assert_output $'a\ta'
}

@test "--color=auto: stdout a terminal, stderr a file: only stdout is coloured" {
	run in_tty env -u NO_COLOR bash -c '"$FP_BIN" --color "$JOB" 0 0 ::: a 2>err' </dev/null
	assert_output "${GREEN}out 0${OFF}"
	run cat err
	assert_output 'err 0'
}

@test "--color=auto: stderr a terminal, stdout a file: only stderr is coloured" {
	run in_tty env -u NO_COLOR bash -c '"$FP_BIN" --color "$JOB" 0 0 ::: a >out' </dev/null
	assert_output "${GREEN}err 0${OFF}"
	run cat out
	assert_output 'out 0'
}

@test "--color=always colours even with NO_COLOR; --color=never and no --color never do" {
	run env NO_COLOR=1 "$FP_BIN" --color=always --tag echo ::: a
	assert_output "${GREEN}a${OFF}"$'\ta'
	run in_tty env -u NO_COLOR "$FP_BIN" --color=never --tag echo ::: a
	assert_output $'a\ta'
	run in_tty env -u NO_COLOR "$FP_BIN" --tag echo ::: a
	assert_output $'a\ta'
}

@test "--color: a bad value, or colour with -u, is a usage error (255)" {
	run --separate-stderr fp --color=sometimes echo ::: a
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: --color sometimes: must be auto, always or never'
	run --separate-stderr fp --color -u echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --color cannot be used with -u: forkpool does not see the output'
	run --separate-stderr fp --tty --color=always echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --color cannot be used with --tty unless --group or --line-buffer is given: --tty passes output straight through'
	run --separate-stderr fp -u --color=never echo ::: a
	assert_success
	assert_output 'a'
}

# --- --summary -----------------------------------------------------------------

# A summary's time line: wall time, then the jobs' CPU time.
TIME_LINE='^forkpool: time: [0-9]+\.[0-9]{3} s wall, [0-9]+\.[0-9]{3} s CPU \(user\+system\)$'

@test "--summary: counts, failed jobs with their status, times, on stderr" {
	run --separate-stderr fp -k --summary "$QUIET" ::: 0 1 0 2
	assert_failure 2
	assert_output ''
	assert_equal "${stderr_lines[0]}" 'forkpool: summary: 4 jobs, 2 succeeded, 2 failed; 0 input records rejected'
	assert_equal "${stderr_lines[1]}" "forkpool: failed: job 2, exit 1: $QUIET 1"
	assert_equal "${stderr_lines[2]}" "forkpool: failed: job 4, exit 2: $QUIET 2"
	assert_regex "${stderr_lines[3]}" "$TIME_LINE"
	assert_regex "${stderr_lines[4]}" '^forkpool: slowest: job [1-4], [0-9]+\.[0-9]{3} s: '
	assert_regex "${stderr_lines[8]}" '^forkpool: peak RSS: job [1-4], [0-9]+ kB: '
	assert_equal "${#stderr_lines[@]}" 9
}

@test "--summary: a run where all succeeds lists no failed job" {
	run --separate-stderr fp --summary "$QUIET" ::: 0
	assert_success
	assert_equal "${stderr_lines[0]}" 'forkpool: summary: 1 job, 1 succeeded, 0 failed; 0 input records rejected'
	assert_regex "${stderr_lines[1]}" "$TIME_LINE"
	assert_regex "${stderr_lines[2]}" "^forkpool: slowest: job 1, [0-9]+\.[0-9]{3} s: $QUIET 0\$"
	assert_regex "${stderr_lines[3]}" "^forkpool: peak RSS: job 1, [0-9]+ kB: $QUIET 0\$"
	assert_equal "${#stderr_lines[@]}" 4
}

@test "--summary --retries: the CPU time counts every attempt, failed ones too" {
	# attempt 1 burns CPU for 1 s and fails; attempt 2 succeeds at once
	run --separate-stderr fp --summary --retries 2 \
		': {}; test -e ff && exit 0; touch ff; timeout 1 sh -c "while :; do :; done"; exit 1' ::: x
	assert_success
	assert_equal "${stderr_lines[0]}" 'forkpool: summary: 1 job, 1 succeeded, 0 failed; 0 input records rejected'
	assert_regex "${stderr_lines[1]}" "$TIME_LINE"
	local cpu
	cpu=$(sed 's/.* wall, \([0-9.]*\) s CPU.*/\1/' <<<"${stderr_lines[1]}")
	awk -v c="$cpu" 'BEGIN { exit !(c >= 0.3) }' || fail "CPU time $cpu s, below the 0.3 s the first attempt used"
}

@test "--summary: the 5 slowest jobs, slowest first" {
	run --separate-stderr fp -j6 --summary "$QUIET" 0 ::: 0.4 0 1 0.2 0.6 0.8
	assert_success
	run printf '%s\n' "${stderr_lines[@]}"
	run sed -n 's/^forkpool: slowest: job \([0-9]*\), [0-9.]* s: .* 0 \(.*\)$/\1 \2/p' <<<"$output"
	assert_output $'3 1\n6 0.8\n5 0.6\n1 0.4\n4 0.2'
}

@test "--summary: the job with the highest peak RSS" {
	run --separate-stderr fp -j1 --summary {} ::: true "$BIG" true
	assert_success
	run printf '%s\n' "${stderr_lines[@]}"
	assert_line --regexp "^forkpool: peak RSS: job 2, [0-9]+ kB: $BIG\$"
	local kb
	kb=$(sed -n 's/^forkpool: peak RSS: job 2, \([0-9]*\) kB.*/\1/p' <<<"$output")
	[ "$kb" -ge 30000 ] || fail "peak RSS $kb kB, below the 30 MB the job held"
}

@test "--summary: signals, time-outs and rejected records" {
	run --separate-stderr fp -k -s 30 --timeout 0.2 --summary sh -c {} ::: 'kill -9 $$' 'sleep 5' \
		"$(printf 'x%.0s' $(seq 40))" 'exit 0'
	assert_failure 3
	assert_equal "${stderr_lines[0]}" 'forkpool: input record 3: too long for a command line of 30 bytes'
	assert_equal "${stderr_lines[1]}" 'forkpool: summary: 3 jobs, 1 succeeded, 2 failed; 1 input record rejected'
	assert_equal "${stderr_lines[2]}" "forkpool: failed: job 1, signal 9: sh -c 'kill -9 \$\$'"
	assert_equal "${stderr_lines[3]}" "forkpool: failed: job 2, timed out, signal 15: sh -c 'sleep 5'"
}

@test "--summary: a command's control bytes are escaped, so that it is one line" {
	run --separate-stderr fp --summary "$QUIET" 1 0 ::: $'a\nb'
	assert_failure 1
	assert_equal "${stderr_lines[1]}" "forkpool: failed: job 1, exit 1: $QUIET 1 0 'a\\nb'"
}

@test "--summary is printed when --halt ends the run" {
	run --separate-stderr fp -k -j2 --halt now,fail=1 --summary "$QUIET" ::: 3 0 :::+ 0 5
	assert_failure 3
	assert_equal "${stderr_lines[0]}" "forkpool: --halt: job 1 failed (exit 3); ending the running jobs: $QUIET 3 0"
	assert_equal "${stderr_lines[1]}" 'forkpool: summary: 2 jobs, 0 succeeded, 2 failed; 0 input records rejected'
	assert_equal "${stderr_lines[2]}" "forkpool: failed: job 1, exit 3: $QUIET 3 0"
	assert_equal "${stderr_lines[3]}" "forkpool: failed: job 2, interrupted, signal 15: $QUIET 0 5"
}

@test "--summary is printed when forkpool is ended by a signal" {
	start_fp --summary -j2 "$QUIET" 0 ::: 0 5 5
	sleep 1
	kill -TERM "$FP_PID"
	finish_fp
	assert_equal "$FP_STATUS" 143
	run cat err
	assert_line 'forkpool: summary: 3 jobs, 1 succeeded, 2 failed; 0 input records rejected'
	assert_line "forkpool: failed: job 2, interrupted, signal 15: $QUIET 0 5"
	assert_line "forkpool: failed: job 3, interrupted, signal 15: $QUIET 0 5"
}

@test "--summary: memory stays flat however many jobs fail" {
	skip_if_sanitized "ASan's shadow memory alone is over the 16 MiB bound"
	local arg
	arg=$(head -c 4000 /dev/zero | tr '\0' y)
	# 5000 failed commands of 4 kB each: 20 MB if they were held
	run bash -c 'seq 5000 | /usr/bin/time -f %M -o rss "$FP_BIN" -j4 --summary false "$1" 2>err; echo "exit $?"; grep -c "^forkpool: failed: " err; tail -n 1 rss' _ "$arg"
	assert_line --index 0 'exit 101'
	assert_line --index 1 5000
	(( ${lines[2]} < 16384 )) || fail "peak RSS ${lines[2]} kB"
}

@test "--summary with a --tmpdir that cannot be used: failed jobs are counted, not listed" {
	run --separate-stderr fp --tmpdir nosuchdir --summary "$QUIET" ::: 1 2
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "forkpool: cannot create a file for --summary in nosuchdir: No such file or directory"
	assert_equal "${stderr_lines[1]}" 'forkpool: summary: 2 jobs, 0 succeeded, 2 failed; 0 input records rejected'
	assert_equal "${stderr_lines[2]}" 'forkpool: failed: 2 jobs not listed'
	assert_regex "${stderr_lines[3]}" "$TIME_LINE"
	assert_equal "${#stderr_lines[@]}" 7
}
