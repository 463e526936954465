#!/usr/bin/env bats
# --partition K/N and K/N,rr: run only one share of the input records.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
	# bracket VALUE: prints [VALUE], so that blank records show
	BRACKET=$(mkscript bracket 'printf "[%s]\\n" "$1"')
}

# Records with blanks and duplicates, one per line: an empty one, a blank
# one, repeats, and enough others for every partition to get some.
mixed_records() {
	printf '%s\n' '' ' ' x x y 'a b' x '' z q w e r t u v 1 2 3 1
}

# all_partitions N [MODE] [FORKPOOL-OPTIONS...]: the records that ran over the
# N partitions (stdin: the records), each as [record], sorted.
all_partitions() {
	local n=$1 mode=${2:+,$2} k
	shift 2
	cat >input
	for ((k = 1; k <= n; k++)); do
		"$FP_BIN" "$@" --partition "$k/$n$mode" "$BRACKET" <input ||
			return
	done | LC_ALL=C sort
}

@test "--partition K/N: over N partitions every record runs exactly once (hash)" {
	local want n
	want=$(mixed_records | sed 's/.*/[&]/' | LC_ALL=C sort)
	for n in 1 2 3 5; do
		run all_partitions "$n" '' <<<"$(mixed_records)"
		assert_success
		assert_output "$want"
	done
}

@test "--partition K/N,rr: over N partitions every record runs exactly once" {
	local want n
	want=$(mixed_records | sed 's/.*/[&]/' | LC_ALL=C sort)
	for n in 1 2 3 5; do
		run all_partitions "$n" rr <<<"$(mixed_records)"
		assert_success
		assert_output "$want"
	done
}

@test "--partition K/N: the share is FNV-1a 64 of the record modulo N" {
	# a 2, b 2, c 1, d 2, e 1, f 1, g 3, h 2 (computed apart from forkpool)
	run fpin $'a\nb\nc\nd\ne\nf\ng\nh\n' -k --partition 1/3 echo
	assert_success
	assert_output $'c\ne\nf'
	run fpin $'a\nb\nc\nd\ne\nf\ng\nh\n' -k --partition 2/3 echo
	assert_success
	assert_output $'a\nb\nd\nh'
	run fpin $'a\nb\nc\nd\ne\nf\ng\nh\n' -k --partition 3/3 echo
	assert_success
	assert_output 'g'
}

@test "--partition K/N: several sources hash the values of the combination, NUL-separated" {
	# a\01 -> 2, a\02 -> 1, b\01 -> 1, b\02 -> 2
	run fp -k --partition 1/2 echo ::: a b ::: 1 2
	assert_success
	assert_output $'a 2\nb 1'
	run fp -k --partition 2/2 echo ::: a b ::: 1 2
	assert_success
	assert_output $'a 1\nb 2'
}

@test "--partition K/N: adding a record moves no other record" {
	local k before after
	seq 50 >old
	{ seq 25; echo new; seq 26 50; } >new
	for k in 1 2 3 4; do
		before=$("$FP_BIN" -k --partition "$k/4" echo <old)
		after=$("$FP_BIN" -k --partition "$k/4" echo <new | grep -vx new)
		assert_equal "$after" "$before"
		[ -n "$before" ] || fail "partition $k/4 of 50 records is empty"
	done
}

@test "--partition K/N,rr: record i goes to partition ((i-1) mod N)+1" {
	run fpin "$(seq 10)" -k --partition 2/3,rr echo
	assert_success
	assert_output $'2\n5\n8'
	run fp -k --partition 1/2,rr echo ::: a b ::: 1 2
	assert_success
	assert_output $'a 1\nb 1'
}

@test "--partition K/N,rr with -r: skipped blank records keep their numbers" {
	run fpin $'a\n\nb\nc\n' -k -r --partition 1/2,rr echo
	assert_success
	assert_output $'a\nb'
	run fpin $'a\n\nb\nc\n' -k -r --partition 2/2,rr echo
	assert_success
	assert_output 'c'
}

@test "--partition: each partition batches its own records (-n)" {
	run fpin "$(seq 10)" -k -n 2 --partition 1/2,rr echo
	assert_success
	assert_output $'1 3\n5 7\n9'
}

@test "--partition: {#} counts the jobs of this run" {
	run fpin "$(seq 6)" -k --partition 2/2,rr echo {#} {}
	assert_success
	assert_output $'1 2\n2 4\n3 6'
}

@test "--partition: a rejected record is reported by its own partition only" {
	local long
	long=$(printf 'x%.0s' $(seq 100))
	printf '%s\n' a "$long" b c >input
	run --separate-stderr "$FP_BIN" -k -s 40 --partition 1/2,rr echo <input
	assert_success
	assert_output $'a\nb'
	assert_equal "$stderr" ''
	run --separate-stderr "$FP_BIN" -k -s 40 --partition 2/2,rr echo <input
	assert_failure 1
	assert_output 'c'
	assert_equal "$stderr" 'forkpool: input record 2: too long for a command line of 40 bytes'
}

@test "--partition with --dry-run prints the partition's commands" {
	run fpin "$(seq 5)" --dry-run --partition 1/2,rr echo
	assert_success
	assert_output $'echo 1\necho 3\necho 5'
}

@test "--partition with --resume: the job log is the partition run's" {
	seq 4 | "$FP_BIN" --partition 2/2,rr --joblog log echo >/dev/null
	run fpin "$(seq 8)" -k --partition 2/2,rr --joblog log --resume echo {#} {}
	assert_success
	assert_output $'3 6\n4 8'
}

@test "--partition with --retry-failed: the failed commands of the partition's job log run again" {
	local s
	s=$(mkscript echoexit 'echo "$1"; exit "$1"')
	run fp -k --partition 1/2,rr --joblog log "$s" ::: 0 3 4 5
	assert_failure 1
	assert_output $'0\n4'
	run fp -k --partition 1/2,rr --joblog log --retry-failed "$s" ::: 0 3 4 5
	assert_failure 1
	assert_output '4'
	run cut -f1,7 log
	assert_output $'Seq\tExitval\n1\t0\n2\t4\n2\t4'
}

@test "--partition: bad values are refused with exit 255" {
	local arg msg
	while IFS='|' read -r arg msg; do
		run --separate-stderr fp --partition "$arg" echo ::: a
		assert_failure 255
		assert_output ''
		assert_equal "$stderr" "forkpool: --partition $arg: $msg"
	done <<'EOF'
0/3|K must be from 1 to N
4/3|K must be from 1 to N
1/0|N is too small
a/3|K is invalid
3|must be K/N or K/N,rr
1/3,xx|must be K/N or K/N,rr
1/3/4|N is invalid
|must be K/N or K/N,rr
 1/2|K is invalid
1 /2|K is invalid
+1/2|K is invalid
-1/2|K is invalid
1/+2|N is invalid
1/ 2|N is invalid
1/2 |N is invalid
1/-2|N is invalid
/2|K is invalid
1/|N is invalid
1/2, rr|must be K/N or K/N,rr
EOF
}

@test "--partition: K and N may have leading zeros" {
	run fp -k --partition 01/002,rr echo ::: a b c
	assert_success
	assert_output $'a\nc'
}
