#!/usr/bin/env bats
# Job control: Ctrl-Z (SIGTSTP) and SIGCONT reaching the jobs as well as
# forkpool, and jobs that are stopped.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	kill_leftovers
}

# start_fp ARGS...: run forkpool ARGS in the background, stdin from
# /dev/null, stdout to the file out and stderr to err; FP_PID is its pid.
start_fp() {
	env --default-signal=INT "$FORKPOOL" "$@" </dev/null >out 2>err 3>&- &
	FP_PID=$!
}

# finish_fp: wait (at most 10 s) for forkpool to exit; FP_STATUS is its status.
finish_fp() {
	local i state
	for ((i = 0; i < 200; i++)); do
		state=Z
		read -r _ _ state _ 2>/dev/null <"/proc/$FP_PID/stat" || true
		[[ $state == Z ]] && break
		sleep 0.05
	done
	if [[ $state != Z ]]; then
		kill -9 "$FP_PID"
		wait "$FP_PID" || true
		fail "forkpool did not exit"
	fi
	FP_STATUS=0
	wait "$FP_PID" || FP_STATUS=$?
}

# state PID: the state letter of process PID (R, S, T, ...).
state() {
	local s
	read -r _ _ s _ <"/proc/$1/stat"
	printf '%s\n' "$s"
}

# lines FILE: the number of lines in FILE, 0 if there is none.
lines() {
	if [[ -e $1 ]]; then wc -l <"$1"; else echo 0; fi
}

# now_ms: monotonic enough milliseconds for elapsed times.
now_ms() {
	date +%s%3N
}

# --- stopped jobs -------------------------------------------------------------------

@test "the termination sequence ends a stopped job (SIGCONT after each signal)" {
	local t0 t1
	t0=$(now_ms)
	# without KILL in the sequence, only SIGCONT lets the TERM act
	run --separate-stderr timeout -k 1 20 "$FORKPOOL" --joblog jl --timeout 0.3 --termseq TERM,5000 'kill -STOP $$; echo {}' ::: x
	t1=$(now_ms)
	assert_failure 1
	assert_output ''
	assert_equal "$stderr" ''
	(( t1 - t0 < 3000 )) || fail "forkpool took $((t1 - t0)) ms"
	run cut -f7,8 jl
	assert_output $'Exitval\tSignal\n-1\t15'
}

# --- Ctrl-Z: SIGTSTP and SIGCONT -----------------------------------------------------

@test "SIGTSTP stops forkpool and its jobs, SIGCONT continues them; exit 0" {
	start_fp -j2 'echo $$ >pgid.{}; i=0; while [ $i -lt 25 ]; do i=$((i + 1)); echo $i >>count.{}; sleep 0.1; done; echo done {}' ::: a b
	wait_files 2 'count.*'
	kill -TSTP "$FP_PID"
	sleep 0.5
	assert_equal "$(state "$FP_PID")" T
	assert_equal "$(state "$(cat pgid.a)")" T
	assert_equal "$(state "$(cat pgid.b)")" T
	local a1 b1
	a1=$(lines count.a)
	b1=$(lines count.b)
	sleep 1
	# not a line more while stopped
	assert_equal "$(lines count.a)" "$a1"
	assert_equal "$(lines count.b)" "$b1"
	kill -CONT "$FP_PID"
	sleep 0.5
	(( $(lines count.a) > a1 )) || fail "job a did not go on after SIGCONT"
	(( $(lines count.b) > b1 )) || fail "job b did not go on after SIGCONT"
	finish_fp
	assert_equal "$FP_STATUS" 0
	assert_equal "$(sort out)" $'done a\ndone b'
	assert_equal "$(cat err)" ''
	assert_equal "$(lines count.a)" 25
}

@test "time stopped does not count toward --timeout: a 1 s job stopped for 3 s under --timeout 2 succeeds" {
	start_fp --timeout 2 'date +%s%3N >t0; sleep 1; date +%s%3N >t1; echo ok {}' ::: x
	wait_files 1 t0
	sleep 0.2
	kill -TSTP "$FP_PID"
	sleep 3
	assert_equal "$(state "$FP_PID")" T
	kill -CONT "$FP_PID"
	finish_fp
	assert_equal "$FP_STATUS" 0
	assert_equal "$(cat out)" 'ok x'
	assert_equal "$(cat err)" ''
	# the job itself was stopped too
	(( $(cat t1) - $(cat t0) >= 3000 )) || fail "the job ran on while forkpool was stopped"
}
