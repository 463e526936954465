#!/usr/bin/env bats
# The Slurm cluster the --slurm tests run on (tests/slurm.bash).

load helper
load slurm

teardown() {
	slurm_stop
}

@test "the cluster comes up: an allocation runs a step on localhost" {
	slurm_start
	[[ -S $FP_SLURM_DIR/sock/munge ]] || fail "no munge socket"
	run salloc -Q -n2 -- sh -c 'echo "$SLURM_NTASKS"; srun -QQ -N1 -n1 --exclusive -- sh -c "echo \$SLURMD_NODENAME"'
	assert_success
	assert_output $'2\nlocalhost'
}

@test "slurm_steps lists a running step; slurm_wait_steps waits for its end" {
	slurm_start
	salloc -Q -n1 -- srun -QQ -n1 -- sleep 2 3>&- &
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -n $(slurm_steps) ]] && break
		sleep 0.1
	done
	run slurm_steps
	assert_output --regexp '^[0-9]+\.0$'
	run slurm_wait_steps 1
	assert_failure
	run slurm_wait_steps 10
	assert_success
	wait
}

@test "slurm_stop ends the daemons and the steps still running, and removes the directory" {
	slurm_start
	local d=$FP_SLURM_DIR pids
	salloc -Q -n1 -- srun -QQ -n1 -- sleep 60 >/dev/null 2>&1 3>&- &
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -n $(slurm_steps) ]] && break
		sleep 0.1
	done
	pids=$(cat "$d/slurmd.pid" "$d/slurmctld.pid" "$d/munge/pid"; _slurm_stepds)
	# three daemons and at least one step daemon
	(($(wc -w <<<"$pids") >= 4)) || fail "pids: $pids"
	slurm_stop
	for p in $pids; do
		! kill -0 "$p" 2>/dev/null || fail "process $p still runs"
	done
	[[ ! -e $d ]] || fail "$d is left"
	[[ -z ${SLURM_CONF:-} ]] || fail "SLURM_CONF is still set"
	wait
	run slurm_stop
	assert_success
}

@test "without the Slurm daemons the tests skip, and fail under CI=true" {
	# (printf, since bats would take a line starting with @test for this
	# file's own)
	printf '%s\n' "load $FP_TESTS/helper" "load $FP_TESTS/slurm" \
		'@test "needs slurm" {' '	slurm_start' '	echo ran' '}' \
		>"$BATS_TEST_TMPDIR/needs-slurm.bats"
	# a clean environment: this run's BATS_* would steer the inner one
	run env -i PATH="$PATH" FP_SLURM_SBIN=/nonexistent \
		"$BATS_ROOT/bin/bats" --tap "$BATS_TEST_TMPDIR/needs-slurm.bats"
	assert_success
	assert_output "1..1
ok 1 needs slurm # skip munged is not installed"
	run env -i PATH="$PATH" FP_SLURM_SBIN=/nonexistent CI=true \
		"$BATS_ROOT/bin/bats" --tap "$BATS_TEST_TMPDIR/needs-slurm.bats"
	assert_failure 1
	assert_line 'not ok 1 needs slurm'
	assert_line '# required command not found: munged'
	refute_output --partial ran
}
