#!/usr/bin/env bats
# Job control: jobs that touch the terminal (--tty, SIGTTIN, SIGTTOU), and
# Ctrl-Z (SIGTSTP) and SIGCONT reaching the jobs as well as forkpool.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	kill_leftovers
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

# in_pty INPUT COMMAND: run the shell COMMAND in a new pseudo-terminal
# (its controlling terminal), with INPUT typed on it; prints what the
# terminal shows, without carriage returns.  At most 15 s.
in_pty() {
	printf '%s' "$1" | timeout -k 2 15 script -qec "$2" /dev/null | tr -d '\r'
}

# --- a job that touches the terminal ------------------------------------------------

@test "without --tty, a job that reads the terminal is reported and ended, the others run; exit 1" {
	require_cmd script
	run --separate-stderr in_pty '' '"$FP_BIN" -k -j2 --joblog jl "case {} in 1) read x </dev/tty;; esac; echo done {}" ::: 1 2 2>err; echo "status=$?"'
	assert_output $'done 2\nstatus=1'
	assert_equal "$(cat err)" 'forkpool: job 1: stopped on terminal input (SIGTTIN); ending it: --tty gives jobs the terminal'
	# ended by the termination sequence's first TERM
	run cut -f1,7,8 jl
	assert_output $'Seq\tExitval\tSignal\n1\t0\t15\n2\t0\t0'
}

@test "without --tty, a job that sets up the terminal is reported and ended; exit 1" {
	require_cmd script
	require_cmd stty
	run --separate-stderr in_pty '' '"$FP_BIN" ": {}; exec stty echo </dev/tty" ::: 1 2>err; echo "status=$?"'
	assert_output 'status=1'
	assert_equal "$(cat err)" 'forkpool: job 1: stopped on terminal output or settings (SIGTTOU); ending it: --tty gives jobs the terminal'
}

@test "--tty: jobs read the lines typed, one job at a time, in the foreground, output straight to the terminal" {
	require_cmd script
	# fields 5 and 8 of /proc/PID/stat: the process group and the
	# terminal's foreground group
	run --separate-stderr in_pty $'hello\nworld\n' '"$FP_BIN" --tty "read x; echo \"{} got \$x\"; read -r _ _ _ _ pg _ _ fg _ </proc/\$\$/stat; [ \"\$pg\" = \"\$fg\" ] && echo \"{} foreground\"; [ -t 1 ] && echo \"{} slot \$FORKPOOL_SLOT\"" ::: 1 2 2>err; echo "status=$?"'
	assert_output $'hello\nworld\n1 got hello\n1 foreground\n1 slot 1\n2 got world\n2 foreground\n2 slot 1\nstatus=0'
	assert_equal "$(cat err)" ''
}

@test "--tty with --group: the job reads the terminal, its output is held and printed whole" {
	require_cmd script
	run --separate-stderr in_pty $'hello\n' '"$FP_BIN" --tty --group "read x; [ -t 1 ] || echo \"{} got \$x\"" ::: 1 2>err; echo "status=$?"'
	assert_output $'hello\n1 got hello\nstatus=0'
	assert_equal "$(cat err)" ''
}

@test "--tty: a job stopped at the terminal (Ctrl-Z) stops forkpool; SIGCONT gives the job the foreground again" {
	require_cmd script
	# the job stops itself as Ctrl-Z would stop it; once continued, it
	# says whether its group is the terminal's foreground group
	in_pty '' '"$FP_BIN" --tty "kill -TSTP \$\$; read -r _ _ _ _ pg _ _ fg _ </proc/\$\$/stat; [ \"\$pg\" = \"\$fg\" ] && echo \"{} foreground again\"" ::: 1 2>err & echo $! >fp.pid; wait $!; echo "status=$?"' >pty.out &
	local pty=$! i
	wait_files 1 fp.pid
	for ((i = 0; i < 100; i++)); do
		[[ $(state "$(cat fp.pid)") == T ]] && break
		sleep 0.05
	done
	assert_equal "$(state "$(cat fp.pid)")" T
	kill -CONT "$(cat fp.pid)"
	wait "$pty"
	assert_equal "$(cat pty.out)" $'1 foreground again\nstatus=0'
	assert_equal "$(cat err)" ''
}

@test "--tty without a controlling terminal: exit 255 naming --tty and /dev/tty" {
	require_cmd setsid
	run --separate-stderr setsid -w "$FP_BIN" --tty touch ran ::: x </dev/null
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: --tty: /dev/tty: No such device or address'
	assert_file_not_exists ran
}

@test "--tty with -j other than 1, or with --tag and no output mode, is refused with exit 255" {
	run --separate-stderr fp --tty -j2 touch ran ::: x
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --tty runs one job at a time: -j 2 cannot be used with it'
	run --separate-stderr fp --tty --tag touch ran ::: x
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --tag cannot be used with --tty unless --group or --line-buffer is given: --tty passes output straight through'
	assert_file_not_exists ran
}

@test "the termination sequence ends a stopped job (SIGCONT after each signal)" {
	local t0 t1
	t0=$(now_ms)
	# without KILL in the sequence, only SIGCONT lets the TERM act
	run --separate-stderr timeout -k 1 20 "$FP_BIN" --joblog jl --timeout 0.3 --termseq TERM,5000 'kill -STOP $$; echo {}' ::: x
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
	finish_fp 10
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
	finish_fp 10
	assert_equal "$FP_STATUS" 0
	assert_equal "$(cat out)" 'ok x'
	assert_equal "$(cat err)" ''
	# the job itself was stopped too
	(( $(cat t1) - $(cat t0) >= 3000 )) || fail "the job ran on while forkpool was stopped"
}
