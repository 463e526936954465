#!/usr/bin/env bats
# --timeout SECS and N%, and the termination sequence (--termseq) that ends a
# timed-out job's whole process group.

bats_require_minimum_version 1.5.0
load helper

setup_file() {
	# sleeper SECONDS: sleep, then print SECONDS
	mkbin sleeper 'sleep "$1"; echo "$1"'
	# sleepexit SECONDS:CODE: sleep, print the argument, exit with CODE
	mkbin sleepexit 'sleep "${1%:*}"; echo "$1"; exit "${1#*:}"'
	# trapper ID: log every SIGTERM it gets, run until killed
	mkbin trapper 'trap "echo TERM >>$1.trapped" TERM
while :; do sleep 0.05; done'
	# deaf ID: ignore SIGTERM (its children too), sleep 5 and say so
	mkbin deaf 'trap "" TERM
sleep 5
echo "$1 survived"'
	export SLEEPER="$BATS_FILE_TMPDIR/bin/sleeper" SLEEPEXIT="$BATS_FILE_TMPDIR/bin/sleepexit"
	export TRAPPER="$BATS_FILE_TMPDIR/bin/trapper" DEAF="$BATS_FILE_TMPDIR/bin/deaf"
}

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	kill_leftovers
}

# Milliseconds since the epoch.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# rows JOBLOG: "Seq Exitval Signal Command" of every row, TAB-separated, by Seq.
rows() {
	tail -n +2 "$1" | cut -f 1,7,8,9 | sort -n
}

# --- --timeout SECS ----------------------------------------------------------------

@test "--timeout: jobs running longer are ended and each counts as failed; the others succeed" {
	run --separate-stderr fp -k -j4 --timeout 0.7 --joblog jl "$SLEEPER" ::: 5 0.05 0.1 5
	assert_failure 2
	assert_output $'0.05\n0.1'
	# a timed-out job's row: Exitval -1, Signal 15 (the first TERM ended it)
	run rows jl
	assert_output "$(printf '1\t-1\t15\t%s 5\n2\t0\t0\t%s 0.05\n3\t0\t0\t%s 0.1\n4\t-1\t15\t%s 5' \
		"$SLEEPER" "$SLEEPER" "$SLEEPER" "$SLEEPER")"
}

@test "--timeout: a timed-out job's grandchild is gone and its process group is empty" {
	require_cmd pgrep
	run --separate-stderr fp --timeout 0.5 'sleep 30 & echo $! >child.{}; echo $$ >pgid.{}; sleep 30' ::: x
	assert_failure 1
	assert_output ''
	assert_file_exists child.x
	assert_file_exists pgid.x
	local child pgid
	child=$(cat child.x)
	pgid=$(cat pgid.x)
	run kill -0 "$child"
	assert_failure
	run pgrep -g "$pgid"
	assert_failure 1
	assert_output ''
}

@test "--termseq without KILL: forkpool waits until the job's whole process group is gone" {
	# The background child ignores TERM and keeps no output open: only
	# waiting for the process group tells when the job has ended.
	run --separate-stderr fp --timeout 0.3 --termseq TERM,100 \
		'(trap "" TERM; exec sleep 1) >/dev/null 2>&1 & echo $! >child.{}; sleep 30' ::: x
	assert_failure 1
	assert_output ''
	run kill -0 "$(cat child.x)"
	assert_failure
}

@test "--timeout: a job whose program exited but whose background child keeps its output open is ended too" {
	# forkpool waits for such a child as part of the job, so the job is
	# still running when its time is up.
	local t0 t1 child
	t0=$(now_ms)
	run --separate-stderr fp --timeout 0.5 'sleep 4 & echo $! >child.{}; echo hi' ::: x
	t1=$(now_ms)
	assert_output 'hi'
	(( t1 - t0 < 3000 )) || fail "forkpool took $((t1 - t0)) ms with --timeout 0.5"
	assert_failure 1
	child=$(cat child.x)
	run kill -0 "$child"
	assert_failure
}

