#!/usr/bin/env bats
# --slurm and --slurm-alloc: jobs as job steps of a real Slurm allocation
# (tests/slurm.bash starts a single-node cluster for the file).

bats_require_minimum_version 1.5.0

load helper
load slurm

setup_file() {
	# One at a time: the tests share the node, and a test's teardown
	# cancels every allocation, another's too.
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
	slurm_start
}

teardown_file() {
	slurm_stop
}

setup() {
	[[ -n ${SLURM_CONF:-} ]] || slurm_start
	cd "$BATS_TEST_TMPDIR" || return 1
}

# Every test leaves the cluster with no allocation and no step.
teardown() {
	scancel --quiet -u "$(id -un)" 2>/dev/null || :
	! mountpoint -q "$BATS_TEST_TMPDIR/nx" || umount "$BATS_TEST_TMPDIR/nx"
}

# inalloc N ARGS...: forkpool --slurm ARGS in an allocation of N tasks.
inalloc() {
	local n=$1
	shift
	salloc -Q -n "$n" -- "$FP_BIN" --slurm "$@"
}

# started FILE...: wait (20 s) until every FILE is there and not empty (a
# job wrote it), or fail the test with the run's stderr (file err, or the
# typescript).
started() {
	local i f missing
	for ((i = 0; i < 200; i++)); do
		missing=
		for f; do
			[[ -s $f ]] || missing=$f
		done
		[[ -z $missing ]] && return 0
		sleep 0.1
	done
	fail "the jobs did not start ($missing): $(cat -v err typescript 2>/dev/null)"
}

