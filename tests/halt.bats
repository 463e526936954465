#!/usr/bin/env bats
# --halt now|soon,fail|success|done=N|N%: stopping early, the exit status it
# sets and the message naming the job that triggered it.

bats_require_minimum_version 1.5.0
load helper

setup_file() {
	# ex CODE: leave the marker ran.SEQ, then exit with CODE (K: kill itself
	# with SIGKILL)
	mkbin ex ': >"ran.$FORKPOOL_SEQ"
[ "$1" != K ] || kill -9 $$
exit "$1"'
	# sv slow|fail|third: "slow" records its process group, marks itself
	# started, sleeps 1 s and says "slow done"; "fail" waits until slow has
	# started, says "fail" and exits 3; "third" says "third".
	mkbin sv 'case $1 in
slow) echo $$ >slow.pgid; : >slow.started; sleep 1; echo "slow done" ;;
fail) i=0
	while [ ! -e slow.started ] && [ $i -lt 60 ]; do sleep 0.05; i=$((i + 1)); done
	echo fail; exit 3 ;;
*) echo "$1" ;;
esac'
	mkbin sleeper 'sleep "$1"; echo "$1"'
	export EX="$BATS_FILE_TMPDIR/bin/ex" SV="$BATS_FILE_TMPDIR/bin/sv"
	export SLEEPER="$BATS_FILE_TMPDIR/bin/sleeper"
}

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	kill_leftovers
}

# --- fail ------------------------------------------------------------------------

@test "--halt now,fail=1: exit status is the failed job's code and no later job starts" {
	run --separate-stderr fp -j1 --halt now,fail=1 "$EX" ::: 0 7 0 0
	assert_failure 7
	assert_output ''
	assert_equal "$stderr" "forkpool: --halt: job 2 failed (exit 7); ending the running jobs: $EX 7"
	assert_equal "$(ran)" '1 2'
}

@test "--halt soon,fail=1: the same status, and the message says it waits" {
	run --separate-stderr fp -j1 --halt soon,fail=1 "$EX" ::: 0 7 0 0
	assert_failure 7
	assert_output ''
	assert_equal "$stderr" "forkpool: --halt: job 2 failed (exit 7); waiting for the running jobs: $EX 7"
	assert_equal "$(ran)" '1 2'
}

@test "--halt soon,fail=2: the second failure halts, with its code" {
	run --separate-stderr fp -j1 --halt soon,fail=2 "$EX" ::: 3 0 5 0
	assert_failure 5
	assert_output ''
	assert_equal "$stderr" "forkpool: --halt: job 3 failed (exit 5); waiting for the running jobs: $EX 5"
	assert_equal "$(ran)" '1 2 3'
}

@test "--halt now: the running job is ended (whole process group, no output, no joblog row)" {
	require_cmd pgrep
	run --separate-stderr fp -j2 --halt now,fail=1 --joblog jl "$SV" ::: slow fail third
	assert_failure 3
	assert_output 'fail'
	assert_equal "$stderr" "forkpool: --halt: job 2 failed (exit 3); ending the running jobs: $SV fail"
	run pgrep -g "$(cat slow.pgid)"
	assert_failure 1
	run bash -c "tail -n +2 jl | cut -f 1,7,8,9"
	assert_output "$(printf '2\t3\t0\t%s fail' "$SV")"
}

@test "--halt soon: the running job finishes and prints; no new job starts" {
	run --separate-stderr fp -j2 --halt soon,fail=1 "$SV" ::: slow fail third
	assert_failure 3
	assert_output $'fail\nslow done'
	assert_equal "$stderr" "forkpool: --halt: job 2 failed (exit 3); waiting for the running jobs: $SV fail"
}

@test "--halt now,fail=1: a job killed by a signal, or timed out, gives 128+signal" {
	run --separate-stderr fp -j1 --halt now,fail=1 "$EX" ::: 0 K 0
	assert_failure 137
	assert_output ''
	assert_equal "$stderr" "forkpool: --halt: job 2 failed (exit 137); ending the running jobs: $EX K"
	assert_equal "$(ran)" '1 2'
	# the first TERM of the termination sequence ends the sleeper
	run --separate-stderr fp -j1 --timeout 0.3 --halt now,fail=1 "$SLEEPER" ::: 5 0
	assert_failure 143
	assert_output ''
	assert_equal "$stderr" "forkpool: --halt: job 1 timed out (exit 143); ending the running jobs: $SLEEPER 5"
}

# --- success and done ------------------------------------------------------------