@test "--timeout: invalid values are rejected with exit 255" {
	local v
	for v in abc -1 '' 5x 1h-2m 1.5.2s s 1e3 ' 5' 5s' ' 0x10 inf; do
		run --separate-stderr fp --timeout "$v" touch ran ::: x
		assert_failure 255
		assert_output ''
		assert_equal "$stderr" "forkpool: --timeout $v: not a duration such as 90, 1.5s or 1d2h3m4.5s"
	done
	for v in 1000000001 11575d 99999999999999999999999h; do
		run --separate-stderr fp --timeout "$v" touch ran ::: x
		assert_failure 255
		assert_output ''
		assert_equal "$stderr" "forkpool: --timeout $v: too large (1000000000 seconds at most)"
	done
	for v in 0 x%; do
		run --separate-stderr fp --timeout "$v" touch ran ::: x
		assert_failure 255
		assert_output ''
		[[ $stderr == "forkpool: --timeout $v: "* && $stderr != *$'\n'* ]] ||
			fail "--timeout $v: unexpected diagnostic: $stderr"
	done
	assert_file_not_exists ran
}

@test "--timeout with time units: 0m0.5s ends a 5 s job, 1d2h3m4.5s and 1M (units in either case) let short ones finish" {
	local t0 t1
	t0=$(now_ms)
	run --separate-stderr fp -k --timeout 0m0.5s "$SLEEPER" ::: 5
	t1=$(now_ms)
	assert_failure 1
	assert_output ''
	((t1 - t0 < 3000)) || fail "the job ran $((t1 - t0)) ms"
	run --separate-stderr fp -k --timeout 1d2h3m4.5s "$SLEEPER" ::: 0.1 0
	assert_success
	assert_output $'0.1\n0'
	run --separate-stderr fp -k --timeout 1M "$SLEEPER" ::: 0.1
	assert_success
	assert_output '0.1'
	assert_equal "$stderr" ''
}

# --- --timeout N% ------------------------------------------------------------------

@test "--timeout N%: no timeout before the first success, then a much slower job is killed" {
	# job 1 runs 0.5 s with no limit; after job 2 the median is 0.05 s, so
	# job 3 (2 s) is ended after 0.1 s.
	run --separate-stderr fp -j1 --timeout 200% --joblog jl "$SLEEPER" ::: 0.5 0.05 2
	assert_failure 1
	assert_output $'0.5\n0.05'
	run rows jl
	assert_output "$(printf '1\t0\t0\t%s 0.5\n2\t0\t0\t%s 0.05\n3\t-1\t15\t%s 2' \
		"$SLEEPER" "$SLEEPER" "$SLEEPER")"
}

@test "--timeout N%: only successful jobs make the median" {
	# Counting the three quick failures, the median would be 0.01 s and the
	# last job would time out; the success alone gives 0.3 s, a limit of 0.9 s.
	run --separate-stderr fp -j1 --timeout 300% "$SLEEPEXIT" ::: 0.3:0 0.01:1 0.01:1 0.01:1 0.4:0
	assert_failure 3
	assert_output $'0.3:0\n0.01:1\n0.01:1\n0.01:1\n0.4:0'
}

# --- --termseq ---------------------------------------------------------------------

@test "--termseq: a job that traps TERM is ended by the later KILL" {
	run --separate-stderr fp --timeout 0.3 --termseq TERM,500,KILL,25 --joblog jl "$TRAPPER" ::: a
	assert_failure 1
	assert_output ''
	# the TERM step reached the job, which lived on
	run grep -c '^TERM$' a.trapped
	assert_success
	run rows jl
	assert_output "$(printf '1\t-1\t9\t%s a' "$TRAPPER")"
}

@test "--termseq: the default sequence ends a job that ignores TERM with KILL" {
	run --separate-stderr fp --timeout 0.2 --joblog jl "$DEAF" ::: a
	assert_failure 1
	assert_output ''
	run rows jl
	assert_output "$(printf '1\t-1\t9\t%s a' "$DEAF")"
}