# no_steps_left: no step of the cluster runs (a few seconds for Slurm to
# see the ends), and no process whose pid a job wrote in pids/ lives.
no_steps_left() {
	local steps f
	steps=$(slurm_wait_steps 10) || fail "steps still running: $steps"
	for f in "$BATS_TEST_TMPDIR"/pids/*; do
		[[ -e $f ]] || continue
		! kill -0 "$(cat "$f")" 2>/dev/null ||
			fail "the process of $f still runs"
	done
}

@test "--slurm: each job is a job step of the allocation, in order with -k" {
	run --separate-stderr salloc -Q -n2 -- sh -c '
		echo "alloc $SLURM_JOB_ID"
		exec "$0" --slurm -k "echo {} \$SLURM_JOB_ID \$SLURM_STEP_ID \$SLURM_JOB_NAME" ::: $(seq 12)' "$FP_BIN"
	echo "$stderr"
	assert_success
	[[ -z $stderr ]] || fail "stderr: $stderr"
	local alloc all=$output
	alloc=$(head -n 1 <<<"$output" | cut -d' ' -f2)
	[[ $alloc =~ ^[0-9]+$ ]] || fail "no allocation: $output"
	# in input order, each once, all in that allocation, named by seq
	run awk -v a="$alloc" 'NR > 1 && ($2 != a || $4 != "forkpool-" $1) { print "bad: " $0 }
		NR > 1 { print $1 }' <<<"$output"
	assert_output "$(seq 12)"
	# every job a step of its own
	run bash -c "tail -n +2 <<<\"\$1\" | cut -d' ' -f3 | sort -u | wc -l" _ "$all"
	assert_output 12
	no_steps_left
}

@test "--slurm: output and exit status as the same jobs run locally" {
	local cmd='printf "%s|" {}; echo; echo "e{#}" >&2; exit $(( {#} % 3 ))'
	local values=(a "b c" "'q'" '"d"' '$(touch pwned)' '`x`' '*' $'l1\nl2')
	run --separate-stderr "$FP_BIN" -k "$cmd" ::: "${values[@]}"
	local lstatus=$status lout=$output lerr=$stderr
	run --separate-stderr salloc -Q -n2 -- "$FP_BIN" --slurm -k "$cmd" ::: "${values[@]}"
	echo "$stderr"
	[[ $status -eq $lstatus ]] || fail "status $status, locally $lstatus"
	assert_equal "$output" "$lout"
	assert_equal "$stderr" "$lerr"
	assert_equal "$lstatus" 6
	[[ ! -e pwned ]] || fail "a value ran as code"
	# exec'd without a shell, the values are argv as they are
	run salloc -Q -n2 -- "$FP_BIN" --slurm -k -q printf '<%s>\n' ::: "${values[@]}"
	assert_success
	assert_output "$(printf '<%s>\n' "${values[@]}")"
}

@test "--slurm: -j defaults to the allocation's tasks; -j N overrides it" {
	run salloc -Q -n2 -- "$FP_BIN" --slurm ': {}; sleep 0.5; echo $FORKPOOL_SLOT' ::: 1 2 3 4
	assert_success
	run sort -u <<<"$output"
	assert_output $'1\n2'
	run salloc -Q -n1 -- "$FP_BIN" --slurm ': {}; echo $FORKPOOL_SLOT' ::: 1 2 3
	assert_success
	assert_output $'1\n1\n1'
	run salloc -Q -n2 -- "$FP_BIN" --slurm -j1 ': {}; echo $FORKPOOL_SLOT' ::: 1 2 3
	assert_success
	assert_output $'1\n1\n1'
}

@test "--slurm: the joblog names the node each step ran on, with the job's exit value" {
	run inalloc 2 --joblog log 'exit {}' ::: 0 3 0
	assert_failure 1
	run awk -F'\t' 'NR > 1 { print $1, $2, $7, $8, $9 }' log
	assert_output --regexp $'^[123] localhost [03] 0 exit [03]\n'
	run sort <<<"$output"
	assert_output $'1 localhost 0 0 exit 0\n2 localhost 3 0 exit 3\n3 localhost 0 0 exit 0'
}

@test "--slurm: a command not found is 127 and starts no more jobs, as locally" {
	run -127 --separate-stderr inalloc 1 no-such-command-fp ::: 1 2 3
	echo "$stderr"
	assert_equal "$(grep -c 'no-such-command-fp: not found' <<<"$stderr")" 1
	[[ $stderr == *"starting no more jobs"* ]] || fail "$stderr"
}

@test "--slurm: a step killed by a signal is exit value 128+N, as srun gives it" {
	run inalloc 1 --joblog log 'kill -TERM $$' ::: 1
	assert_failure 1
	run awk -F'\t' 'NR > 1 { print $7, $8 }' log
	assert_output '143 0'
}

@test "--slurm: --timeout ends the step itself: no step, no process left" {
	mkdir pids
	SECONDS=0
	run --separate-stderr inalloc 2 --timeout 1 --joblog log \
		'echo $$ > pids/{}; exec sleep 60' ::: a b
	echo "$stderr"
	assert_failure 2
	((SECONDS < 30)) || fail "took $SECONDS s"
	[[ -s pids/a && -s pids/b ]] || fail "the jobs did not run"
	no_steps_left
}

@test "--slurm: --halt now,fail=1 ends the running steps" {
	mkdir pids
	SECONDS=0
	run --separate-stderr inalloc 2 --halt now,fail=1 \
		'if [ {} = bad ]; then sleep 1; exit 4; fi; echo $$ > pids/{}; exec sleep 60' ::: long bad
	echo "$stderr"
	assert_failure 4
	((SECONDS < 30)) || fail "took $SECONDS s"
	[[ -s pids/long ]] || fail "the long job did not run"
	no_steps_left
}

@test "--slurm: a step that ignores SIGTERM is killed by the --termseq's KILL" {
	mkdir pids
	SECONDS=0
	run --separate-stderr inalloc 1 --timeout 1 --termseq TERM,500,KILL,25 \
		"trap '' TERM; echo \$\$ > pids/x; sleep 60; :" ::: x
	echo "$stderr"
	assert_failure 1
	((SECONDS < 30)) || fail "took $SECONDS s"
	no_steps_left
}

@test "--slurm: SIGINT (Ctrl-C) to forkpool leaves no step running" {
	mkdir pids
	salloc -Q -n2 -- sh -c 'echo $$ > fp.pid; exec "$0" --slurm "echo \$\$ > pids/{}; exec sleep 60" ::: a b' \
		"$FP_BIN" >out 2>err 3>&- &
	local bg=$! i
	started pids/a pids/b
	kill -INT "$(cat fp.pid)"
	local status=0
	wait "$bg" || status=$?
	cat err
	((status != 0)) || fail "forkpool exited 0 after SIGINT"
	no_steps_left
}

@test "--slurm: Ctrl-Z (SIGTSTP) stops the steps, SIGCONT continues them" {
	salloc -Q -n1 -- sh -c 'echo $$ > fp.pid; exec "$0" --slurm ": {}; while :; do echo t >> ticks; sleep 0.1; done" ::: 1' \
		"$FP_BIN" >out 2>err 3>&- &
	local bg=$! i a b c
	started ticks
	kill -TSTP "$(cat fp.pid)"
	# stopped: no tick for a second (the job ticks every 0.1 s)
	for ((i = 0; i < 20; i++)); do
		a=$(wc -l <ticks)
		sleep 1
		b=$(wc -l <ticks)
		[[ $a == "$b" ]] && break
	done
	assert_equal "$b" "$a"
	kill -CONT "$(cat fp.pid)"
	for ((i = 0; i < 100; i++)); do
		c=$(wc -l <ticks)
		((c > b)) && break
		sleep 0.1
	done
	((c > b)) || fail "not continued: $b then $c ticks"
	kill -TERM "$(cat fp.pid)"
	wait "$bg" || :
	no_steps_left
}

@test "--slurm: a step Slurm did not create runs again, once, with a warning" {
	# an srun that fails the first time for each job, before the step
	mkdir bin
	cat >bin/srun <<-EOF
	#!/bin/sh
	if [ ! -e "$BATS_TEST_TMPDIR/failed.\$FORKPOOL_SEQ" ]; then
		: >"$BATS_TEST_TMPDIR/failed.\$FORKPOOL_SEQ"
		echo "srun: error: refused" >&2
		exit "\${SLURM_EXIT_ERROR:-1}"
	fi
	exec $(command -v srun) "\$@"
	EOF
	chmod +x bin/srun
	run --separate-stderr env PATH="$PWD/bin:$PATH" salloc -Q -n2 -- \
		"$FP_BIN" --slurm -k --joblog log 'echo {}; exit 0' ::: a b
	echo "$stderr"
	assert_success
	assert_output $'a\nb'
	# srun's message of the failed attempt is dropped with its output
	[[ $stderr != *refused* ]] || fail "the failed attempt's output was kept"
	assert_equal "$(grep -c 'Slurm did not start its step (srun: exit status 254); the job runs again' <<<"$stderr")" 2
	run awk -F'\t' 'NR > 1 { print $1, $2, $7 }' log
	run sort <<<"$output"
	assert_output $'1 localhost 0\n2 localhost 0'
}

@test "--slurm: after 3 steps refused in a row, forkpool gives up with Slurm's reason" {
	# more CPUs per task than the node has: every step is refused
	run --separate-stderr env SLURM_CPUS_PER_TASK=64 salloc -Q -n1 -- \
		"$FP_BIN" --slurm --joblog log echo ::: 1 2 3 4 5
	echo "$stderr"
	assert_failure 5
	assert_output ''
	[[ $stderr == *"Slurm started no step for 3 jobs in a row; no more jobs start: srun: error: Unable to create step"* ]] ||
		fail "no reason given"
	# every job is reported, as not run: exit value 255, no host
	run awk -F'\t' 'NR > 1 { print $1, "[" $2 "]", $7 }' log
	run sort <<<"$output"
	assert_output $'1 [] 255\n2 [] 255\n3 [] 255\n4 [] 255\n5 [] 255'
}

@test "--slurm: a node failure under the steps: no job taken for done, no more start" {
	mkdir pids
	salloc -Q -n2 -- "$FP_BIN" --slurm --joblog log \
		'echo $$ > pids/{}; exec sleep 30' ::: a b c >out 2>err 3>&- &
	local bg=$! i
	started pids/a pids/b
	# srun exits 0 when its node fails: forkpool must not believe it
	scontrol update nodename=localhost state=down reason=fp-test
	local status=0
	wait "$bg" || status=$?
	cat err
	assert_equal "$status" 3
	grep -q 'forkpool: the Slurm allocation [0-9]* ended (.*): no more jobs start' err ||
		fail "not said"
	run awk -F'\t' 'NR > 1 { print $1, "[" $2 "]", $7 }' log
	run sort <<<"$output"
	assert_output $'1 [] 255\n2 [] 255\n3 [] 255'
	assert_equal "$(cat out)" ''
	# the node comes back by itself (ReturnToService=2)
	for ((i = 0; i < 100; i++)); do
		[[ $(sinfo -h -o %T) == idle ]] && break
		sleep 0.1
	done
}

@test "--slurm: a step whose prolog cannot record it still counts as run, once" {
	# the record is missing (as when the disk is full): srun runs the
	# step anyway, so the job's exit status is its own, not a refusal
	mkdir bin
	cat >bin/srun <<-EOF
	#!/bin/sh
	for a; do
		case \$a in --prolog=*) ;; *) set -- "\$@" "\$a" ;; esac
		shift
	done
	exec $(command -v srun) --prolog=/bin/true "\$@"
	EOF
	chmod +x bin/srun
	run --separate-stderr env PATH="$PWD/bin:$PATH" salloc -Q -n1 -- \
		"$FP_BIN" --slurm --joblog log 'echo run {} >> ran; exit 3' ::: a b
	echo "$stderr"
	assert_failure 2
	assert_equal "$(cat ran)" $'run a\nrun b'
	[[ $stderr != *"runs again"* ]] || fail "run again"
	run awk -F'\t' 'NR > 1 { print $1, "[" $2 "]", $7 }' log
	assert_output $'1 [] 3\n2 [] 3'
}

@test "--slurm: a TMPDIR where programs may not run is refused at the start" {
	mkdir nx
	if ! mount -t tmpfs -o noexec tmpfs nx 2>/dev/null; then
		[[ ${CI:-} != true ]] || fail "cannot mount a noexec file system"
		skip "cannot mount a noexec file system here"
	fi
	run --separate-stderr env TMPDIR="$PWD/nx" salloc -Q -n1 -- \
		"$FP_BIN" --slurm touch ran ::: 1
	echo "$stderr"
	assert_failure 255
	[[ $stderr =~ ^forkpool:\ --slurm:\ $PWD/nx/forkpool\.slurm\.[^/]*/prolog:\ srun\ could\ not\ run\ it\;\ set\ TMPDIR\ or\ --tmpdir\ to\ a\ directory\ where\ programs\ may\ run:\ Permission\ denied$ ]] ||
		fail "stderr: $stderr"
	# nothing of the run is left there
	run ls -A nx
	umount nx
	assert_output ''
	[[ ! -e ran ]] || fail "a job ran"
}

