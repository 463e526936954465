#!/usr/bin/env bats
# --retries: a failed job runs again at once, in the same slot, and only its
# last attempt counts and is printed.

bats_require_minimum_version 1.5.0
load helper

setup_file() {
	# flaky ID[:K]: count its attempts in count.ID and log
	# "ID SEQ SLOT" to runs.log; print "ID attempt N" on stdout and
	# "ID err N" on stderr; succeed from attempt K on (default 3, 0: never).
	mkbin flaky 'id=${1%%:*} k=3
case $1 in *:*) k=${1#*:} ;; esac
n=$(cat "count.$id" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" >"count.$id"
echo "$id $FORKPOOL_SEQ $FORKPOOL_SLOT" >>runs.log
echo "$id attempt $n"
echo "$id err $n" >&2
[ "$k" -gt 0 ] && [ "$n" -ge "$k" ]'
	# slowfirst ID: the first attempt sleeps 5 s, the next ones are quick.
	mkbin slowfirst 'n=$(cat "count.$1" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" >"count.$1"
[ "$n" -gt 1 ] || sleep 5
echo "$1 attempt $n"'
	export FLAKY="$BATS_FILE_TMPDIR/bin/flaky" SLOWFIRST="$BATS_FILE_TMPDIR/bin/slowfirst"
}

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	kill_leftovers
}

@test "--retries 3: a job failing twice runs 3 times; only the last attempt's output is printed; exit 0" {
	run --separate-stderr fp --retries 3 "$FLAKY" ::: a
	assert_success
	assert_output 'a attempt 3'
	assert_equal "$stderr" 'a err 3'
	assert_equal "$(cat count.a)" 3
}

@test "--retries 2: the same job fails for good after 2 attempts; exit 1" {
	run --separate-stderr fp --retries 2 "$FLAKY" ::: a
	assert_failure 1
	assert_output 'a attempt 2'
	assert_equal "$stderr" 'a err 2'
	assert_equal "$(cat count.a)" 2
}

@test "without --retries, or with --retries 1, a failed job runs once" {
	run --separate-stderr fp "$FLAKY" ::: a
	assert_failure 1
	assert_output 'a attempt 1'
	assert_equal "$(cat count.a)" 1
	run --separate-stderr fp --retries 1 "$FLAKY" ::: b
	assert_failure 1
	assert_output 'b attempt 1'
	assert_equal "$(cat count.b)" 1
}

@test "--retries: a job that succeeds is not run again" {
	run --separate-stderr fp --retries 5 "$FLAKY" ::: a:1
	assert_success
	assert_output 'a attempt 1'
	assert_equal "$(cat count.a)" 1
}

@test "--retries: a failed attempt runs again at once, before the next job" {
	run --separate-stderr fp -j1 --retries 3 "$FLAKY" ::: a b:1
	assert_success
	assert_output $'a attempt 3\nb attempt 1'
	run cat runs.log
	assert_output $'a 1 1\na 1 1\na 1 1\nb 2 1'
}

@test "--retries: the attempts keep the job's slot and number while a lower slot is free" {
	# b (slot 1) ends at once; a (slot 2) fails only once b is done, so that
	# slot 1 is free when a runs again.
	local s
	s=$(mkscript slotted 'if [ "$1" = b ]; then echo "b $FORKPOOL_SEQ $FORKPOOL_SLOT" >>runs.log; exit 0; fi
i=0
while [ ! -e runs.log ] && [ $i -lt 60 ]; do sleep 0.05; i=$((i + 1)); done
[ -e count ] || sleep 0.3
echo x >>count
echo "a $FORKPOOL_SEQ $FORKPOOL_SLOT" >>runs.log
[ "$(wc -l <count)" -ge 3 ]')
	run --separate-stderr fp -j2 --retries 3 "$s" ::: b a
	assert_success
	run cat runs.log
	assert_output $'b 1 1\na 2 2\na 2 2\na 2 2'
}

@test "--retries with --line-buffer or -k: output is held until each job's last attempt" {
	run --separate-stderr fp -j2 --line-buffer --retries 3 "$FLAKY" ::: a b
	assert_success
	assert_equal "$(sort <<<"$output")" $'a attempt 3\nb attempt 3'
	assert_equal "$(sort <<<"$stderr")" $'a err 3\nb err 3'
	rm -f count.*
	run --separate-stderr fp -j2 -k --retries 3 "$FLAKY" ::: a b
	assert_success
	assert_output $'a attempt 3\nb attempt 3'
	assert_equal "$(sort <<<"$stderr")" $'a err 3\nb err 3'
}

@test "--retries with -u: every attempt's output passes through" {
	run --separate-stderr fp -u --retries 3 "$FLAKY" ::: a
	assert_success
	assert_output $'a attempt 1\na attempt 2\na attempt 3'
	assert_equal "$stderr" $'a err 1\na err 2\na err 3'
}

@test "--retries: each job counts once in the exit status and has one joblog row, for its last attempt" {
	run --separate-stderr fp -j1 --retries 3 --joblog jl "$FLAKY" ::: a x:0 y:0 z:1
	assert_failure 2
	assert_output $'a attempt 3\nx attempt 3\ny attempt 3\nz attempt 1'
	assert_equal "$(cat count.a count.x count.y count.z)" $'3\n3\n3\n1'
	run bash -c "tail -n +2 jl | cut -f 1,7,8,9"
	assert_output "$(printf '1\t0\t0\t%s a\n2\t1\t0\t%s x:0\n3\t1\t0\t%s y:0\n4\t0\t0\t%s z:1' \
		"$FLAKY" "$FLAKY" "$FLAKY" "$FLAKY")"
}

@test "--retries: an attempt that timed out runs again" {
	run --separate-stderr fp --timeout 0.5 --retries 2 "$SLOWFIRST" ::: a
	assert_success
	assert_output 'a attempt 2'
	assert_equal "$(cat count.a)" 2
}

@test "--retries with --halt now,fail=1: a job that succeeds on a later attempt does not halt" {
	run --separate-stderr fp -j1 --halt now,fail=1 --retries 3 "$FLAKY" ::: a b:1
	assert_success
	assert_output $'a attempt 3\nb attempt 1'
	assert_equal "$stderr" $'a err 3\nb err 1'
}

@test "--retries: invalid counts are rejected with exit 255" {
	local v
	for v in 0 x -1; do
		run --separate-stderr fp --retries "$v" touch ran ::: x
		assert_failure 255
		assert_output ''
		[[ $stderr == "forkpool: --retries $v: "* && $stderr != *$'\n'* ]] ||
			fail "--retries $v: unexpected diagnostic: $stderr"
	done
	assert_file_not_exists ran
}
