#!/usr/bin/env bats
# The options forkpool takes from xargs: -p (ask before each command), -o
# (jobs read the terminal), --process-slot-var and --xargs-status.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR" || return
	# Short names for the prompts: the scripts are found on the PATH.
	mkscript exitwith 'exit "$1"' >/dev/null
	mkscript readecho 'read -r x; echo "$1: $x"' >/dev/null
	# exit 255 for 2, killed by SIGKILL for 9, else exit $1
	mkscript xjob 'echo "$1"; [ "$1" = 9 ] && kill -9 $$; [ "$1" = 2 ] && exit 255; exit "$1"' >/dev/null
	PATH=$BATS_TEST_TMPDIR/bin:$PATH
}

teardown() {
	kill_leftovers
}

# on_tty INPUT COMMAND: run the shell COMMAND on a new pseudo-terminal (its
# controlling terminal) with echo off, then type INPUT on it; prints what
# the terminal shows, without carriage returns.  INPUT is typed only once
# echo is off, so that the terminal shows the prompts and the output
# alone.  At most 15 s.
on_tty() {
	rm -f tty.ready
	{
		while [[ ! -e tty.ready ]]; do sleep 0.02; done
		printf '%s' "$1"
	} | timeout -k 2 15 script -qec "stty -echo; : >tty.ready; $2" /dev/null |
		tr -d '\r'
}

# --- -p, --interactive ---------------------------------------------------------

@test "-p: asks on the terminal before each command; y, Y and yes run it, n and an empty answer skip it; exit 0" {
	require_cmd script
	run --separate-stderr on_tty $'y\nn\nY\n\nyes\n' \
		'"$FP_BIN" -p echo ::: a b c d e 2>err; echo "status=$?"'
	assert_output $'echo a ?...a\necho b ?...echo c ?...c\necho d ?...echo e ?...e\nstatus=0'
	# stderr is not the terminal: the commands run are printed there, as -t
	assert_equal "$(cat err)" $'echo a\necho c\necho e'
}

@test "-p: with stderr on the terminal, each command is shown once, in its prompt" {
	require_cmd script
	run --separate-stderr on_tty $'y\nn\n' '"$FP_BIN" --interactive echo ::: a b; echo "status=$?"'
	assert_output $'echo a ?...a\necho b ?...status=0'
}

@test "-p: a skipped command is not a failed job and has no joblog row" {
	require_cmd script
	run --separate-stderr on_tty $'n\ny\n' \
		'"$FP_BIN" -p --joblog jl exitwith ::: 3 0 2>err; echo "status=$?"'
	assert_output $'exitwith 3 ?...exitwith 0 ?...status=0'
	run cut -f1,7 jl
	assert_output $'Seq\tExitval\n2\t0'
}

@test "-p: end of file on the terminal (Ctrl-D) runs nothing more; exit 255" {
	require_cmd script
	run --separate-stderr on_tty $'y\n\x04' '"$FP_BIN" -p echo ::: a b c 2>err; echo "status=$?"'
	assert_output $'echo a ?...a\necho b ?...status=255'
	assert_equal "$(cat err)" $'echo a\nforkpool: -p: end of file on /dev/tty; starting no more jobs'
}

@test "-p without a controlling terminal: exit 255 naming -p and /dev/tty, nothing run" {
	run --separate-stderr setsid -w "$FP_BIN" -p touch ran ::: x </dev/null
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: -p: /dev/tty: No such device or address'
	assert_file_not_exists ran
}

@test "-p runs one job at a time: -j other than 1 is refused, -j 1 is accepted" {
	run --separate-stderr fp -p -j2 echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: -p runs one job at a time: -j 2 cannot be used with it'
	run --separate-stderr fp --interactive -j 3 echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --interactive runs one job at a time: -j 3 cannot be used with it'
	run --separate-stderr setsid -w "$FP_BIN" -p -j1 echo ::: a </dev/null
	assert_failure 255
	assert_equal "$stderr" 'forkpool: -p: /dev/tty: No such device or address'
}

@test "-p --dry-run prints the commands and asks nothing" {
	run --separate-stderr setsid -w "$FP_BIN" -p --dry-run echo ::: a b </dev/null
	assert_success
	assert_output $'echo a\necho b'
}

# --- -o, --open-tty ------------------------------------------------------------

@test "-o: each job reads the terminal as stdin, in the foreground, one at a time, output straight through" {
	require_cmd script
	# fields 5 and 8 of /proc/PID/stat: the process group and the
	# terminal's foreground group
	run --separate-stderr on_tty $'hello\nworld\n' '"$FP_BIN" -o "read x; echo \"{} got \$x\"; read -r _ _ _ _ pg _ _ fg _ </proc/\$\$/stat; [ \"\$pg\" = \"\$fg\" ] && echo \"{} foreground\"; [ -t 1 ] && echo \"{} stdout\"" ::: 1 2 2>err; echo "status=$?"'
	assert_output $'1 got hello\n1 foreground\n1 stdout\n2 got world\n2 foreground\n2 stdout\nstatus=0'
	assert_equal "$(cat err)" ''
}