@test "--slurm: a job stopped before it had a step ran nowhere: empty Host, by the signal" {
	# 3 slots for 2 tasks: the third srun waits for a CPU
	run --separate-stderr inalloc 2 -j3 --timeout 3 --joblog log sleep 30 ::: 1 2 3
	echo "$stderr"
	assert_failure 3
	# two ran on the node, one nowhere, all ended by --timeout's SIGTERM,
	# as locally: Signal 15
	run awk -F'\t' 'NR > 1 { print "[" $2 "]", $7, $8 }' log
	run sort <<<"$output"
	assert_output $'[] -1 15\n[localhost] -1 15\n[localhost] -1 15'
	no_steps_left
}

@test "--slurm: giving up on refused steps is said once, with every slot running" {
	run --separate-stderr env SLURM_CPUS_PER_TASK=64 salloc -Q -n2 -- \
		"$FP_BIN" --slurm -j4 echo ::: 1 2 3 4 5 6 7 8
	echo "$stderr"
	assert_failure 8
	assert_equal "$(grep -c 'Slurm started no step' <<<"$stderr")" 1
}

@test "--slurm: a signal while forkpool starts leaves nothing in TMPDIR" {
	# a slow scontrol holds the start (the site's SrunProlog is asked)
	mkdir bin tmp
	printf '#!/bin/sh\nsleep 30\n' >bin/scontrol
	chmod +x bin/scontrol
	salloc -Q -n1 -- env PATH="$PWD/bin:$PATH" TMPDIR="$PWD/tmp" \
		sh -c 'echo $$ > fp.pid; exec "$0" --slurm true ::: 1' "$FP_BIN" \
		>out 2>err 3>&- &
	local bg=$! i
	for ((i = 0; i < 100; i++)); do
		[[ -s fp.pid && -n $(ls tmp) ]] && break
		sleep 0.1
	done
	[[ -n $(ls tmp) ]] || fail "forkpool did not start: $(cat err)"
	kill -TERM "$(cat fp.pid)"
	wait "$bg" || :
	run ls -A tmp
	assert_output ''
}

