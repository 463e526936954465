#!/usr/bin/env bats
# Semaphore mode: --semaphore runs one command while it holds one of -j
# slots of a semaphore that separate forkpool processes share.

bats_require_minimum_version 1.5.0
load helper

setup_file() {
	# sjob ID: under a lock, count itself in "count" and keep the highest
	# count in "max"; log "start ID", wait (at most 10 s) for the file
	# "go", log "end ID" and count itself out.
	mkbin sjob 'in_lock() { flock count.lock sh -c "$1" _ "$2"; }
in_lock '\''n=$(($(cat count) + 1)); echo $n >count
[ "$n" -gt "$(cat max)" ] && echo $n >max; echo "start $1" >>log'\'' "$1"
i=0
while [ ! -e go ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
in_lock '\''echo $(($(cat count) - 1)) >count; echo "end $1" >>log'\'' "$1"'
	export SJOB="$BATS_FILE_TMPDIR/bin/sjob"
}

setup() {
	fp_setup
	require_cmd flock
	cd "$BATS_TEST_TMPDIR"
	# The semaphores of the test, never the user's.
	export XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/run"
	export HOME="$BATS_TEST_TMPDIR/home"
	unset XDG_CACHE_HOME
	mkdir -m 700 run home
	echo 0 >count
	echo 0 >max
}

teardown() {
	kill_leftovers
}

# wait_log N: wait (at most 5 s) until the log has N lines.
wait_log() {
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -e log && $(wc -l <log) -ge $1 ]] && return 0
		sleep 0.05
	done
	fail "timed out waiting for $1 lines in log"
}

# bgsem ARGS...: run forkpool ARGS with stdout and stderr appended to the
# files out and err, which a command it leaves running keeps open.
bgsem() {
	"$FP_BIN" "$@" </dev/null >>out 2>>err 3>&-
}

# running PID: whether process PID is alive and not a zombie.
running() {
	local state=Z
	read -r _ _ state _ 2>/dev/null <"/proc/$1/stat" || true
	[[ $state != Z ]]
}

@test "--semaphore -j2: of 4 background commands never more than 2 run at once" {
	local i pids=()
	for i in 1 2 3 4; do
		"$FP_BIN" --semaphore -j2 --id t "$SJOB" "$i" </dev/null \
			>>out 2>>err 3>&- &
		pids+=($!)
	done
	wait_log 2
	# Time for a third command to start, were the limit not kept.
	sleep 0.5
	run cat max
	assert_output 2
	# The forkpool processes of the first two have returned; two wait.
	local waiting=0
	for i in "${pids[@]}"; do
		running "$i" && waiting=$((waiting + 1))
	done
	assert_equal "$waiting" 2
	touch go
	for i in "${pids[@]}"; do
		wait "$i"
	done
	run "$FP_BIN" --semaphore --wait --id t
	assert_success
	assert_output ''
	run sort log
	assert_output $'end 1\nend 2\nend 3\nend 4\nstart 1\nstart 2\nstart 3\nstart 4'
	run cat max count out err
	assert_output $'2\n0'
}

@test "--semaphore: forkpool returns once the command started, with status 0" {
	bgsem --semaphore --id t "$SJOB" 1
	wait_log 1
	run cat log
	assert_output 'start 1'
	touch go
	run "$FP_BIN" --semaphore --wait --id t
	assert_success
	run cat log
	assert_output $'start 1\nend 1'
}

@test "--semaphore --fg: waits for the command and exits with its status" {
	run --separate-stderr "$FP_BIN" --semaphore --fg --id t 'echo out; echo err >&2; exit 7'
	assert_failure 7
	assert_output 'out'
	assert_equal "$stderr" 'err'
	run "$FP_BIN" --semaphore --fg --id t true
	assert_success
	assert_output ''
}

@test "--semaphore --fg: a command killed by a signal gives 128 plus its number" {
	run "$FP_BIN" --semaphore --fg --id t 'kill -9 $$'
	assert_failure 137
	assert_output ''
}

