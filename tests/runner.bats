#!/usr/bin/env bats
# The event loop itself: what happens when it fails, and that its cost per
# job does not grow with the number of jobs running at once.

bats_require_minimum_version 1.5.0
load helper

setup_file() {
	# A shim that makes poll(2), epoll_wait(2) and posix_spawnp(3) fail
	# on demand.
	cc -shared -fPIC -O1 -o "$BATS_FILE_TMPDIR/fail.so" \
		"$FP_TESTS/shim/fail.c" -ldl
}

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	kill_leftovers
}

@test "an error of the event loop ends, reaps and reports every running job" {
	# The executable's own poll() would take precedence over the shim's.
	skip_if_sanitized "the sanitizer's poll() cannot be replaced"
	# job 2 finishes, its output held behind job 1 (-k); then job 3 makes
	# the loop's next wait fail
	run --separate-stderr timeout 20 env LD_PRELOAD="$BATS_FILE_TMPDIR/fail.so" \
		FP_FAILPOLL="$PWD/flag" "$FP_BIN" -k -j3 --joblog jl \
		'case {} in 2) echo two;; 3) sleep 0.5; touch flag; echo three; exec sleep 31.7;; *) exec sleep 31.7;; esac' ::: 1 2 3
	assert_failure 255
	# the finished job is printed and logged; the ones ended are neither
	assert_output 'two'
	assert_equal "$(cut -f 1,7 jl | tail -n +2)" $'2\t0'
	[[ $stderr == *'forkpool: '*'Cannot allocate memory'* ]] || fail "stderr: $stderr"
	# and nothing of jobs 1 and 3 is left running
	run pgrep -f 'sleep 31.7'
	assert_failure 1
}

@test "the event loop never polls every job's pipes: its turns cost the same at -j300 as at -j2" {
	require_cmd strace
	skip_if_sanitized "strace of a sanitized build"
	# forkpool alone is traced (no -f): the jobs are not.
	yes 0.3 | head -n 300 >in
	run strace -qq -e trace=poll,ppoll -o trace "$FP_BIN" -j300 -a in sleep
	assert_success
	# the most descriptors one poll(2) was given
	most=$(grep -oE '\], [0-9]+,' trace | grep -oE '[0-9]+' | sort -n | tail -1)
	[[ -n $most ]] || fail "no poll(2) call was traced"
	((most <= 5)) || fail "one poll(2) call watched $most descriptors"
}

@test "a retry that cannot start yet does not push aside a job already waiting to start" {
	skip_if_sanitized "the sanitizer's posix_spawnp() cannot be replaced"
	# From 0.2 s to 1.2 s no process can start (job 2 holds the flag):
	# job 4 then waits to start, and job 1 fails at 0.4 s and is retried.
	run --separate-stderr timeout 30 env LD_PRELOAD="$BATS_FILE_TMPDIR/fail.so" \
		FP_FAILSPAWN="$PWD/flag" "$FP_BIN" -j3 --retries 2 --joblog jl \
		'case {} in
		1) [ -e tried ] || { touch tried; sleep 0.4; exit 1; };;
		2) sleep 0.2; touch flag; sleep 1; rm flag;;
		3) sleep 0.3;;
		esac; echo {}' ::: 1 2 3 4 5
	assert_success
	assert_equal "$(sort -n <<<"$output" | paste -sd ' ')" '1 2 3 4 5'
	assert_equal "$(cut -f 1,7 jl | tail -n +2 | sort -n | paste -sd ' ')" \
		"$(printf '%s\t0 ' 1 2 3 4 5 | sed 's/ $//')"
}

@test "a job that outlives a --termseq without KILL is waited for without spinning" {
	require_cmd strace
	skip_if_sanitized "strace of a sanitized build"
	# ended at 0.2 s, the job ignores TERM and lives 10.5 s longer than
	# the sequence: forkpool waits for its SIGCHLD, polling a few times
	run strace -qq -e trace=poll,ppoll -o trace "$FP_BIN" --timeout 0.2 \
		--termseq TERM,100 'trap "" TERM; sleep 10.8' ::: 1
	assert_failure 1
	n=$(grep -c 'poll' trace)
	((n < 50)) || fail "$n poll(2) calls while waiting"
}