@test "--slurm: CPU time and peak RSS of a step are unknown, not srun's" {
	run --separate-stderr inalloc 1 --summary --results res.csv true ::: 1 2
	assert_success
	[[ $stderr == *"not counting 2 jobs whose CPU time is not known"* ]] ||
		fail "stderr: $stderr"
	[[ $stderr != *"peak RSS"* ]] || fail "a peak RSS of srun's: $stderr"
	# --results: UserTime, SystemTime and MaxRSS empty; locally set
	run bash -c "cut -d, -f2,13-15 res.csv | tr -d '\\r'"
	assert_output $'Host,UserTime,SystemTime,MaxRSS\nlocalhost,,,\nlocalhost,,,'
	"$FP_BIN" --results local.csv true ::: 1
	run bash -c "cut -d, -f13-15 local.csv | tr -d '\\r'"
	assert_line --index 1 --regexp '^[0-9.]+,[0-9.]+,[0-9]+$'
}

@test "--slurm outside an allocation: a clear error, nothing runs" {
	run --separate-stderr env -u SLURM_JOB_ID "$FP_BIN" --slurm touch ran ::: 1
	assert_failure 255
	assert_equal "$stderr" "forkpool: --slurm: not in a Slurm allocation (SLURM_JOB_ID is not set): run forkpool under salloc or sbatch, or ask for one with --slurm-alloc 'SALLOC OPTIONS'"
	[[ ! -e ran ]] || fail "a job ran"
}