@test "--open-tty is -o" {
	require_cmd script
	run --separate-stderr on_tty $'typed\n' '"$FP_BIN" --open-tty readecho ::: 1; echo "status=$?"'
	assert_output $'1: typed\nstatus=0'
}

@test "-o: -j other than 1 is refused naming -o; no terminal: exit 255 naming it" {
	run --separate-stderr fp -o -j2 echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: -o runs one job at a time: -j 2 cannot be used with it'
	run --separate-stderr fp --open-tty -j 4 echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --open-tty runs one job at a time: -j 4 cannot be used with it'
	run --separate-stderr setsid -w "$FP_BIN" --open-tty touch ran ::: x </dev/null
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --open-tty: /dev/tty: No such device or address'
	assert_file_not_exists ran
}

@test "-o with -p: the answer and the job both read the terminal" {
	require_cmd script
	run --separate-stderr on_tty $'y\nfor 1\nn\ny\nfor 3\n' \
		'"$FP_BIN" -o -p readecho ::: 1 2 3 2>err; echo "status=$?"'
	assert_output $'readecho 1 ?...1: for 1\nreadecho 2 ?...readecho 3 ?...3: for 3\nstatus=0'
}

# --- --process-slot-var --------------------------------------------------------

# slotjob N: wait (at most 5 s) until jobs 1 and 2 both run, so that they
# hold two slots, then print N, $S and $FORKPOOL_SLOT.
mkslotjob() {
	mkscript slotjob 'touch "go.$1"; i=0
while { [ ! -e go.1 ] || [ ! -e go.2 ]; } && [ $i -lt 250 ]; do sleep 0.02; i=$((i + 1)); done
echo "$1 $S $FORKPOOL_SLOT"' >/dev/null
}