@test "--termseq: the sequence stops as soon as the process group is gone" {
	local t0 t1
	t0=$(now_ms)
	run --separate-stderr fp --timeout 0.2 --termseq TERM,4000,KILL,25 --joblog jl "$SLEEPER" ::: 5
	t1=$(now_ms)
	assert_failure 1
	assert_output ''
	(( t1 - t0 < 3000 )) || fail "forkpool waited $((t1 - t0)) ms after the group was gone"
	run rows jl
	assert_output "$(printf '1\t-1\t15\t%s 5' "$SLEEPER")"
}

@test "--termseq: signals by name, with or without SIG, or by number" {
	local seq
	for seq in USR1,300,KILL,25 SIGUSR1,300,SIGKILL,25 10,300,9,25; do
		rm -f jl
		run --separate-stderr fp --timeout 0.1 --termseq "$seq" --joblog jl "$SLEEPER" ::: 5
		assert_failure 1
		assert_output ''
		run rows jl
		assert_output "$(printf '1\t-1\t10\t%s 5' "$SLEEPER")"
	done
}

@test "--termseq: a bad signal is rejected with exit 255" {
	local v
	for v in TERM,100,NOPE,10:NOPE SIGNOPE,10:SIGNOPE 99,10:99; do
		run --separate-stderr fp --termseq "${v%:*}" touch ran ::: x
		assert_failure 255
		assert_output ''
		assert_equal "$stderr" "forkpool: --termseq ${v%:*}: ${v##*:}: not a signal"
	done
	run --separate-stderr fp --termseq TERM,abc touch ran ::: x
	assert_failure 255
	assert_output ''
	[[ $stderr == 'forkpool: --termseq TERM,abc: '* && $stderr != *$'\n'* ]] ||
		fail "unexpected diagnostic: $stderr"
	assert_file_not_exists ran
}

# The template of a job that starts a grandchild in a session of its own,
# holding the job's stdout, and records its pid in daemon.pid.  Not bats's
# fd 3, which jobs inherit: bats would wait for the grandchild.
DAEMON='setsid sh -c "echo \$\$ >daemon.pid; exec sleep 60" 3>&- & '

@test "--timeout: a setsid grandchild that keeps stdout open does not hold the job" {
	local t0 t1
	t0=$(now_ms)
	run --separate-stderr timeout 30 "$FP_BIN" --timeout 1 "$DAEMON"'sleep 300; : {}' ::: 1
	t1=$(now_ms)
	assert_failure 1
	assert_output ''
	((t1 - t0 < 10000)) || fail "took $((t1 - t0)) ms"
	kill "$(cat daemon.pid)"
}

@test "a job that exits while a setsid grandchild keeps stdout open is finished, its output whole" {
	local t0 t1
	t0=$(now_ms)
	run --separate-stderr timeout 30 "$FP_BIN" -k "$DAEMON"'seq 3; echo {}' ::: a b
	t1=$(now_ms)
	assert_success
	assert_output $'1\n2\n3\na\n1\n2\n3\nb'
	((t1 - t0 < 10000)) || fail "took $((t1 - t0)) ms"
	kill "$(cat daemon.pid)"
}

@test "SIGTERM ends a run whose job has a setsid grandchild holding stdout" {
	env "$FP_BIN" "$DAEMON"'sleep 300; : {}' ::: 1 </dev/null >out 2>err 3>&- &
	local pid=$! i
	for ((i = 0; i < 100; i++)); do [[ -s daemon.pid ]] && break; sleep 0.05; done
	kill -TERM "$pid"
	for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	kill -0 "$pid" 2>/dev/null && { kill -9 "$pid"; fail "forkpool still runs 5 s after SIGTERM"; }
	local status=0
	wait "$pid" || status=$?
	assert_equal "$status" 143
	kill "$(cat daemon.pid)"
}