@test "--slurm without srun in PATH: the command is named" {
	mkdir bin
	ln -s "$(command -v salloc)" bin/salloc
	run --separate-stderr env PATH="$PWD/bin:/usr/bin/nonexistent" \
		"$(command -v salloc)" -Q -n1 -- "$FP_BIN" --slurm true ::: 1
	assert_failure 255
	assert_equal "$stderr" "forkpool: --slurm: srun: command not found"
}

@test "--slurm cannot be used with -S, --onall, --tty or as a semaphore" {
	run --separate-stderr "$FP_BIN" --slurm -S : echo ::: 1
	assert_failure 255
	assert_equal "$stderr" "forkpool: --slurm cannot be used with -S or --sshloginfile: the jobs run either on hosts over ssh or as Slurm job steps"
	run --separate-stderr "$FP_BIN" --slurm-alloc -n1 --nonall echo
	assert_failure 255
	assert_equal "$stderr" "forkpool: --slurm-alloc cannot be used with --nonall: the jobs run either on hosts over ssh or as Slurm job steps"
	run --separate-stderr "$FP_BIN" --slurm --tty echo ::: 1
	assert_failure 255
	assert_equal "$stderr" "forkpool: --slurm cannot be used with --tty: a job step has no terminal"
	run --separate-stderr "$FP_BIN" --semaphore --slurm echo
	assert_failure 255
	assert_equal "$stderr" "forkpool: --slurm: does not apply to --semaphore, which runs one command"
}

@test "--slurm --pipe: blocks go to the steps' stdin" {
	run bash -c 'seq 30 | "$1" --pipe -N7 -k wc -l' _ "$FP_BIN"
	local local_out=$output
	run bash -c 'seq 30 | salloc -Q -n2 -- "$1" --slurm --pipe -N7 -k wc -l' _ "$FP_BIN"
	assert_success
	assert_equal "$output" "$local_out"
}