@test "-I STR, -i or --replace that the command does not use: each record runs the command with no value, as xargs" {
	run -0 fp -k -I{} echo x < <(printf 'a\nb\n')
	assert_output $'x\nx'
	run -0 fp -k -I@ echo x {} ::: a b
	assert_output $'x {}\nx {}'
	run -0 fp -k -i echo x < <(printf 'a\nb\n')
	assert_output $'x\nx'
	run -0 fp -k --replace=@@ -q printf '[%s]' y < <(printf 'a\n')
	assert_output '[y]'
	run -0 fp -k -I{} echo {#} < <(printf 'a\nb\n')
	assert_output $'1\n2'
	# Without -I the values are still appended, as in GNU parallel.
	run -0 fp -k echo x ::: a
	assert_output 'x a'
}

@test "--process-slot-var NAME: each job's slot from 0, as xargs, beside FORKPOOL_SLOT from 1" {
	mkslotjob
	run --separate-stderr fp -k -j2 --process-slot-var S slotjob ::: 1 2
	assert_success
	assert_output $'1 0 1\n2 1 2'
	run --separate-stderr fp -k -j1 --process-slot-var=S echo '$S' ::: a b
	assert_success
	assert_output $'0 a\n0 b'
}

@test "--process-slot-var replaces an inherited variable of that name" {
	mkscript showenv 'env | grep -c "^S="; echo "$S"' >/dev/null
	run --separate-stderr env S=inherited "$FP_BIN" -j1 --process-slot-var S showenv ::: a
	assert_success
	assert_output $'1\n0'
}

@test "--process-slot-var: an empty name, a name with =, or one of forkpool's own is refused; exit 255" {
	run --separate-stderr fp --process-slot-var '' echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --process-slot-var: the name is empty'
	run --separate-stderr fp --process-slot-var A=B echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --process-slot-var A=B: a variable name cannot contain '='"
	run --separate-stderr fp --process-slot-var FORKPOOL_SLOT echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --process-slot-var FORKPOOL_SLOT: forkpool sets that variable itself'
	assert_output ''
}

@test "--process-slot-var: the same slots as xargs -P2" {
	require_cmd xargs
	mkslotjob
	run --separate-stderr sh -c 'printf "1\n2\n" | xargs -P2 -n1 --process-slot-var=S slotjob | cut -d" " -f1,2 | sort'
	assert_success
	assert_output $'1 0\n2 1'
	rm -f go.*
	run --separate-stderr sh -c 'printf "1\n2\n" | "$FP_BIN" -j2 --process-slot-var=S slotjob | cut -d" " -f1,2 | sort'
	assert_success
	assert_output $'1 0\n2 1'
}

# --- --xargs-status ------------------------------------------------------------

@test "--xargs-status: 0 when every command succeeded" {
	run --separate-stderr fp -k --xargs-status echo ::: a b
	assert_success
	assert_output $'a\nb'
}

@test "--xargs-status: 123 when commands exited 1 to 125, or 126 and 127 themselves; every job runs" {
	run --separate-stderr fp -k -j1 --xargs-status xjob ::: 1 0 3 125 126 127 0
	assert_failure 123
	assert_output $'1\n0\n3\n125\n126\n127\n0'
	assert_equal "$stderr" ''
}

@test "--xargs-status: 124 when a command exited 255; no more jobs start, the running ones finish" {
	run --separate-stderr fp -k -j1 --xargs-status xjob ::: 0 2 3
	assert_failure 124
	assert_output $'0\n2'
	assert_equal "$stderr" 'forkpool: --xargs-status: job 2 exited with status 255; waiting for the running jobs: xjob 2'
	# the running job is not ended
	mkscript slow 'if [ "$1" = 1 ]; then sleep 0.5; echo slow; else exit 255; fi' >/dev/null
	run --separate-stderr fp -k -j2 --xargs-status slow ::: 1 2 3
	assert_failure 124
	assert_output 'slow'
}

@test "--xargs-status: 125 when a command was killed by a signal; no more jobs start" {
	run --separate-stderr fp -k -j1 --xargs-status xjob ::: 0 9 3
	assert_failure 125
	assert_output $'0\n9'
	assert_equal "$stderr" 'forkpool: --xargs-status: job 2 was killed by signal 9 (SIGKILL); waiting for the running jobs: xjob 9'
}

@test "--xargs-status: the first failed command decides among 123, 124 and 125, as GNU xargs" {
	mkscript later 'sleep 0.3; exec xjob "$1"' >/dev/null
	run --separate-stderr fp -k -j2 --xargs-status {1} {2} ::: later xjob :::+ 9 2
	assert_failure 124
	run --separate-stderr fp -k -j2 --xargs-status {1} {2} ::: later xjob :::+ 2 9
	assert_failure 125
	# a failure before the 255 keeps 123; the 255 still stops the run
	run --separate-stderr fp -k -j1 --xargs-status xjob ::: 1 2 3
	assert_failure 123
	assert_output $'1\n2'
}

@test "--xargs-status: 127 when the command is not found, 126 when it cannot run, also when a value names it" {
	run -127 --separate-stderr fp --xargs-status ./nosuch ::: a b
	run --separate-stderr fp --xargs-status /etc/passwd ::: a b
	assert_failure 126
	# without --xargs-status only that job fails; with it, no more start
	run --separate-stderr fp -j1 {} ::: true ./nosuch true
	assert_failure 1
	run -127 --separate-stderr fp -j1 --xargs-status {} ::: true ./nosuch 'touch ran'
	assert_equal "$stderr" $'forkpool: ./nosuch: command not found\nforkpool: starting no more jobs: the command cannot run'
	assert_file_not_exists ran
}

@test "--xargs-status: forkpool's own errors stay 255, a timeout counts as a failed command" {
	run --separate-stderr fp --xargs-status -a nosuchfile echo
	assert_failure 255
	mkscript nap 'sleep "$1"; echo "$1"' >/dev/null
	run --separate-stderr fp -k --xargs-status --timeout 0.2 nap ::: 5 0
	assert_failure 123
	assert_output '0'
}

@test "--xargs-status: --halt still stops the run, the status is xargs's" {
	run --separate-stderr fp -j1 --halt soon,fail=1 --xargs-status exitwith ::: 3 0
	assert_failure 123
	run --separate-stderr fp -j1 --halt now,success=1 --xargs-status exitwith ::: 0 3
	assert_success
}

@test "--xargs-status: the same status as xargs for the same commands" {
	require_cmd xargs
	local in want got
	for in in '0 0' '0 1 0' '0 126 0' '1 2 0' '0 9 0' '0 127 0'; do
		want=0 got=0
		printf '%s\n' $in | xargs -n1 xjob >/dev/null 2>&1 || want=$?
		printf '%s\n' $in | "$FP_BIN" -j1 --xargs-status xjob >/dev/null 2>&1 || got=$?
		assert_equal "$in: $got" "$in: $want"
	done
	want=0 got=0
	printf 'a\n' | xargs ./nosuch >/dev/null 2>&1 || want=$?
	printf 'a\n' | "$FP_BIN" --xargs-status ./nosuch >/dev/null 2>&1 || got=$?
	assert_equal "not found: $got" "not found: $want"
	want=0 got=0
	printf 'a\n' | xargs /etc/passwd >/dev/null 2>&1 || want=$?
	printf 'a\n' | "$FP_BIN" --xargs-status /etc/passwd >/dev/null 2>&1 || got=$?
	assert_equal "cannot run: $got" "cannot run: $want"
}