@test "--semaphore: a command that is not found gives 127, in the background too" {
	run -127 "$FP_BIN" --semaphore --fg --id t nosuchcmd-fp arg
	assert_failure 127
	assert_output 'forkpool: nosuchcmd-fp: command not found'
	run -127 bgsem --semaphore --id t nosuchcmd-fp arg
	assert_failure 127
	run cat out err
	assert_output 'forkpool: nosuchcmd-fp: command not found'
}

@test "--semaphore --fg: the command reads forkpool's stdin" {
	run bash -c 'printf "a b\n" | "$FP_BIN" --semaphore --fg --id t cat'
	assert_success
	assert_output 'a b'
}

@test "--semaphore: the words are a shell command line, as a command template's" {
	run "$FP_BIN" --semaphore --fg --id t echo 'a  b' '$HOME' '|' tr a-z A-Z
	assert_success
	assert_output "A B ${HOME^^}"
	run "$FP_BIN" --semaphore --fg --id t 'echo 1; echo 2'
	assert_success
	assert_output $'1\n2'
}

@test "--semaphore: the command gets its slot as {%} and FORKPOOL_SLOT, and job 1" {
	run "$FP_BIN" --semaphore --fg -j3 --id t \
		'echo {%} {#} $FORKPOOL_SLOT $PARALLEL_JOBSLOT $FORKPOOL_SEQ $PARALLEL_SEQ'
	assert_success
	assert_output '1 1 1 1 1 1'
	bgsem --semaphore -j3 --id t "$SJOB" 1
	run "$FP_BIN" --semaphore --fg -j3 --id t 'echo {%} $FORKPOOL_SLOT'
	assert_output '2 2'
	touch go
}

@test "--wait: waits until every command holding a slot has finished" {
	bgsem --semaphore -j2 --id t "$SJOB" 1
	bgsem --semaphore -j2 --id t "$SJOB" 2
	local w
	bash -c '"$FP_BIN" --semaphore --wait --id t; echo "status $?"; sort log' \
		</dev/null >waited 2>&1 3>&- &
	w=$!
	sleep 0.3
	running "$w" || fail "--wait returned while the commands ran"
	touch go
	wait "$w"
	# Both had ended when --wait returned.
	run cat waited
	assert_output $'status 0\nend 1\nend 2\nstart 1\nstart 2'
	run cat out err
	assert_output ''
}

@test "--wait: returns at once for a semaphore never used" {
	run "$FP_BIN" --wait --id never
	assert_success
	assert_output ''
	assert_not_exists run/forkpool/sem/never
}

@test "--wait: a semaphore of another name is not waited for" {
	bgsem --semaphore --id other "$SJOB" 1
	run "$FP_BIN" --semaphore --wait --id t
	assert_success
	assert_output ''
	touch go
}

@test "--semaphore: a holder killed with SIGKILL frees its slot" {
	bgsem --semaphore --id t 'echo $PPID >h && mv h holder; exec sleep 30'
	wait_files 1 holder
	kill -9 "$(cat holder)"
	run "$FP_BIN" --semaphore --fg --id t --semaphoretimeout -5 echo next
	assert_success
	assert_output 'next'
	# The file the killed holder left is removed by the next to leave.
	run ls -A run/forkpool/sem
	assert_output ''
}

@test "--semaphore: a command killed with SIGKILL frees its slot" {
	bgsem --semaphore --id t 'echo $$ >c && mv c cmd; exec sleep 30'
	wait_files 1 cmd
	kill -9 "$(cat cmd)"
	run "$FP_BIN" --semaphore --fg --id t --semaphoretimeout -5 echo next
	assert_success
	assert_output 'next'
}

@test "--semaphore: SIGTERM to the process holding the slot reaches the command" {
	bgsem --semaphore --id t 'echo $PPID >h && mv h holder; trap "echo TERM >got; exit 3" TERM; while :; do sleep 0.05; done'
	wait_files 1 holder
	kill -TERM "$(cat holder)"
	wait_files 1 got
	run cat got
	assert_output TERM
	run "$FP_BIN" --semaphore --fg --id t --semaphoretimeout -5 echo next
	assert_success
	assert_output 'next'
}

