#!/usr/bin/env bats
# Scheduling (-j) and the environment each job runs in.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
	# conc DIR ID WANT: mark itself running and record how many jobs are
	# running now.  Wait (at most 3 s) until some job has seen WANT running,
	# stay a moment, count again, unmark.  A marker only exists while its job
	# runs, so a count can never exceed the real number of concurrent jobs.
	CONC=$(mkscript conc 'd=$1 id=$2 want=$3
: >"$d/run.$id"
n=$(ls "$d" | grep -c "^run\.")
echo "$n" >"$d/seen.$id"
if [ "$n" -ge "$want" ]; then : >"$d/reached"; fi
i=0
while [ ! -e "$d/reached" ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.2
ls "$d" | grep -c "^run\." >>"$d/seen.$id"
rm -f "$d/run.$id"')
}

# measure NJOBS WANT FORKPOOL-OPTIONS...: run NJOBS conc jobs that wait for
# WANT of them to run at once, and print
# "<jobs that ran> <largest concurrency seen>".
measure() {
	local n=$1 want=$2
	shift 2
	local d="$BATS_TEST_TMPDIR/conc.d"
	rm -rf "$d"
	mkdir "$d"
	"$FP_BIN" "$@" "$CONC" "$d" {} "$want" ::: $(seq "$n") || return
	printf '%s %s\n' "$(ls "$d" | grep -c '^seen\.')" "$(cat "$d"/seen.* | sort -n | tail -n 1)"
}

# --- -j -------------------------------------------------------------------------

@test "-j 1 runs one job at a time" {
	run measure 3 1 -j 1
	assert_success
	assert_output '3 1'
}

@test "-j 3 never runs more than 3 jobs at once, and does run 3" {
	run measure 7 3 -j 3
	assert_success
	assert_output '7 3'
}

@test "-jN, --jobs N and --jobs=N are the same as -j N" {
	run measure 4 3 -j3
	assert_success
	assert_output '4 3'
	run measure 4 3 --jobs 3
	assert_success
	assert_output '4 3'
	run measure 4 3 --jobs=3
	assert_success
	assert_output '4 3'
}

@test "default -j is the number of online CPUs" {
	local n
	n=$(ncpus)
	run measure $((n + 1)) "$n"
	assert_success
	assert_output "$((n + 1)) $n"
}

@test "default -j and -j N% count only the CPUs of the affinity mask (taskset -c 0: one CPU)" {
	require_cmd taskset
	run taskset -c 0 bash -c "$(declare -f measure); CONC=$CONC FP_BIN=$FP_BIN BATS_TEST_TMPDIR=$BATS_TEST_TMPDIR measure 2 2"
	assert_success
	assert_output '2 1'
	run taskset -c 0 bash -c "$(declare -f measure); CONC=$CONC FP_BIN=$FP_BIN BATS_TEST_TMPDIR=$BATS_TEST_TMPDIR measure 3 3 -j 200%"
	assert_success
	assert_output '3 2'
}

# --- --number-of-cpus, --number-of-cores, --number-of-threads, --number-of-sockets ---

# The CPUs this process may run on, one number a line.
allowed_cpus() {
	python3 -c 'import os; print("\n".join(map(str, sorted(os.sched_getaffinity(0)))))'
}

@test "--number-of-threads prints nproc's number and exits 0" {
	run --separate-stderr fp --number-of-threads
	assert_success
	assert_output "$(nproc)"
	assert_equal "$stderr" ''
}

@test "--number-of-cores and --number-of-cpus print the physical cores in /sys (one per thread_siblings_list), --number-of-sockets the packages" {
	require_cmd python3
	local cpus c cores sockets
	cpus=$(allowed_cpus)
	cores=$(for c in $cpus; do cat "/sys/devices/system/cpu/cpu$c/topology/thread_siblings_list"; done | sort -u | wc -l)
	sockets=$(for c in $cpus; do cat "/sys/devices/system/cpu/cpu$c/topology/physical_package_id"; done | sort -u | wc -l)
	run --separate-stderr fp --number-of-cores
	assert_success
	assert_output "$cores"
	run --separate-stderr fp --number-of-cpus
	assert_success
	assert_output "$cores"
	run --separate-stderr fp --number-of-sockets
	assert_success
	assert_output "$sockets"
	assert_equal "$stderr" ''
}

@test "--number-of-*: the same numbers as GNU parallel prints" {
	require_cmd parallel
	local o
	for o in cpus cores threads sockets; do
		run --separate-stderr fp --number-of-$o
		assert_success
		assert_output "$(parallel --number-of-$o)"
	done
}

@test "--number-of-*: under taskset -c 0 each prints 1; the option ends parsing, as --help does" {
	require_cmd taskset
	local o
	for o in cpus cores threads sockets; do
		run --separate-stderr taskset -c 0 "$FP_BIN" -k --number-of-$o --bogus
		assert_success
		assert_output 1
		assert_equal "$stderr" ''
	done
}

@test "-j +N is CPUs plus N" {
	local n
	n=$(ncpus)
	run measure $((n + 2)) $((n + 1)) -j +1
	assert_success
	assert_output "$((n + 2)) $((n + 1))"
}

@test "-j -N is CPUs minus N, at least 1" {
	local n m
	n=$(ncpus)
	m=$((n - 1 < 1 ? 1 : n - 1))
	run measure $((m + 1)) "$m" -j -1
	assert_success
	assert_output "$((m + 1)) $m"

	run measure 2 1 -j -$((n + 5))
	assert_success
	assert_output "2 1"
}

@test "-j N% is a percentage of the CPUs" {
	local n
	n=$(ncpus)
	run measure $((2 * n + 1)) $((2 * n)) -j 200%
	assert_success
	assert_output "$((2 * n + 1)) $((2 * n))"

	run measure $((n + 1)) "$n" -j 100%
	assert_success
	assert_output "$((n + 1)) $n"
}

@test "-j 50% is half of the CPUs, rounded down, at least 1" {
	local n m
	n=$(ncpus)
	m=$((n / 2 < 1 ? 1 : n / 2))
	run measure $((m + 1)) "$m" -j 50%
	assert_success
	assert_output "$((m + 1)) $m"
}

@test "-j 0 runs as many as possible and warns naming the cap" {
	run --separate-stderr measure 8 8 -j 0
	assert_success
	assert_output '8 8'
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" '^forkpool: .*[0-9]'
}

@test "invalid -j values exit 255 with a message naming -j" {
	local v
	for v in abc '' 1x 2.5 % x% ++1; do
		echo "checking -j '$v'"
		run --separate-stderr fp -j "$v" true ::: a
		assert_failure 255
		assert_output ''
		assert_regex "$stderr" '^forkpool: .*-j'
		assert_equal "${#stderr_lines[@]}" 1
	done
}

@test "invalid --jobs value exits 255 naming the option and value" {
	run --separate-stderr fp --jobs=many true ::: a
	assert_failure 255
	assert_output ''
	assert_regex "$stderr" '^forkpool: .*(-j|--jobs).*many'
}

# --- slots and sequence numbers -------------------------------------------------

@test "FORKPOOL_SEQ, PARALLEL_SEQ, FORKPOOL_SLOT, PARALLEL_JOBSLOT are set" {
	local s
	s=$(mkscript envs 'echo "$FORKPOOL_SEQ $PARALLEL_SEQ $FORKPOOL_SLOT $PARALLEL_JOBSLOT $1"')
	run --separate-stderr fp -k -j1 "$s" ::: a b c
	assert_success
	assert_output $'1 1 1 1 a\n2 2 1 1 b\n3 3 1 1 c'
}

@test "sequence variables equal {#} and slot variables equal {%}" {
	local s
	s=$(mkscript envcheck 'sleep 0.1
if [ "$FORKPOOL_SEQ" = "$1" ] && [ "$PARALLEL_SEQ" = "$1" ] &&
   [ "$FORKPOOL_SLOT" = "$2" ] && [ "$PARALLEL_JOBSLOT" = "$2" ]; then
	echo "ok $1"
else
	echo "bad $* $FORKPOOL_SEQ $PARALLEL_SEQ $FORKPOOL_SLOT $PARALLEL_JOBSLOT"
fi')
	run fp -k -j3 "$s" {#} {%} ::: a b c d e f
	assert_success
	assert_output $'ok 1\nok 2\nok 3\nok 4\nok 5\nok 6'
}

@test "two running jobs never share a slot; slots are 1..j" {
	local s d="$BATS_TEST_TMPDIR/slots.d"
	mkdir "$d"
	s=$(mkscript slot 'd=$1
mkdir "$d/slot.$FORKPOOL_SLOT" 2>/dev/null || echo "slot $FORKPOOL_SLOT in use" >>"$d/errors"
echo "$FORKPOOL_SLOT" >>"$d/used"
sleep 0.2
rmdir "$d/slot.$FORKPOOL_SLOT"')
	run fp -j3 "$s" "$d" ::: 1 2 3 4 5 6 7 8 9
	assert_success
	assert_file_not_exists "$d/errors"
	run sort -u "$d/used"
	assert_output $'1\n2\n3'
}

@test "jobs inherit the environment" {
	local s
	s=$(mkscript showenv 'echo "$FP_TEST_INHERIT $1"')
	run env FP_TEST_INHERIT=inherited "$FP_BIN" "$s" ::: x
	assert_success
	assert_output 'inherited x'
}

# --- stdin ------------------------------------------------------------------------

@test "a job's stdin is /dev/null (values from :::)" {
	local s
	s=$(mkscript stdin 'echo "$(readlink /proc/$$/fd/0) $1"; cat')
	run fpin $'leaked\ninput\n' -k "$s" ::: a b
	assert_success
	assert_output $'/dev/null a\n/dev/null b'
}

@test "a job's stdin is /dev/null and cannot eat forkpool's own input" {
	local s
	s=$(mkscript stdin 'echo "$(readlink /proc/$$/fd/0) $1"; cat')
	run fpin $'1\n2\n3\n4\n' -k -j1 "$s"
	assert_success
	assert_output $'/dev/null 1\n/dev/null 2\n/dev/null 3\n/dev/null 4'
}

# --- file descriptors ---------------------------------------------------------------

# ls /proc/self/fd shows the job's fds 0 1 2 plus the one ls opens to read the
# directory, which is 3 when nothing else is open.
FDS_CLEAN=$'0\n1\n2\n3'

# fp_nofds ARGS...: run forkpool ARGS with no descriptor above 2 open: bats
# keeps some open in every test, and jobs get what forkpool inherited.
fp_nofds() {
	bash -c "$CLOSE_FDS"'; exec "$FP_BIN" "$@"' fp_nofds "$@"
}

@test "jobs have only fds 0 1 2 open (concurrent siblings, direct exec)" {
	local s
	s=$(mkscript fds 'sleep 0.2; ls /proc/self/fd')
	run --separate-stderr fp_nofds -k -j4 "$s" ::: 1 2 3 4
	assert_success
	assert_output "$FDS_CLEAN"$'\n'"$FDS_CLEAN"$'\n'"$FDS_CLEAN"$'\n'"$FDS_CLEAN"
}

@test "jobs have only fds 0 1 2 open (shell mode)" {
	run --separate-stderr fp_nofds -k -j4 --exec-mode shell 'sleep 0.2; ls /proc/self/fd #' {} ::: 1 2 3 4
	assert_success
	assert_output "$FDS_CLEAN"$'\n'"$FDS_CLEAN"$'\n'"$FDS_CLEAN"$'\n'"$FDS_CLEAN"
}

@test "jobs do not get forkpool's input pipe, but do get the fds forkpool inherited" {
	local s
	s=$(mkscript fds 'sleep 0.2; ls /proc/self/fd')
	# ls's own descriptor is 3, the lowest free one.
	run --separate-stderr bash -c "$CLOSE_FDS"'; printf "1\n2\n3\n" |
		"$FP_BIN" -k -j3 "$1" 5</dev/null 7>"$2" 9<&0' _ "$s" "$BATS_TEST_TMPDIR/extra"
	assert_success
	assert_output $'0\n1\n2\n3\n5\n7\n9\n0\n1\n2\n3\n5\n7\n9\n0\n1\n2\n3\n5\n7\n9'
}

@test "jobs have only fds 0 1 2 open with --line-buffer, -u and -k" {
	local s mode
	s=$(mkscript fds 'sleep 0.1; ls /proc/self/fd')
	for mode in --line-buffer -u --group; do
		echo "checking $mode"
		run --separate-stderr fp_nofds -k -j2 "$mode" "$s" ::: 1 2
		assert_success
		run sort <<<"$output"
		assert_output $'0\n0\n1\n1\n2\n2\n3\n3'
	done
}

# --- process groups ---------------------------------------------------------------------

@test "each job is its own process group leader (direct exec)" {
	require_cmd ps
	local s
	s=$(mkscript pgid 'pg=$(ps -o pgid= -p $$ | tr -d " ")
if [ "$pg" = "$$" ]; then echo "leader $1"; else echo "not leader $1: pid $$ pgid $pg"; fi')
	run fp -k -j2 "$s" ::: a b c
	assert_success
	assert_output $'leader a\nleader b\nleader c'
}

@test "each job is its own process group leader (shell mode)" {
	require_cmd ps
	run fp -k -j2 --exec-mode shell \
		'pg=$(ps -o pgid= -p $$ | tr -d " "); if [ "$pg" = "$$" ]; then echo leader {}; else echo not leader {}; fi' \
		::: a b c
	assert_success
	assert_output $'leader a\nleader b\nleader c'
}
