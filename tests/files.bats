#!/usr/bin/env bats
# --files: each job's stdout goes to a file of its own in the temporary
# directory, kept after the run, and forkpool prints the file's name
# instead of the output.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
	mkdir t.d
}

teardown() {
	kill_leftovers
}

@test "--files prints one name per job, in order with -k, each file holding that job's stdout" {
	run --separate-stderr fp --files -k --tmpdir t.d 'echo out{}; echo err{} >&2' ::: a b c
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_equal "$(cat "${lines[0]}")" "outa"
	assert_equal "$(cat "${lines[1]}")" "outb"
	assert_equal "$(cat "${lines[2]}")" "outc"
	# stderr is printed as without --files
	assert_equal "$(printf '%s\n' "$stderr" | sort | tr '\n' ' ')" "erra errb errc "
	assert_equal "$(ls t.d | wc -l)" 3
	[[ ${lines[0]} == t.d/forkpool.* ]]
}

@test "--files keeps a job's output whole past the memory bound, and empty output as an empty file" {
	run fp --files -k -j3 --tmpdir t.d 'case {} in 0) true;; *) head -c {}000000 /dev/zero;; esac' ::: 7 0 9
	assert_success
	assert_equal "$(wc -c <"${lines[0]}")" 7000000
	assert_equal "$(wc -c <"${lines[1]}")" 0
	assert_equal "$(wc -c <"${lines[2]}")" 9000000
	assert_equal "$(tr -d '\0' <"${lines[2]}" | wc -c)" 0
}

@test "--files with --retries holds only the final attempt's output" {
	run fp --files --retries 3 --tmpdir t.d ': {}; echo try; test -e flag || { : >flag; echo first; exit 1; }' ::: x
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_equal "$(cat "${lines[0]}")" "try"
}

@test "--files with --tag tags the name" {
	run fp --files --tag -k --tmpdir t.d echo ::: p q
	assert_success
	[[ ${lines[0]} == p$'\t't.d/forkpool.* ]]
	[[ ${lines[1]} == q$'\t't.d/forkpool.* ]]
	assert_equal "$(cat "${lines[1]#q$'\t'}")" "q"
}

@test "--files with -u is refused" {
	run --separate-stderr fp --files -u echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --files cannot be used with -u: the jobs' output would not pass through forkpool"
}

@test "--files with --tty is refused unless --group or --line-buffer is given" {
	run --separate-stderr fp --files --tty echo ::: a
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" "forkpool: --files cannot be used with --tty unless --group or --line-buffer is given: --tty passes output straight through"
	run --separate-stderr fp --tty -u --files echo ::: a
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" "forkpool: --files cannot be used with -u: the jobs' output would not pass through forkpool"
}

@test "--files names the directory it cannot create a file in" {
	run --separate-stderr fp --files --tmpdir "$BATS_TEST_TMPDIR/nodir" echo ::: a
	assert_failure 255
	assert_output ""
	assert_equal "$stderr" "forkpool: cannot create a file for a job's output in $BATS_TEST_TMPDIR/nodir: No such file or directory"
}

@test "--files removes the file of a job ended by --halt now, keeps the failed one's" {
	run --separate-stderr fp --files --tmpdir t.d --halt now,fail=1 'if [ {} = 1 ]; then sleep 0.2; echo failed; exit 1; fi; echo partial; sleep 30' ::: 1 2
	assert_failure 1
	assert_equal "${#lines[@]}" 1
	assert_equal "$(cat "${lines[0]}")" "failed"
	assert_equal "$(ls t.d)" "${lines[0]#t.d/}"
}

@test "--files with --output-on-failure is refused" {
	run --separate-stderr fp --files --output-on-failure echo ::: a
	assert_failure 255
	assert_output ""
	assert_equal "$stderr" "forkpool: --output-on-failure cannot be used with --files: the output goes to files, not to stdout"
}

@test "--files removes the files whose names could not be printed: stdout full" {
	run --separate-stderr bash -c 'seq 5 | "$FP_BIN" -k --files --tmpdir t.d echo >/dev/full'
	assert_failure 255
	assert_equal "$stderr" "forkpool: write error on stdout: No space left on device"
	assert_equal "$(ls t.d | wc -l)" 0
}

@test "--files removes the files whose names could not be printed: stdout closed" {
	# the reader is gone before the other jobs end
	run bash -c '(echo 0; seq 20 | sed s/.*/0.5/) | "$FP_BIN" --files -j4 -k --tmpdir t.d "sleep {}; echo {}" | head -1; echo "${PIPESTATUS[1]}"'
	assert_equal "${lines[1]}" 141
	assert_equal "$(ls t.d)" "${lines[0]#t.d/}"
	assert_equal "$(cat "${lines[0]}")" "0"
}
