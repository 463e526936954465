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
	export JOB="$BATS_FILE_TMPDIR/bin/job" FLAKY="$BATS_FILE_TMPDIR/bin/flaky"
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
