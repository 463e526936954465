#!/usr/bin/env bats
# The spill file: output held past the memory bound goes to one unlinked
# file in the temporary directory, and the disk it takes follows what is
# held, not all that was ever spilled.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
	SPILLDIR="$BATS_TEST_TMPDIR/spill.d"
	mkdir "$SPILLDIR"
	# inorder N: write seq 1000000, then end once job N-1 has ended
	INORDER=$(mkscript inorder 'seq 1000000
while [ "$1" -gt 1 ] && [ ! -e "ended.$(($1 - 1))" ]; do sleep 0.01; done
: >"ended.$1"')
}

teardown() {
	kill_leftovers
}

# spill_peak ARGS...: run forkpool ARGS with TMPDIR=$SPILLDIR and stdout
# into cksum, sampling the blocks its spill file takes every 50 ms.  Sets
# PEAK (the most bytes it took on disk), CKSUM (cksum of forkpool's stdout)
# and FP_STATUS.
spill_peak() {
	local f link b fp_pid ck_pid state
	mkfifo stdout.fifo
	cksum <stdout.fifo >cksum.out &
	ck_pid=$!
	env TMPDIR="$SPILLDIR" "$FP_BIN" "$@" </dev/null >stdout.fifo \
	    2>err 3>&- &
	fp_pid=$!
	PEAK=0
	while :; do
		state=Z
		read -r _ _ state _ 2>/dev/null <"/proc/$fp_pid/stat" || true
		[[ $state == Z ]] && break
		for f in /proc/"$fp_pid"/fd/*; do
			link=$(readlink "$f" 2>/dev/null) || continue
			[[ $link == "$SPILLDIR"/*' (deleted)' ]] || continue
			b=$(stat -L -c '%b * %B' "$f" 2>/dev/null) || continue
			((b = b, b > PEAK)) && PEAK=$b
		done
		sleep 0.05
	done
	FP_STATUS=0
	wait "$fp_pid" || FP_STATUS=$?
	wait "$ck_pid"
	CKSUM=$(cat cksum.out)
}

# Each job writes seq 1000000 (6888896 bytes), 60 or 100 jobs in all;
# with -k, each job ends only after the one before it, so that no finished
# job waits behind an unfinished one.  forkpool must hold what the two
# running jobs wrote and at most one finished job's output that stdout has
# not taken yet: the spill file never needs more than 3 x 6888896 bytes of
# disk (it took 39 to 133 MB, 55 to 163 MB with -k --joblog).
SPILL_BOUND=$((3 * 6888896))

# check_spill N: after spill_peak, the run of N such jobs succeeded
# silently with the right output, spilled within the bound, and left
# nothing behind.
check_spill() {
	assert_equal "$FP_STATUS" 0
	assert_equal "$(cat err)" ''
	assert_equal "$CKSUM" "$(for i in $(seq "$1"); do seq 1000000; done | cksum)"
	((PEAK > 0)) || fail "no spill file was seen in $SPILLDIR"
	((PEAK <= SPILL_BOUND)) ||
		fail "spill file took $PEAK bytes of disk, bound $SPILL_BOUND"
	run ls -A "$SPILLDIR"
	assert_output ''
}

@test "-j2, 100 jobs of 6.9 MB: the spill file's disk stays under what 3 jobs write" {
	spill_peak -j2 'seq 1000000; : {}' ::: $(seq 100)
	check_spill 100
}

@test "-k -j2 --joblog, 60 jobs of 6.9 MB: the spill file's disk stays under what 3 jobs write" {
	spill_peak -k -j2 --joblog jl "$INORDER" ::: $(seq 60)
	check_spill 60
}