@test "--semaphoretimeout -SECS: gives up after SECS with status 1" {
	bgsem --semaphore --id t "$SJOB" 1
	run "$FP_BIN" --semaphore --fg --id t --semaphoretimeout -0.5 echo never
	assert_failure 1
	assert_output 'forkpool: --semaphoretimeout -0.5: no slot of semaphore t came free in time: giving up'
	run "$FP_BIN" --semaphore --id t --st -0.2s echo never
	assert_failure 1
	assert_output 'forkpool: --semaphoretimeout -0.2s: no slot of semaphore t came free in time: giving up'
	touch go
}

@test "--semaphoretimeout SECS: runs the command anyway after SECS" {
	bgsem --semaphore --id t "$SJOB" 1
	run "$FP_BIN" --semaphore --fg --id t --semaphoretimeout 0.3 'echo ran; exit 4'
	assert_failure 4
	assert_output $'forkpool: --semaphoretimeout 0.3: no slot of semaphore t came free in time: running the command anyway\nran'
	touch go
}

@test "--wait --semaphoretimeout: gives up with 1 (negative) or goes on with 0" {
	bgsem --semaphore --id t "$SJOB" 1
	run "$FP_BIN" --wait --id t --semaphoretimeout -0.3
	assert_failure 1
	assert_output 'forkpool: --semaphoretimeout -0.3: semaphore t still has commands running: giving up'
	run "$FP_BIN" --wait --id t --semaphoretimeout 0.3
	assert_success
	assert_output 'forkpool: --semaphoretimeout 0.3: semaphore t still has commands running: going on'
	touch go
}

@test "--semaphoretimeout: a value that is no number of seconds is refused" {
	run "$FP_BIN" --semaphore --st 1x true
	assert_failure 255
	assert_output 'forkpool: --semaphoretimeout 1x: not a duration such as 90, 1.5s or 1d2h3m4.5s'
	run "$FP_BIN" --semaphore --semaphoretimeout '' true
	assert_failure 255
	assert_output 'forkpool: --semaphoretimeout : not a duration such as 90, 1.5s or 1d2h3m4.5s'
	run "$FP_BIN" --semaphore --st -1m1x true
	assert_failure 255
	assert_output 'forkpool: --semaphoretimeout -1m1x: not a duration such as 90, 1.5s or 1d2h3m4.5s'
}

@test "--id: an empty name, one with a slash, . and .. are refused" {
	run "$FP_BIN" --semaphore --id '' true
	assert_failure 255
	assert_output 'forkpool: --id: the name is empty'
	run "$FP_BIN" --semaphore --id a/b true
	assert_failure 255
	assert_output "forkpool: --id a/b: the name may not contain '/'"
	run "$FP_BIN" --semaphore --id .. true
	assert_failure 255
	assert_output "forkpool: --id ..: not a valid name"
	run "$FP_BIN" --semaphore --semaphore-name . true
	assert_failure 255
	assert_output "forkpool: --id .: not a valid name"
	run ls run
	assert_output ''
}

@test "--semaphore: no command, an input source, or a command with --wait is refused" {
	run "$FP_BIN" --semaphore --id t
	assert_failure 255
	assert_output 'forkpool: --semaphore: no command to run'
	run "$FP_BIN" --semaphore --id t echo ::: a
	assert_failure 255
	assert_output 'forkpool: --semaphore runs the command once: it takes no input source (-a, :::, ::::)'
	run "$FP_BIN" --semaphore --id t -a /dev/null echo
	assert_failure 255
	assert_output 'forkpool: --semaphore runs the command once: it takes no input source (-a, :::, ::::)'
	run "$FP_BIN" --wait --id t echo hi
	assert_failure 255
	assert_output 'forkpool: --wait runs no command: echo given'
}

