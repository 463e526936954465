#!/usr/bin/env bats
# --shuf: every job runs once, in a random order; {#} and -k follow the
# order the jobs run in, as GNU parallel's.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
}

# A chance of 1 in 200! (about 10^-375) that a shuffle of 200 records
# leaves them in order: a test that expects disorder cannot be flaky.

@test "--shuf: 200 records from stdin each run exactly once, not in input order" {
	seq 200 >in
	run --separate-stderr fp --shuf -j1 echo <in
	assert_success
	assert_equal "$stderr" ''
	assert_equal "${#lines[@]}" 200
	assert_equal "$(sort -n <<<"$output")" "$(seq 200)"
	[[ $output != "$(seq 200)" ]] || fail "200 records ran in input order"
}

@test "--shuf -k: {#} numbers the jobs in the order they run and -k prints in that order" {
	run --separate-stderr fp --shuf -k -j4 echo '{#}' '{}' ::: $(seq 200)
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(cut -d ' ' -f 1 <<<"$output")" "$(seq 200)"
	assert_equal "$(cut -d ' ' -f 2 <<<"$output" | sort -n)" "$(seq 200)"
	[[ $(cut -d ' ' -f 2 <<<"$output") != "$(seq 200)" ]] || fail "200 values ran in input order"
}

@test "--shuf: two runs give two orders" {
	local a b
	a=$(seq 200 | "$FP_BIN" --shuf -j1 echo)
	b=$(seq 200 | "$FP_BIN" --shuf -j1 echo)
	assert_equal "$(sort -n <<<"$a")" "$(seq 200)"
	[[ $a != "$b" ]] || fail "two runs gave the same order"
}

@test "--shuf shuffles the jobs of a cross product: each combination runs once" {
	run --separate-stderr fp --shuf -j1 echo ::: $(seq 20) ::: a b c d e f g h i j
	assert_success
	assert_equal "${#lines[@]}" 200
	assert_equal "$(sort <<<"$output")" "$(for i in $(seq 20); do for c in a b c d e f g h i j; do echo "$i $c"; done; done | sort)"
	[[ ${lines[0]} != '1 a' || ${lines[1]} != '1 b' || ${lines[2]} != '1 c' ]] || fail "ran in input order: $output"
}

@test "--shuf -n 2: records are shuffled, then grouped two to a job" {
	run --separate-stderr fp --shuf -n 2 -k "$SHOWARGS" ::: $(seq 10)
	assert_success
	assert_equal "${#lines[@]}" 5
	assert_equal "$(grep -o '<[0-9]*>' <<<"$output" | tr -d '<>' | sort -n)" "$(seq 10)"
	assert_equal "$(cut -d : -f 1 <<<"$output" | sort -u)" 2
}

@test "--shuf keeps values whole: NUL-delimited records with blanks, and --colsep columns" {
	run --separate-stderr bash -c 'printf "a b\0c\nd\0\0e\0" | "$1" -0 --shuf "$2" {}' _ "$FP_BIN" "$SHOWARGS"
	assert_success
	assert_equal "$(sort <<<"$output")" "$(printf '%s\n' '1:<>' '1:<a b>' '1:<c' 'd>' '1:<e>' | sort)"
	run --separate-stderr bash -c 'seq 50 | sed "s/.*/&,x&/" | "$1" --shuf --colsep , echo {2}-{1}' _ "$FP_BIN"
	assert_success
	assert_equal "$(sort -t - -k 2n <<<"$output")" "$(seq 50 | sed 's/.*/x&-&/')"
}

@test "--shuf with no input runs nothing" {
	run --separate-stderr fp --shuf echo </dev/null
	assert_success
	assert_output ''
	assert_equal "$stderr" ''
}

@test "--shuf holds the records in a file of the --tmpdir: a directory that is not there is an error, exit 255" {
	run --separate-stderr bash -c 'seq 3 | "$1" --shuf --tmpdir "$2/nowhere" touch ran.{}' _ "$FP_BIN" "$BATS_TEST_TMPDIR"
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" "forkpool: --shuf: cannot create a temporary file in $BATS_TEST_TMPDIR/nowhere: No such file or directory"
	assert_equal "$(ran)" ''
}

@test "--shuf: a flawed record is reported with its input record number" {
	run --separate-stderr bash -c 'printf "a\nb\0x\nc\n" | "$1" --shuf -k echo' _ "$FP_BIN"
	assert_failure 1
	assert_equal "$(sort <<<"$output")" $'a\nc'
	assert_equal "$stderr" 'forkpool: input record 2: contains a NUL byte'
}

@test "--shuf cannot be used with --resume, --resume-failed or --retry-failed: job numbers change from run to run" {
	local o
	for o in --resume --resume-failed --retry-failed; do
		run --separate-stderr fp --shuf --joblog jl "$o" echo ::: a
		assert_failure 255
		assert_output ''
		assert_equal "$stderr" "forkpool: --shuf cannot be used with $o: the jobs are numbered in a new order on every run"
	done
}