@test "--slurm-alloc: the run happens in a new allocation, released at its end" {
	run --separate-stderr env -u SLURM_JOB_ID "$FP_BIN" --slurm-alloc '-n 2' -k \
		'echo {} $SLURM_JOB_ID $SLURM_STEP_ID; exit {}' ::: 0 1 0
	echo "$stderr"
	assert_failure 1
	run awk '$2 !~ /^[0-9]+$/ || $3 !~ /^[0-9]+$/ { print "bad: " $0 } { print $1 }' <<<"$output"
	assert_output $'0\n1\n0'
	run slurm_jobs
	assert_output ''
}

@test "--slurm-alloc: stdin reaches the jobs through salloc" {
	run bash -c 'printf "%s\n" x y | "$1" --slurm-alloc -n1 -k -q printf "<%s>\n"' _ "$FP_BIN"
	assert_success
	assert_output $'<x>\n<y>'
}

@test "--slurm-alloc: no allocation granted: exit 255, salloc's reason, nothing runs" {
	run --separate-stderr "$FP_BIN" --slurm-alloc '-n 99 --immediate=1' touch ran ::: 1
	echo "$stderr"
	assert_failure 255
	[[ $stderr == *"forkpool: --slurm-alloc: salloc ended (exit status 1) before forkpool ran in an allocation"* ]] ||
		fail "stderr: $stderr"
	[[ ! -e ran ]] || fail "a job ran"
	run --separate-stderr "$FP_BIN" --slurm-alloc '--no-such-salloc-option' touch ran ::: 1
	assert_failure 255
	[[ $stderr == *"before forkpool ran in an allocation"* ]] || fail "stderr: $stderr"
}

@test "--slurm-alloc: ARGS with -- are refused: salloc runs forkpool" {
	run --separate-stderr "$FP_BIN" --slurm-alloc '-n 1 -- touch ran' echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --slurm-alloc: -n 1 -- touch ran: salloc's options only: the command salloc runs is forkpool"
	[[ ! -e ran ]] || fail "salloc ran the command"
	run --separate-stderr "$FP_BIN" --slurm-alloc '' echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --slurm-alloc: the list of salloc options is empty"
}

# alloc_signal_group SIG group|one: forkpool --slurm-alloc in a process
# group of its own with stdin not a terminal, 2 sleeping steps, then SIG to
# the whole group (as a terminal's Ctrl-C does) or to the outer forkpool
# alone; sets status.
alloc_signal_group() {
	mkdir -p pids
	setsid -w "$FP_BIN" --slurm-alloc '-n 2' --joblog log \
		'echo $$ > pids/{}; exec sleep 60' ::: a b c </dev/null >out 2>err 3>&- &
	local bg=$! i
	started pids/a pids/b
	if [[ $2 == group ]]; then
		kill "-$1" -- "-$(ps -o pgid= -p "$(pgrep -P "$bg" -x forkpool || echo "$bg")" | tr -d ' ')"
	else
		kill "-$1" "$(pgrep -P "$bg" -x forkpool || echo "$bg")"
	fi
	status=0
	wait "$bg" || status=$?
	cat err
}

@test "--slurm-alloc: Ctrl-C with stdin not a terminal ends the jobs, not the allocation under them" {
	alloc_signal_group INT group
	assert_equal "$status" 130
	grep -q 'allocation .* ended' err && fail "taken for a lost allocation"
	# no row of a job that ran nowhere
	run awk -F'\t' 'NR > 1 && $2 == "" { print }' log
	assert_output ''
	no_steps_left
}

@test "--slurm-alloc: SIGTERM while the jobs run ends them, and forkpool dies of it" {
	alloc_signal_group TERM one
	assert_equal "$status" 143
	grep -q 'allocation .* ended' err && fail "taken for a lost allocation"
	run awk -F'\t' 'NR > 1 && $2 == "" { print }' log
	assert_output ''
	no_steps_left
}