@test "--semaphore: an option of job runs that it would not use is refused, naming it; \$FORKPOOL's are ignored" {
	local opt name
	for opt in -k --joblog=log --timeout=1 --tag --retries=2 -n2 \
	    --max-args=2 --results=r; do
		name=${opt%%=*}
		[[ $name == --max-args || $name == -n2 ]] && name=-n
		run "$FP_BIN" --semaphore --fg --id t "$opt" touch ran
		assert_failure 255
		assert_output "forkpool: $name: does not apply to --semaphore, which runs one command"
	done
	assert [ ! -e ran ]
	run "$FP_BIN" -j2 --shell /bin/sh --will-cite --semaphore --fg --id t 'echo ok'
	assert_success
	assert_output ok
	FORKPOOL='-k --tag' run "$FP_BIN" --semaphore --fg --id t 'echo ok'
	assert_success
	assert_output ok
}

@test "--semaphore: a semaphore is a file in a private directory under XDG_RUNTIME_DIR" {
	run "$FP_BIN" --semaphore --fg --id mine 'ls run/forkpool/sem'
	assert_success
	assert_output mine
	run stat -c %a run/forkpool run/forkpool/sem
	assert_output $'700\n700'
}

@test "--semaphore: without XDG_RUNTIME_DIR, under ~/.cache" {
	unset XDG_RUNTIME_DIR
	run "$FP_BIN" --semaphore --fg --id mine 'ls home/.cache/forkpool/sem'
	assert_success
	assert_output mine
	run stat -c %a home/.cache/forkpool/sem
	assert_output 700
}

@test "--semaphore: a semaphore directory others may write to is refused" {
	mkdir -p run/forkpool/sem
	chmod 777 run/forkpool/sem
	run "$FP_BIN" --semaphore --fg --id t true
	assert_failure 255
	assert_output "forkpool: $XDG_RUNTIME_DIR/forkpool/sem: not private to its owner (mode 777)"
}

@test "--semaphore: without --id, the name is notty when stdin is no terminal" {
	run "$FP_BIN" --semaphore --fg 'ls run/forkpool/sem' </dev/null
	assert_success
	assert_output notty
}

@test "--id, --fg, --bg and --semaphoretimeout imply --semaphore; -j defaults to 1" {
	bgsem --bg --id t "$SJOB" 1
	run "$FP_BIN" --fg --id t --st -0.2 echo never
	assert_failure 1
	assert_output 'forkpool: --semaphoretimeout -0.2: no slot of semaphore t came free in time: giving up'
	touch go
	run "$FP_BIN" --id t --wait
	assert_success
	run cat max
	assert_output 1
}

@test "forkpool-sem: the name forkpool-sem means --semaphore" {
	ln -s "$FP_BIN" forkpool-sem
	run ./forkpool-sem --fg --id t echo hi
	assert_success
	assert_output 'hi'
	./forkpool-sem -j1 --id t "$SJOB" 1 </dev/null >>out 2>>err 3>&-
	run ./forkpool-sem --fg --id t --st -0.2 echo never
	assert_failure 1
	assert_output 'forkpool-sem: --semaphoretimeout -0.2: no slot of semaphore t came free in time: giving up'
	touch go
}

@test "--semaphore: a stopped waiter does not keep a free slot from the others" {
	bgsem --semaphore --id t "$SJOB" 1
	wait_log 1
	"$FP_BIN" --semaphore --fg --id t 'echo A' </dev/null >a 2>&1 3>&- &
	local a=$!
	sleep 0.3
	kill -STOP "$a"
	touch go
	run "$FP_BIN" --semaphore --fg --id t --st -2 echo B
	kill -CONT "$a"
	assert_success
	assert_output B
	wait "$a"
	run cat a
	assert_output A
}

@test "--semaphore: a waiter for a slot held is passed by one with a larger -j" {
	bgsem --semaphore -j1 --id t "$SJOB" 1
	wait_log 1
	"$FP_BIN" --semaphore -j1 --fg --id t 'echo A' </dev/null >a 2>&1 3>&- &
	local a=$!
	sleep 0.3
	run "$FP_BIN" --semaphore -j2 --fg --id t --st -1 'echo B {%}'
	assert_success
	assert_output 'B 2'
	running "$a" || fail "the waiter for slot 1 did not wait"
	touch go
	wait "$a"
	run cat a
	assert_output A
}

