#!/usr/bin/env bats
# Stress: trees of processes (job -> shell -> grandchild sleep) ended by
# --timeout and by Ctrl-C (SIGINT to forkpool's process group), also while
# forkpool holds output in a spill file.  Afterwards no process of any
# job's process group is left, forkpool left no child behind (alive or
# zombie: fpstress reaper adopts and names them), and the private TMPDIR
# is empty.

bats_require_minimum_version 1.5.0
load ../helper
load stress

setup_file() {
	stress_build
	# tree ID BYTES SECS: record the job's pid (its process group) in
	# pgid.ID; write BYTES bytes of output; start a shell that starts a
	# "sleep SECS" (which ignores SIGTERM when ID is odd, so that only
	# the KILL of the termination sequence ends it) and record their pids;
	# list forkpool's descriptors in fds.ID; leave ready.ID; wait.
	mkbin tree 'echo $$ >"pgid.$1"
[ "$2" = 0 ] || "$FPSTRESS" spin "$2" || exit 1
sh -c '"'"'if [ $(($1 % 2)) = 1 ]; then trap "" TERM; fi
echo $$ >"shell.$1"
sleep "$2" &
echo $! >"grand.$1"
wait'"'"' sh "$1" "$3" &
i=0
while [ ! -s "grand.$1" ] && [ $i -lt 2000 ]; do sleep 0.01; i=$((i + 1)); done
ls -l /proc/$PPID/fd/ >"fds.$1" 2>&1
: >"ready.$1"
wait'
	export TREE="$BATS_FILE_TMPDIR/bin/tree"
}

setup() {
	fp_setup
	require_cmd pgrep
	require_cmd timeout
	cd "$BATS_TEST_TMPDIR"
	mkdir tmp
}

teardown() {
	kill_leftovers
}

# start_fp ARGS...: run forkpool ARGS under fpstress reaper in the
# background (stdout to out, stderr to err, TMPDIR=tmp, a hang guard of 2
# minutes); REAPER_PID is the reaper's pid, FP_PID forkpool's.
start_fp() {
	# env: a background command starts with SIGINT ignored (see signals.bats).
	timeout 120 "$FPSTRESS" reaper fp.pid env --default-signal=INT TMPDIR="$PWD/tmp" \
		"$FP_BIN" "$@" </dev/null >out 2>err 3>&- &
	REAPER_PID=$!
	local i
	for ((i = 0; i < 1000; i++)); do
		[[ -s fp.pid ]] && break
		sleep 0.01
	done
	FP_PID=$(cat fp.pid)
}

# finish_fp: wait for the reaper; FP_STATUS is forkpool's status (99 when
# forkpool left a process behind, 124 when it hung).
finish_fp() {
	FP_STATUS=0
	wait "$REAPER_PID" || FP_STATUS=$?
}

# assert_all_gone: no process is left in the process group of any job
# that recorded one, nor any shell or grandchild it recorded, and TMPDIR
# is empty.
assert_all_gone() {
	local f pid
	for f in pgid.*; do
		[[ -e $f ]] || fail "no job recorded its process group"
		# empty when the job was ended before it wrote it
		[[ -s $f ]] || continue
		run pgrep -g "$(cat "$f")"
		assert_failure 1
		assert_output ''
	done
	for f in shell.* grand.*; do
		[[ -e $f ]] || continue
		pid=$(cat "$f")
		# empty when the job was ended before it wrote the pid
		[[ -z $pid || ! -e /proc/$pid ]] || fail "$f: process $pid is left: $(cat "/proc/$pid/stat" 2>&1)"
	done
	run ls -A tmp
	assert_output ''
}

# assert_spilled: while jobs ran, forkpool had a spill file open in tmp.
assert_spilled() {
	run grep -l "$PWD/tmp/forkpool\." fds.*
	assert_success
}

@test "--timeout ends job trees, including grandchildren that ignore SIGTERM; nothing is left" {
	start_fp -j 4 --timeout 5 "$TREE" {} 0 300 ::: 1 2 3 4
	finish_fp
	assert_equal "$FP_STATUS" 4
	assert_equal "$(cat out)" ''
	assert_equal "$(cat err)" ''
	assert_equal "$(ls ready.* | wc -l)" 4
	assert_all_gone
}

@test "--timeout with 12 MiB held in a spill file: the output is printed whole, nothing is left" {
	start_fp -j 2 --timeout 8 "$TREE" {} 6291456 300 ::: 1 2
	finish_fp
	assert_equal "$FP_STATUS" 2
	assert_equal "$(cat err)" ''
	# each timed-out job's 6 MiB, whole
	run bash -c '{ "$FPSTRESS" spin 6291456; "$FPSTRESS" spin 6291456; } | cksum'
	assert_equal "$(cksum <out)" "$output"
	assert_spilled
	assert_all_gone
}

# ctrl_c: Ctrl-C in a terminal sends SIGINT to the foreground process group:
# forkpool's, which holds no job.
ctrl_c() {
	kill -INT -- "-$FP_PID"
}

@test "Ctrl-C ends every job tree: exit 130, no output, nothing is left" {
	start_fp -j 4 "$TREE" {} 0 300 ::: 1 2 3 4 5 6
	wait_files 4 'ready.*' 60
	ctrl_c
	finish_fp
	assert_equal "$FP_STATUS" 130
	assert_equal "$(cat out)" ''
	assert_equal "$(cat err)" ''
	assert_file_not_exists pgid.5
	assert_all_gone
}

@test "Ctrl-C while 12 MiB are held in a spill file: exit 130, no output, nothing is left" {
	start_fp -j 2 "$TREE" {} 6291456 300 ::: 1 2
	wait_files 2 'ready.*' 60
	assert_spilled
	ctrl_c
	finish_fp
	assert_equal "$FP_STATUS" 130
	assert_equal "$(cat out)" ''
	assert_equal "$(cat err)" ''
	assert_all_gone
}

@test "SIGTERM with -k while 6 MiB are held: exit 143, only what the oldest job printed live, nothing is left" {
	start_fp -k -j 2 "$TREE" {} 6291456 300 ::: 1 2
	wait_files 2 'ready.*' 60
	assert_spilled
	kill -TERM "$FP_PID"
	finish_fp
	assert_equal "$FP_STATUS" 143
	assert_equal "$(cat err)" ''
	# job 1, the oldest, printed as it ran: up to its 6 MiB (the end of
	# it may still have been in the pipe); job 2's held output is dropped
	local n
	n=$(wc -c <out)
	((n > 0 && n <= 6291456)) || fail "$n bytes of output"
	run bash -c '"$FPSTRESS" spin "$1" | cmp - out' _ "$n"
	assert_success
	assert_all_gone
}

@test "Ctrl-C at random moments of runs of 300 short job trees, in each output mode: exit 130, nothing is left" {
	local round rounds ms modes=(--line-buffer -k --group -u) mode
	rounds=$(stress_size 20 4)
	for ((round = 1; round <= rounds; round++)); do
		rm -rf run && mkdir run && cd run && mkdir tmp
		mode=${modes[round % 4]}
		start_fp -j 8 "$mode" "$TREE" {} 4096 0.2 ::: $(seq 300)
		# 0 to 2 s after forkpool started: while jobs start and end
		ms=$((RANDOM % 2000))
		sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
		ctrl_c
		finish_fp
		[[ $FP_STATUS == 130 ]] || fail "round $round ($mode), Ctrl-C after $ms ms: exit $FP_STATUS: $(cat err)"
		assert_all_gone
		cd ..
	done
	stress_note "$rounds rounds"
}