@test "--halt now,success=1 and success=60%: the success that meets it halts with exit 0" {
	run --separate-stderr fp -j1 --halt now,success=1 "$EX" ::: 3 0 5
	assert_success
	assert_output ''
	assert_equal "$stderr" "forkpool: --halt: job 2 succeeded (exit 0); ending the running jobs: $EX 0"
	assert_equal "$(ran)" '1 2'
	rm -f ran.*
	# after job 3: 2 of 3 succeeded
	run --separate-stderr fp -j1 --halt now,success=60% "$EX" ::: 1 0 0 1 0
	assert_success
	assert_equal "$stderr" "forkpool: --halt: job 3 succeeded (exit 0); ending the running jobs: $EX 0"
	assert_equal "$(ran)" '1 2 3'
}

@test "--halt soon,done=2: the second finished job halts, with its code" {
	run --separate-stderr fp -j1 --halt soon,done=2 "$EX" ::: 0 4 0 0
	assert_failure 4
	assert_output ''
	assert_equal "$stderr" "forkpool: --halt: job 2 failed (exit 4); waiting for the running jobs: $EX 4"
	assert_equal "$(ran)" '1 2'
	rm -f ran.*
	run --separate-stderr fp -j1 --halt soon,done=2 "$EX" ::: 4 0 0
	assert_success
	assert_equal "$stderr" "forkpool: --halt: job 2 succeeded (exit 0); waiting for the running jobs: $EX 0"
	assert_equal "$(ran)" '1 2'
}

# --- N% ----------------------------------------------------------------------------

@test "--halt now,fail=50%: halts once half of the finished jobs failed" {
	# after job 4: 2 of 4 failed
	run --separate-stderr fp -j1 --halt now,fail=50% "$EX" ::: 0 1 0 2 0 0
	assert_failure 2
	assert_output ''
	assert_equal "$stderr" "forkpool: --halt: job 4 failed (exit 2); ending the running jobs: $EX 2"
	assert_equal "$(ran)" '1 2 3 4'
}

@test "--halt N%: not checked before 3 jobs have finished" {
	# 1 of 1 and 2 of 2 failed, but the later jobs succeed: no halt
	run --separate-stderr fp -j1 --halt now,fail=50% "$EX" ::: 1 1 0 0
	assert_failure 2
	assert_output ''
	assert_equal "$stderr" ''
	assert_equal "$(ran)" '1 2 3 4'
}

# --- short forms and errors ----------------------------------------------------------

@test "--halt 2 is now,fail=1, --halt 1 is soon,fail=1, --halt 0 and never do not halt" {
	run --separate-stderr fp -j1 --halt 2 "$EX" ::: 0 6 0
	assert_failure 6
	assert_equal "$stderr" "forkpool: --halt: job 2 failed (exit 6); ending the running jobs: $EX 6"
	assert_equal "$(ran)" '1 2'
	rm -f ran.*
	run --separate-stderr fp -j1 --halt 1 "$EX" ::: 0 6 0
	assert_failure 6
	assert_equal "$stderr" "forkpool: --halt: job 2 failed (exit 6); waiting for the running jobs: $EX 6"
	assert_equal "$(ran)" '1 2'
	# 0 and never: no halt
	local v
	for v in 0 never; do
		rm -f ran.*
		run --separate-stderr fp -j1 --halt "$v" "$EX" ::: 0 6 0
		assert_failure 1
		assert_equal "$stderr" ''
		assert_equal "$(ran)" '1 2 3'
	done
}

@test "--halt: invalid values are rejected with exit 255" {
	local v
	for v in bad now now,fail later,fail=1 now,oops=1 now,fail=0 now,fail=x now,fail=101%; do
		run --separate-stderr fp --halt "$v" touch ran ::: x
		assert_failure 255
		assert_output ''
		[[ $stderr == "forkpool: --halt $v: "* && $stderr != *$'\n'* ]] ||
			fail "--halt $v: unexpected diagnostic: $stderr"
	done
	assert_file_not_exists ran
}

@test "--halt now,fail=1: a rejected record is a failure and halts" {
	run --separate-stderr bash -c "printf 'a\nb\0x\nc\nd\n' | \"\$FP_BIN\" -j1 --halt now,fail=1 echo"
	assert_failure 126
	assert_output 'a'
	assert_equal "$stderr" "forkpool: input record 2: contains a NUL byte
forkpool: --halt: input record 2 rejected; ending the running jobs"
}

@test "--halt soon,fail=2: a rejected record and a failed job add up" {
	run --separate-stderr bash -c "printf '0\n%0500d\n3\n0\n' 0 | \"\$FP_BIN\" -j1 -s 100 --halt soon,fail=2 \"\$EX\""
	assert_failure 3
	assert_equal "$(ran)" '1 2'
	assert_equal "${stderr%%$'\n'*}" 'forkpool: input record 2: too long for a command line of 100 bytes'
	assert_regex "$stderr" $'\nforkpool: --halt: job 2 failed \\(exit 3\\); waiting'
}