@test "--semaphore -j: not lowered by the open files limit, since slots take no descriptors" {
	run bash -c 'ulimit -n 32 && "$FP_BIN" --semaphore -j 100000 --fg --id t "echo {%}"'
	assert_success
	assert_output 1
	bgsem --semaphore -j 100000 --id t "$SJOB" 1
	bgsem --semaphore -j 100000 --id t "$SJOB" 2
	run bash -c 'ulimit -n 32 && "$FP_BIN" --semaphore -j 100000 --fg --id t --st -0.5 "echo {%}"'
	assert_success
	assert_output 3
	touch go
}

@test "--semaphore -j 0: no limit; the command never waits, and --wait waits for it" {
	bgsem --semaphore -j 2 --id t "$SJOB" 1
	bgsem --semaphore -j 0 --id t "$SJOB" 2
	run "$FP_BIN" --semaphore -j 0 --fg --id t --st -0.5 'echo {%}'
	assert_success
	assert_output 3
	run "$FP_BIN" --wait --id t --st -0.3
	assert_failure 1
	touch go
	run "$FP_BIN" --wait --id t
	assert_success
	assert_output ''
	run cat out err
	assert_output ''
}

@test "--semaphore: the semaphore's file is removed once the last command ended" {
	run "$FP_BIN" --semaphore --fg --id t true
	assert_success
	run ls -A run/forkpool/sem
	assert_output ''
	local i pids=()
	for i in 1 2 3; do
		"$FP_BIN" --semaphore -j2 --id t "$SJOB" "$i" </dev/null \
			>>out 2>>err 3>&- &
		pids+=($!)
	done
	wait_log 2
	run ls -A run/forkpool/sem
	assert_output t
	touch go
	for i in "${pids[@]}"; do
		wait "$i"
	done
	run "$FP_BIN" --semaphore --wait --id t
	assert_success
	run ls -A run/forkpool/sem
	assert_output ''
	run cat count out err
	assert_output 0
}

@test "--semaphore -j2: 20 short commands at once never run more than 2 at a time, with the file removed between them" {
	local i pids=()
	touch go
	for i in {1..20}; do
		"$FP_BIN" --semaphore -j2 --id t "$SJOB" "$i" </dev/null \
			>>out 2>>err 3>&- &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
	run "$FP_BIN" --semaphore --wait --id t
	assert_success
	run grep -c start log
	assert_output 20
	# 1 or 2: how many overlapped is up to the scheduler.
	run cat max count out err
	assert_output --regexp $'^[12]\n0$'
	run ls -A run/forkpool/sem
	assert_output ''
}

@test "--semaphore: XDG_RUNTIME_DIR set to a missing directory: a warning naming it, and the semaphores under ~/.cache" {
	export XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/gone"
	run --separate-stderr "$FP_BIN" --semaphore --fg --id mine 'ls home/.cache/forkpool/sem'
	assert_success
	assert_output mine
	assert_equal "$stderr" "forkpool: XDG_RUNTIME_DIR $XDG_RUNTIME_DIR: No such file or directory: the semaphores are kept in $HOME/.cache/forkpool/sem instead"
	bgsem --semaphore --id mine "$SJOB" 1
	run "$FP_BIN" --wait --id mine --st -0.3
	assert_failure 1
	assert_output "forkpool: XDG_RUNTIME_DIR $XDG_RUNTIME_DIR: No such file or directory: the semaphores are kept in $HOME/.cache/forkpool/sem instead
forkpool: --semaphoretimeout -0.3: semaphore mine still has commands running: giving up"
	touch go
	assert_not_exists gone
}

@test "--semaphore: \$FORKPOOL's -j, --id and --st apply; its options for runs of jobs are ignored" {
	bgsem --semaphore --id t "$SJOB" 1
	FORKPOOL='-j2 --id t -k --tag' run "$FP_BIN" --semaphore --fg 'echo {%}'
	assert_success
	assert_output 2
	FORKPOOL='-j2 --id t --st -0.3' run "$FP_BIN" --semaphore -j1 --fg 'echo {%}'
	assert_failure 1
	assert_output 'forkpool: --semaphoretimeout -0.3: no slot of semaphore t came free in time: giving up'
	touch go
}