@test "--slurm-alloc: --no-shell is refused: the allocation would hold no forkpool" {
	run --separate-stderr "$FP_BIN" --slurm-alloc '-n 1 --no-shell' echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --slurm-alloc: -n 1 --no-shell: --no-shell would leave the allocation with no forkpool in it"
	run slurm_jobs
	assert_output ''
}

@test "--slurm-alloc: the forkpool inside killed: a message and 255, not salloc's 0" {
	mkdir pids
	"$FP_BIN" --slurm-alloc '-n 1' 'echo $PPID > pids/{}; sleep 30' ::: x \
		</dev/null >out 2>err 3>&- &
	local bg=$! i
	started pids/x
	# the forkpool inside: salloc's child
	local salloc inner
	salloc=$(cat "/proc/$bg/task/$bg/children")
	inner=$(cat "/proc/${salloc%% *}/task/${salloc%% *}/children")
	[[ $(cat "/proc/${inner%% *}/comm") == forkpool ]] ||
		fail "no forkpool inside: $inner"
	inner=${inner%% *}
	kill -KILL "$inner"
	local status=0
	wait "$bg" || status=$?
	cat err
	assert_equal "$status" 255
	grep -q 'forkpool: --slurm-alloc: the forkpool in the allocation ended without an exit status' err ||
		fail "not said"
}

@test "--slurm-alloc: a Ctrl-C at a terminal with stdin a pipe and tostop set ends the run" {
	require_cmd script
	# the forkpool inside writes to the terminal: it must have its
	# foreground (tostop), and then the Ctrl-C is its own
	timeout 60 script -qfec "stty tostop; seq 2 | sh -c 'echo \$\$ > outer.pid; exec \"\$0\" --slurm-alloc \"-n 2\" -k \"echo out {}; echo \\\$\\\$ > pids{}; exec sleep 60\"' '$FP_BIN'; echo rc=\$?" \
		typescript </dev/null >/dev/null 2>&1 3>&- &
	local bg=$! i
	started pids1 pids2
	# the terminal's foreground process group gets the Ctrl-C
	local fg
	fg=$(ps -o tpgid= -p "$(cat outer.pid)" | tr -d ' ')
	[[ $fg -gt 0 && $fg != "$(ps -o pgid= -p "$(cat outer.pid)" | tr -d ' ')" ]] ||
		fail "the forkpool inside does not have the terminal: $fg"
	kill -INT -- "-$fg"
	wait "$bg" || fail "the run did not end: $(cat -v typescript)"
	grep -a -q 'rc=130' typescript || fail "$(cat -v typescript)"
	no_steps_left
}

@test "--slurm-alloc: SIGTERM while pending cancels the request" {
	"$FP_BIN" --slurm-alloc '-n 99' touch ran ::: 1 >out 2>err 3>&- &
	local bg=$! i
	for ((i = 0; i < 100; i++)); do
		[[ -n $(slurm_jobs) ]] && break
		sleep 0.1
	done
	[[ -n $(slurm_jobs) ]] || fail "no request pends: $(cat err)"
	kill -TERM "$bg"
	local status=0
	wait "$bg" || status=$?
	cat err
	assert_equal "$status" 255
	for ((i = 0; i < 50; i++)); do
		[[ -z $(slurm_jobs) ]] && break
		sleep 0.1
	done
	run slurm_jobs
	assert_output ''
	[[ ! -e ran ]] || fail "a job ran"
}

@test "--slurm-alloc --bar on a terminal: the time pending is shown" {
	require_cmd script
	script -qfec "$FP_BIN --slurm-alloc '-n 99' --bar true ::: 1" typescript \
		>/dev/null 2>&1 3>&- &
	local bg=$!
	sleep 2.5
	kill -TERM "$bg" 2>/dev/null || :
	pkill -TERM -P "$bg" 2>/dev/null || :
	wait "$bg" || :
	grep -a -q 'forkpool: --slurm-alloc: waiting for an allocation: 2s' typescript ||
		fail "not shown: $(cat -v typescript)"
}
