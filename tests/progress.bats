#!/usr/bin/env bats
# The progress display: --bar, --progress, --eta.  It is drawn on stderr
# only when stderr is a terminal, in place, and never inside a line that a
# job or forkpool writes to that terminal.  The tests run forkpool in a
# pseudo-terminal made by script(1) and look at what a terminal would show.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	require_cmd script
	require_cmd perl
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	kill_leftovers
}

# pty CMD: run the shell command CMD in a pseudo-terminal $COLS (default
# 80) columns wide; what the terminal received goes to the file tty.raw.
# The status is CMD's.
pty() {
	script -qfec "stty cols ${COLS:-80} rows 24; $1" /dev/null </dev/null >tty.raw
}

# screen: the lines a terminal shows for tty.raw, as it would draw them:
# a carriage return goes back to the start of the line, ESC [ K erases to
# its end, a newline starts the next line.
screen() {
	perl -e '
		local $/; my $s = <STDIN>; my @line; my $col = 0;
		while (length $s) {
			if ($s =~ s/^\r//) { $col = 0 }
			elsif ($s =~ s/^\n//) { print join("", @line), "\n"; @line = (); $col = 0 }
			elsif ($s =~ s/^\e\[K//) { splice(@line, $col) if $col < @line }
			elsif ($s =~ s/^(.)//s) { $line[$col++] = $1 }
		}
		print join("", @line) if @line;' <tty.raw
}

# frames: every text drawn in place (after a carriage return) in tty.raw,
# one per line, without the erase sequences.
frames() {
	perl -e '
		local $/; my $s = <STDIN>;
		for my $f (split /\r\n|\n|\r/, $s) {
			$f =~ s/\e\[K//g;
			print "$f\n" if length $f;
		}' <tty.raw
}

# --- the bar -------------------------------------------------------------------

@test "--bar on a terminal: done/total, 100% at the end, on a line of its own" {
	seq 5 >in
	run pty '"$FP_BIN" --bar -j2 true <in'
	assert_success
	run screen
	assert_equal "${#lines[@]}" 1
	assert_line --index 0 --regexp '^100% 5/5 [0-9.]+ jobs/s ETA 0s \[#+\]$'
}

@test "--bar: the total of a finite input is known from the first frame" {
	seq 5 >in
	run pty '"$FP_BIN" --bar -j1 sleep 0.2 <in'
	assert_success
	run frames
	assert_success
	# every frame counts out of 5, the first one 0 done
	assert_line --index 0 --regexp '^ *0% 0/5 '
	run grep -v ' [0-5]/5 ' <<<"$output"
	assert_output ''
}

@test "--bar: the final line ends with a newline" {
	run pty '"$FP_BIN" --bar true ::: 1 2 3'
	assert_success
	# onlcr makes the terminal's newline \r\n
	run bash -c 'tail -c 2 tty.raw | od -An -c | tr -d " "'
	assert_output '\r\n'
	run screen
	assert_output --regexp '^100% 3/3 .*\]$'
}

@test "--bar is not drawn when stderr is a file, and sets no timer" {
	run pty '"$FP_BIN" --bar -k echo ::: a b 2>err'
	assert_success
	run screen
	assert_output $'a\nb'
	run cat err
	assert_output ''
	require_cmd strace
	# no poll(2) with a timeout while the job sleeps: nothing is drawn
	# LeakSanitizer cannot run under ptrace: a sanitized build skips it here
	ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 \
	    run strace -o trace -e trace=poll "$FP_BIN" --bar sleep 1.2 ::: 1 2>err
	assert_success
	run grep -cE '^poll\(' trace
	assert [ "$output" -ge 1 ]
	run grep -E '^poll\(.*\], [0-9]+, [1-9][0-9]*\)' trace
	assert_output ''
	run cat err
	assert_output ''
}

@test "--bar on a terminal wakes up while a job runs, to update the clock" {
	require_cmd strace
	# LeakSanitizer cannot run under ptrace: a sanitized build skips it here
	ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 \
	    run pty 'strace -o trace -e trace=poll "$FP_BIN" --bar sleep 1.5 ::: 1'
	assert_success
	run grep -E '^poll\(.*\], [0-9]+, [1-9][0-9]*\)' trace
	assert_success
}

@test "--bar: lines of the jobs' stdout and stderr and of -t appear whole" {
	mkscript job 'echo "out $1"; echo "err $1" >&2' >/dev/null
	run pty '"$FP_BIN" --bar -t -j3 "$BATS_TEST_TMPDIR/bin/job" ::: 1 2 3 4 5 6'
	assert_success
	run screen
	assert_equal "${#lines[@]}" 19
	assert_line --index 18 --regexp '^100% 6/6 '
	# everything above the bar is a whole line of a job or of -t
	run grep -vxE '(out|err) [1-6]|/.*/bin/job [1-6]' <<<"$output"
	assert_output --regexp '^100% 6/6 '
	run grep -cxE '(out|err) [1-6]' <<<"$(screen)"
	assert_output 12
}

@test "--bar with stdout to a file: the jobs' stderr lines appear whole" {
	mkscript job 'echo "err $1" >&2; echo "out $1"' >/dev/null
	run pty '"$FP_BIN" --bar -k "$BATS_TEST_TMPDIR/bin/job" ::: 1 2 3 >out'
	assert_success
	run screen
	assert_output --regexp $'^err 1\nerr 2\nerr 3\n100% 3/3 '
	run cat out
	assert_output $'out 1\nout 2\nout 3'
}

@test "--bar: forkpool's own messages during the run appear whole" {
	run pty 'printf "1\n2\0x\n3\n" | "$FP_BIN" --bar -k echo'
	# the rejected record counts as a failed job
	assert_failure 1
	run screen
	assert_line --index 3 --regexp '^100% 2/2 '
	run bash -c 'head -n 3 <<<"$1" | sort' _ "$output"
	assert_output $'1\n3\nforkpool: input record 2: contains a NUL byte'
}

@test "--bar: a job's unfinished line is not drawn over, and is ended at the end" {
	run pty '"$FP_BIN" --bar printf %.0sx ::: 1'
	assert_success
	run screen
	assert_output --regexp $'^x\n100% 1/1 '
}

@test "--bar: rejected records and --resume skips are not counted as jobs" {
	run pty 'printf "1\n2\n3\n4\n5\n" | "$FP_BIN" --joblog jl -k true'
	assert_success
	# forget jobs 4 and 5: a --resume runs them, and only them
	head -n 4 jl >jl.new && mv jl.new jl
	run pty 'printf "1\n2\n3\n4\n5\n" | "$FP_BIN" --bar --resume --joblog jl -k echo'
	assert_success
	run screen
	assert_output --regexp $'^4\n5\n100% 2/2 '
}

@test "--bar: no total and no ETA while the end of the input was not seen" {
	# the producer waits until a frame shows the first job done
	run pty '{ echo a; i=0; while ! grep -q "1/?" tty.raw && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done; echo b; } | "$FP_BIN" --bar -k echo'
	assert_success
	run frames
	assert_line --regexp '^1/\? [0-9.]+ jobs/s$'
	# no frame before the end shows a total or an ETA
	run bash -c 'grep -E "^[0-9]+/\? " <<<"$1" | grep -E "ETA|/[0-9]|%"' _ "$output"
	assert_output ''
	run screen
	assert_output --regexp $'^a\nb\n100% 2/2 '
}

@test "--bar: a job starts before the input ends: reading ahead waits for nothing" {
	run pty '{ echo a; i=0; while [ ! -e flag ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done; if [ -e flag ]; then echo released; else echo timeout; fi; } | "$FP_BIN" --bar echo | while IFS= read -r l; do printf "%s\n" "$l" >>got; : >flag; done'
	assert_success
	run cat got
	assert_output $'a\nreleased'
}

@test "--bar fits the width of the terminal" {
	COLS=30 run pty '"$FP_BIN" --bar -j2 true ::: 1 2 3'
	assert_success
	run frames
	run bash -c 'awk "length > 29" <<<"$1"' _ "$output"
	assert_output ''
	run screen
	assert_output --regexp '^100% 3/3 '
}

@test "--bar with -u: no display at all, a warning; the jobs' unfinished line is left alone" {
	run pty '"$FP_BIN" --bar -u -j1 printf {} ::: a b'
	assert_success
	run screen
	assert_output $'forkpool: --bar: not drawn with -u or --tty: the jobs write to the terminal themselves\nab'
}

@test "--bar is not drawn while the records are typed on the terminal" {
	# in the pseudo-terminal, stdin is the terminal; script(1) ends it
	run pty 'timeout --foreground 10 "$FP_BIN" --bar echo; echo "status $?"'
	assert_success
	run screen
	assert_output $'forkpool: --bar: not drawn while the records are typed on the terminal\nstatus 0'
}

@test "--bar: Ctrl-C leaves the last state on a finished line" {
	pty 'env --default-signal=INT "$FP_BIN" --bar sleep 20 ::: 1 2 & echo $! >pid; wait' &
	local spid=$! i
	for ((i = 0; i < 100; i++)); do
		grep -q '0/2' tty.raw 2>/dev/null && break
		sleep 0.05
	done
	kill -INT "$(cat pid)"
	wait "$spid" || true
	run bash -c 'tail -c 2 tty.raw | od -An -c | tr -d " "'
	assert_output '\r\n'
	run screen
	assert_output --regexp '^ *0% 0/2 '
}

# --- --progress and --eta --------------------------------------------------------

@test "--progress: the host with its CPUs and jobs, then running/done per host" {
	run pty '"$FP_BIN" --progress -j2 true ::: 1 2 3 4'
	assert_success
	run screen
	assert_line --index 0 'host   CPUs  jobs at once'
	assert_line --index 1 --regexp "^local  $(ncpus) +2\$"
	assert_line --index 2 --regexp '^local: 0 running, 4 done \(100%\), avg [0-9.]+s$'
	assert_equal "${#lines[@]}" 3
}

@test "--eta: seconds left, jobs left and average runtime, with --progress" {
	run pty '"$FP_BIN" --eta -j2 sleep 0.1 ::: 0 0 0 0'
	assert_success
	run frames
	assert_line --regexp '^ETA [0-9?]+s?, 4 left, avg [0-9.?]+s? +local: 2 running, 0 done \(0%\), avg '
	run screen
	assert_line --index 0 'host   CPUs  jobs at once'
	assert_line --index 2 --regexp '^ETA 0s, 0 left, avg 0\.[0-9]+s +local: 0 running, 4 done \(100%\), avg 0\.[0-9]+s$'
}

@test "--bar, --progress and --eta draw nothing when stderr is not a terminal" {
	run --separate-stderr fp --bar --eta --progress echo ::: a
	assert_success
	assert_output a
	assert_equal "$stderr" ''
}

@test "--bar: the final state comes before the --summary report, and joblog rows on stdout stand on their own lines" {
	run pty '"$FP_BIN" --bar --summary --joblog - -k "sleep 0.2; : {}" ::: a b'
	assert_success
	run screen
	assert_line --index 0 --regexp $'^Seq\tHost\t'
	assert_line --index 1 --regexp $'^1\t:\t.*: a$'
	assert_line --index 2 --regexp $'^2\t:\t.*: b$'
	assert_line --index 3 --regexp '^100% 2/2 '
	assert_line --index 4 --regexp '^forkpool: summary: 2 jobs, 2 succeeded'
}
