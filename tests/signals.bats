#!/usr/bin/env bats
# Signals to forkpool: SIGINT and SIGTERM end the jobs, SIGHUP drains, a
# second SIGHUP or a SIGTERM then ends them, SIGUSR1 lists the running jobs.

bats_require_minimum_version 1.5.0
load helper

setup_file() {
	# sj ID: record its pid (= its process group) in pgid.ID; with GRAND set,
	# start a background "sleep 30" and record its pid in child.ID; print
	# "start ID", leave mark.ID, wait (at most 5 s) for the file "go", print
	# "end ID".  An ID starting with q only prints "ID done" and leaves
	# mark.ID; one starting with s exits 0.15 s after the first SIGTERM.
	mkbin sj 'echo $$ >"pgid.$1"
case $1 in q*) echo "$1 done"; : >"mark.$1"; exit 0 ;; esac
case $1 in s*) trap "trap \"\" TERM; sleep 0.15; exit 1" TERM ;; esac
if [ -n "$GRAND" ]; then sleep 30 >/dev/null 2>&1 & echo $! >"child.$1"; fi
echo "start $1"
: >"mark.$1"
i=0
while [ ! -e go ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
echo "end $1"'
	export SJ="$BATS_FILE_TMPDIR/bin/sj"
}

setup() {
	fp_setup
	require_cmd pgrep
	cd "$BATS_TEST_TMPDIR"
	unset GRAND
}

teardown() {
	kill_leftovers
}

# wait_lines N FILE: wait (at most 5 s) until FILE has N lines.
wait_lines() {
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -e $2 ]] && (($(wc -l <"$2") >= $1)) && return 0
		sleep 0.05
	done
	fail "timed out waiting for $1 lines in $2"
}

# assert_groups_gone ID...: no process is left in the process groups of the
# jobs ID, and their background children (if any) are gone.
assert_groups_gone() {
	local id
	for id in "$@"; do
		assert_file_exists "pgid.$id"
		run pgrep -g "$(cat "pgid.$id")"
		assert_failure 1
		assert_output ''
		if [[ -e child.$id ]]; then
			run kill -0 "$(cat "child.$id")"
			assert_failure
		fi
	done
}

# --- SIGINT, SIGTERM ---------------------------------------------------------------

@test "SIGINT ends every job (whole process groups), prints finished jobs only, exit 130" {
	export GRAND=1
	# q ends at once and job 3 takes its slot
	start_fp -j3 "$SJ" ::: q 1 2 3 4
	wait_files 4 'mark.*'
	wait_lines 1 out
	kill -INT "$FP_PID"
	finish_fp
	assert_equal "$FP_STATUS" 130
	assert_equal "$(cat out)" 'q done'
	assert_equal "$(cat err)" ''
	assert_file_not_exists mark.4
	assert_file_exists child.1
	assert_file_exists child.3
	assert_groups_gone 1 2 3
}

@test "SIGTERM ends every job (whole process groups), prints finished jobs only, exit 143" {
	export GRAND=1
	start_fp -j3 "$SJ" ::: q 1 2 3 4
	wait_files 4 'mark.*'
	wait_lines 1 out
	kill -TERM "$FP_PID"
	finish_fp
	assert_equal "$FP_STATUS" 143
	assert_equal "$(cat out)" 'q done'
	assert_equal "$(cat err)" ''
	assert_file_not_exists mark.4
	assert_groups_gone 1 2 3
}

@test "SIGTERM with -k: a finished job held behind an ended one is printed, a held unfinished one is not" {
	# Job 1 is the oldest, so its "start 1" is printed as it comes; q ends
	# at once and is held behind job 1; s3 takes q's slot, its "start s3" is
	# held, and it outlives job 1 after the SIGTERM.
	start_fp -k -j2 "$SJ" ::: 1 q s3 4
	wait_files 3 'mark.*'
	# q has exited and forkpool has reaped it
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$(cat pgid.q)" 2>/dev/null || break
		sleep 0.05
	done
	sleep 0.2
	kill -TERM "$FP_PID"
	finish_fp
	assert_equal "$FP_STATUS" 143
	assert_equal "$(cat out)" $'start 1\nq done'
	assert_file_not_exists mark.4
	assert_groups_gone 1 s3
}

# --- SIGHUP ------------------------------------------------------------------------

@test "SIGHUP: no new job starts, the running ones finish and print, exit 129" {
	start_fp -k -j2 "$SJ" ::: 1 2 3
	wait_files 2 'mark.*'
	kill -HUP "$FP_PID"
	sleep 0.3
	: >go
	finish_fp
	assert_equal "$FP_STATUS" 129
	assert_equal "$(cat out)" $'start 1\nend 1\nstart 2\nend 2'
	assert_equal "$(cat err)" ''
	assert_file_not_exists mark.3
}

@test "SIGHUP then SIGTERM: the draining jobs are ended, exit 143" {
	export GRAND=1
	start_fp -j2 "$SJ" ::: 1 2 3
	wait_files 2 'mark.*'
	kill -HUP "$FP_PID"
	sleep 0.3
	# SIGHUP alone ended nothing
	kill -0 "$(cat pgid.1)"
	kill -0 "$(cat pgid.2)"
	kill -TERM "$FP_PID"
	finish_fp
	assert_equal "$FP_STATUS" 143
	assert_equal "$(cat out)" ''
	assert_file_not_exists mark.3
	assert_groups_gone 1 2
}

@test "a second SIGHUP ends the draining jobs, exit 129" {
	start_fp -j2 "$SJ" ::: 1 2 3
	wait_files 2 'mark.*'
	kill -HUP "$FP_PID"
	sleep 0.3
	kill -0 "$(cat pgid.1)"
	kill -HUP "$FP_PID"
	finish_fp
	assert_equal "$FP_STATUS" 129
	assert_equal "$(cat out)" ''
	assert_file_not_exists mark.3
	assert_groups_gone 1 2
}

# --- SIGUSR1 -----------------------------------------------------------------------

@test "SIGUSR1 lists the running jobs on stderr and forkpool goes on" {
	start_fp -j2 "$SJ" ::: 1 2
	wait_files 2 'mark.*'
	kill -USR1 "$FP_PID"
	wait_lines 2 err
	: >go
	finish_fp
	assert_equal "$FP_STATUS" 0
	assert_equal "$(sort out)" $'end 1\nend 2\nstart 1\nstart 2'
	# "forkpool: running: job SEQ, slot S, pid PID, T s: ARGV..."
	run grep -cE '^forkpool: running: job [0-9]+, slot [0-9]+, pid [0-9]+, [0-9]+(\.[0-9]+)? s: ' err
	assert_output 2
	run bash -c "sed -E 's/, [0-9]+(\\.[0-9]+)? s: /, T s: /' err | sort"
	assert_output "forkpool: running: job 1, slot 1, pid $(cat pgid.1), T s: $SJ 1
forkpool: running: job 2, slot 2, pid $(cat pgid.2), T s: $SJ 2"
}

@test "SIGUSR1 with no job running says so" {
	mkfifo in
	# opened for reading and writing, the fifo does not block; once this
	# end is closed, forkpool sees the end of its input
	local fd
	exec {fd}<>in
	"$FP_BIN" echo <in >out 2>err 3>&- {fd}>&- &
	FP_PID=$!
	echo a >&"$fd"
	wait_lines 1 out
	kill -USR1 "$FP_PID"
	wait_lines 1 err
	exec {fd}>&-
	finish_fp
	assert_equal "$FP_STATUS" 0
	assert_equal "$(cat out)" 'a'
	assert_equal "$(cat err)" 'forkpool: running: no job'
}

@test "a signal ignored when forkpool starts stays ignored (nohup, a background script)" {
	local sig
	for sig in HUP INT TERM; do
		rm -f out err
		(trap '' "$sig"; exec "$FP_BIN" -j1 -k 'sleep 0.3; echo {}' ::: 1 2 3 </dev/null >out 2>err 3>&-) &
		FP_PID=$!
		sleep 0.2
		kill -"$sig" "$FP_PID"
		sleep 0.3
		kill -"$sig" "$FP_PID"
		finish_fp
		assert_equal "$FP_STATUS" 0
		assert_equal "$(cat out)" $'1\n2\n3'
		assert_equal "$(cat err)" ''
	done
}

@test "SIGCHLD ignored when forkpool starts: jobs are still waited for and their status counts" {
	run bash -c "trap '' CHLD; exec \"\$FP_BIN\" -k 'echo {}; exit {}' ::: 0 3 0"
	assert_failure 1
	assert_output $'0\n3\n0'
}
