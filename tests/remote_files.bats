#!/usr/bin/env bats
# Files moved for remote jobs: --transferfile/--transfer, --return,
# --cleanup, --trc, --basefile, --workdir on the hosts, and the joblog's
# Send and Receive.  Real sshd servers on loopback (tests/sshd.bash) stand
# for the hosts; they share this machine's files, so the jobs' files are
# kept apart: the local ones under local/, the remote --workdir remote/.

bats_require_minimum_version 1.5.0
load remote

setup_file() {
	shared_servers 2
}

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
	mkdir -p tmp local remote bin
	R=$BATS_TEST_TMPDIR/remote
	cd local
}

# remote_home: the login directory of the hosts.
remote_home() {
	$FP_SSH fp-host1 pwd </dev/null
}

# tree DIR: every path under DIR, relative, sorted, one a line.
tree() {
	(cd "$1" && find . -mindepth 1 | sort)
}

@test "--transfer, --return, --cleanup: files go to the remote workdir, come back, and go there" {
	mkdir in
	printf 'hello\n' >in/a.txt
	printf 'world\n' >in/b.txt
	run --separate-stderr fp -k -j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--workdir "$R" --transfer --return '{}.out' --cleanup \
		'tr a-z A-Z <{} >{}.out; pwd; find . | sort' ::: in/a.txt in/b.txt
	assert_success
	assert_equal "$stderr" ''
	# each job saw its own file only: the first one's went with --cleanup
	assert_output "$R
.
./in
./in/a.txt
./in/a.txt.out
$R
.
./in
./in/b.txt
./in/b.txt.out"
	assert_equal "$(cat in/a.txt.out in/b.txt.out)" $'HELLO\nWORLD'
	# nothing is left on the host but the directory, which other jobs
	# may use
	assert_equal "$(tree "$R")" ./in
	assert_equal "$(tree .)" $'./in\n./in/a.txt\n./in/a.txt.out\n./in/b.txt\n./in/b.txt.out'
}

@test "without --cleanup the files stay on the host; --no-multiplex" {
	printf 'x\n' >a
	# and with a connection of its own for each ssh and rsync
	run --separate-stderr fp -j1 --ssh "$FP_SSH" -S fp-host2 --tmpdir ../tmp \
		--no-multiplex --workdir "$R" --tf '{}' --return '{}.out' \
		'cp {} {}.out' ::: a
	assert_success
	assert_equal "$stderr" ''
	assert_output ''
	assert_equal "$(tree "$R")" $'./a\n./a.out'
	assert_equal "$(cat a.out)" x
}

@test "--trc with /./: the path after /./ is relative to the workdir, and comes back under the part before" {
	mkdir -p in data/sub
	printf 'abc\n' >in/file
	printf 'def\n' >data/sub/f
	# GNU parallel's example: in/file there, out/./in/file.out back to
	# out/in/file.out here; an absolute path with /./ goes to sub/f
	run --separate-stderr fp -j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--workdir "$R" --trc 'out/./{}.out' --tf "$PWD/data/./sub/f" \
		'tr a-z A-Z <{} >{}.out; cat sub/f; find . | sort' ::: in/file
	assert_success
	assert_equal "$stderr" ''
	assert_output 'def
.
./in
./in/file
./in/file.out
./sub
./sub/f'
	assert_equal "$(cat out/in/file.out)" ABC
	assert_equal "$(tree "$R")" $'./in\n./sub'
}

@test "--basefile: copied once to each host before its jobs, removed at the end with --cleanup" {
	printf '#!/bin/sh\necho "$*" >>%q/rsync.log\nexec %q "$@"\n' \
		"$BATS_TEST_TMPDIR" "$(command -v rsync)" >../bin/rsync
	chmod +x ../bin/rsync
	printf 'base\n' >base.txt
	run --separate-stderr env PATH="$BATS_TEST_TMPDIR/bin:$PATH" "$FP_BIN" \
		-j2 --ssh "$FP_SSH" -S fp-host1,fp-host2 --tmpdir ../tmp \
		--workdir "$R" --bf base.txt 'cat base.txt; echo {}' ::: 1 2 3 4 5 6
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(sort <<<"$output" | paste -sd' ')" '1 2 3 4 5 6 base base base base base base'
	# one rsync for each host, none for the jobs
	assert_equal "$(wc -l <../rsync.log)" 2
	assert_equal "$(grep -c ' fp-host1:.$' ../rsync.log)" 1
	assert_equal "$(grep -c ' fp-host2:.$' ../rsync.log)" 1
	# without --cleanup it stays
	assert_equal "$(tree "$R")" ./base.txt
	rm -f "$R/base.txt"
	run --separate-stderr fp -j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--workdir "$R" --basefile base.txt --cleanup 'cat base.txt; echo {}' ::: 1
	assert_success
	assert_equal "$stderr" ''
	assert_output $'base\n1'
	assert_equal "$(tree "$R")" ''
	# a basefile that is not here: nothing runs
	run --separate-stderr fp -j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--bf nosuch echo ::: 1
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: --basefile nosuch: No such file or directory'
}

@test "--workdir ...: a directory of the run's own under the remote home, removed at the end" {
	local home
	home=$(remote_home)
	printf 'in it\n' >f
	run --separate-stderr fp -k -j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--workdir ... --transfer 'cat {}; pwd' ::: f
	assert_success
	assert_equal "$stderr" ''
	assert_equal "${lines[0]}" 'in it'
	assert_regex "${lines[1]}" "^$home/\\.parallel/tmp/forkpool\\.[A-Za-z0-9]{6}\\.0\$"
	assert_equal "${#lines[@]}" 2
	assert_not_exist "${lines[1]}"
}

@test "--workdir .: the current directory's path under \$HOME, or all of it elsewhere" {
	local home sub=fp-wd-xfer.$$
	home=$(remote_home)
	mkdir -p "fakehome/$sub"
	(cd "fakehome/$sub" && HOME=$BATS_TEST_TMPDIR/local/fakehome "$FP_BIN" -j1 --ssh "$FP_SSH" \
		-S fp-host1 --tmpdir ../../../tmp --wd . pwd ::: 1) >out 2>err
	rm -rf "${home:?}/$sub"
	assert_equal "$(cat err)" ''
	assert_equal "$(cat out)" "$home/$sub"
	run --separate-stderr fp -j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--wd . pwd ::: 1
	assert_success
	assert_output "$PWD"
}

@test "hostile file names round-trip: blanks, quotes, \$, newline, leading -, colon, glob, unicode" {
	local names=('sp ace' "qu'ote" 'dq"x' 'dol$HOME' $'new\nline' '-lead'
		'co:lon' '*' 'ünï' '\back')
	local n
	for n in "${names[@]}"; do
		printf '%s\n' "content of $n" >"./$n"
	done
	printf '%s\0' "${names[@]}" >../names
	run --separate-stderr fp -0 -a ../names -j2 --ssh "$FP_SSH" \
		-S fp-host1,fp-host2 --tmpdir ../tmp --workdir "$R" \
		--transfer --return '{}.out' --cleanup 'cp -- {} {}.out'
	assert_success
	assert_equal "$stderr" ''
	assert_output ''
	for n in "${names[@]}"; do
		assert_equal "$(cat -- "./$n.out")" "content of $n"
	done
	assert_equal "$(tree "$R")" ''
}

@test "a file to transfer that is not here fails its job, which does not run; the others do" {
	printf 'a\n' >a
	run --separate-stderr fp -k -j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--workdir "$R" --joblog ../jl --tf '{}' 'cat {}' ::: a missing
	assert_failure 1
	assert_output a
	assert_equal "$stderr" 'forkpool: job 2: --transferfile missing: No such file or directory'
	assert_equal "$(cut -f1,2,5,6,7 ../jl)" $'Seq\tHost\tSend\tReceive\tExitval
1\tfp-host1\t2\t0\t0
2\tfp-host1\t0\t0\t255'
}

@test "a return that fails is named with its host and fails the job, exit value 255" {
	local home
	home=$(remote_home)
	run --separate-stderr fp -j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--joblog ../jl --return 'nothere.{}' 'true' ::: x
	assert_failure 1
	assert_output ''
	assert_equal "$stderr" "forkpool: job 1: --return nothere.x: cannot be copied back from fp-host1: rsync: [sender] link_stat \"$home/nothere.x\" failed: No such file or directory (2)"
	assert_equal "$(cut -f7 ../jl | tail -n 1)" 255
}

@test "the joblog's Send and Receive: bytes of the files sent and returned; 0 for : jobs" {
	head -c 1000 /dev/zero >f
	run --separate-stderr fp -j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--workdir "$R" --joblog ../jl --trc '{}.out' \
		'head -c 2500 /dev/zero >{}.out' ::: f
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(cut -f2,5,6 ../jl | tail -n 1)" $'fp-host1\t1000\t2500'
	assert_equal "$(wc -c <f.out)" 2500
	rm f.out
	run --separate-stderr fp -j1 -S : --tmpdir ../tmp --joblog ../jl \
		--trc '{}.out' 'head -c 2500 /dev/zero >{}.out' ::: f
	assert_success
	assert_equal "$(cut -f2,5,6 ../jl | tail -n 1)" $':\t0\t0'
}

@test "-S :: nothing is moved, --workdir and --process-slot-var are this machine's" {
	printf 'here\n' >f
	run --separate-stderr fp -k -j1 -S : --tmpdir ../tmp --workdir "$R" \
		--process-slot-var SV --transfer --return '{}.out' --cleanup \
		'pwd; ls; echo "slot $SV" {}' ::: f
	assert_success
	assert_equal "$stderr" ''
	assert_output "$R
slot 0 f"
	# the local file stays, nothing came back
	assert_equal "$(tree .)" ./f
}

@test "--process-slot-var reaches remote jobs too" {
	run --separate-stderr fp -k -j2 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--process-slot-var SV 'echo {} $SV; sleep 0.5' ::: a b
	assert_success
	assert_equal "$stderr" ''
	assert_output 'a 0
b 1'
}

@test "without rsync, --transfer and --return are refused before anything runs; : needs none" {
	mkdir ../empty
	printf 'x\n' >f
	run --separate-stderr env PATH="$BATS_TEST_TMPDIR/empty" "$FP_BIN" \
		--ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp --transfer /bin/echo ::: f
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: --transfer needs rsync, which is not installed (not found in PATH)'
	run --separate-stderr env PATH="$BATS_TEST_TMPDIR/empty" "$FP_BIN" \
		--ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp --return 'x' /bin/echo ::: f
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --return needs rsync, which is not installed (not found in PATH)'
	run --separate-stderr env PATH="$BATS_TEST_TMPDIR/empty" "$FP_BIN" \
		-S : --tmpdir ../tmp --transfer /bin/echo ::: f
	assert_success
	assert_output f
}

@test "--timeout during a transfer ends rsync with the job" {
	# an rsync that takes its time, and says who it is
	printf '#!/bin/sh\necho $$ >%q/rsync.pid\nsleep 30\n' \
		"$BATS_TEST_TMPDIR" >../bin/rsync
	chmod +x ../bin/rsync
	printf 'x\n' >f
	run --separate-stderr env PATH="$BATS_TEST_TMPDIR/bin:$PATH" "$FP_BIN" \
		-j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp --timeout 1 \
		--joblog ../jl --transfer 'echo ran' ::: f
	assert_failure 1
	assert_output ''
	assert_equal "$stderr" ''
	assert_equal "$(cut -f7 ../jl | tail -n 1)" -1
	wait_gone "$(cat ../rsync.pid)" 5
}

@test "Ctrl-C during a transfer ends rsync, and leaves nothing in the tmpdir" {
	printf '#!/bin/sh\necho $$ >%q/rsync.pid\nsleep 30\n' \
		"$BATS_TEST_TMPDIR" >../bin/rsync
	chmod +x ../bin/rsync
	printf 'x\n' >f
	PATH="$BATS_TEST_TMPDIR/bin:$PATH" start_fp -j1 --ssh "$FP_SSH" \
		-S fp-host1 --tmpdir ../tmp --transfer 'echo ran' ::: f
	local i
	for ((i = 0; i < 200; i++)); do
		[[ -s ../rsync.pid ]] && break
		sleep 0.05
	done
	alive "$(cat ../rsync.pid)"
	kill -INT "$FP_PID"
	finish_fp 10
	assert_equal "$FP_STATUS" 130
	assert_equal "$(cat out)" ''
	wait_gone "$(cat ../rsync.pid)" 5
	run ls -A ../tmp
	assert_output ''
}

@test "a transfer whose host dies is run again on another host, not lost" {
	own_servers 2
	# rsync to fp-host1 first kills that host, with its connections
	cat >../bin/rsync <<-EOF
		#!/bin/sh
		case "\$*" in
		*' fp-host1:'*)
			read -r pid _ <"$FP_SSH_DIR/host1/listener"
			kids() { for c in \$(ps -o pid= --ppid "\$1"); do kids "\$c"; echo "\$c"; done; }
			all="\$(kids "\$pid") \$pid"
			kill -STOP \$all; kill -KILL \$all
			exit 255 ;;
		esac
		exec $(command -v rsync) "\$@"
	EOF
	chmod +x ../bin/rsync
	printf 'one\n' >f
	run --separate-stderr env PATH="$BATS_TEST_TMPDIR/bin:$PATH" "$FP_BIN" \
		-j1 --ssh "$FP_SSH" -S fp-host1,fp-host2 --tmpdir ../tmp \
		--workdir "$R" --joblog ../jl --transfer --plus 'cat {}; echo {host}' ::: f
	printf 'stderr: %s\n' "$stderr"
	cat ../jl
	assert_success
	assert_output 'one
fp-host2'
	assert_equal "$(cut -f1,2,7 ../jl | tail -n +2)" $'1\tfp-host2\t0'
}

# slow_rsync: an rsync in ../bin that sends at 200 kB/s and leaves its pid
# in ../rsync.pid.
slow_rsync() {
	printf '#!/bin/sh\necho $$ >>%q/rsync.pid\nexec %q --bwlimit=200 "$@"\n' \
		"$BATS_TEST_TMPDIR" "$(command -v rsync)" >../bin/rsync
	chmod +x ../bin/rsync
}

# private_wd: the --workdir ... of host N (default 0) of the run whose
# private directory is in ../tmp, once it is made there.
private_wd() {
	local i d
	for ((i = 0; i < 200; i++)); do
		for d in ../tmp/forkpool.*; do
			[[ -d $d ]] && break 2
		done
		sleep 0.05
	done
	echo "$(remote_home)/.parallel/tmp/forkpool.${d##*.}.${1:-0}"
}

@test "SIGTERM while --basefile is sent: rsync ends at once, 143, --workdir ... removed" {
	slow_rsync
	head -c 5M /dev/zero >big
	PATH="$BATS_TEST_TMPDIR/bin:$PATH" start_fp -j1 --ssh "$FP_SSH" \
		-S fp-host1,fp-host2 --tmpdir ../tmp --workdir ... --bf big \
		--cleanup echo ::: 1
	local wd0 wd1 t0 i pid
	wd0=$(private_wd 0)
	wd1=${wd0%.0}.1
	# both copies under way
	for ((i = 0; i < 200; i++)); do
		[[ -d $wd0 && -d $wd1 && $(wc -l <../rsync.pid) == 2 ]] && break
		sleep 0.05
	done
	[[ -d $wd0 && -d $wd1 ]]
	t0=$(date +%s%N)
	kill -TERM "$FP_PID"
	finish_fp 10
	(( ($(date +%s%N) - t0) / 1000000 < 2000 ))
	assert_equal "$FP_STATUS" 143
	assert_equal "$(cat err)" ''
	assert_equal "$(cat out)" ''
	while read -r pid; do
		wait_gone "$pid" 5
	done <../rsync.pid
	assert_not_exist "$wd0"
	assert_not_exist "$wd1"
	run ls -A ../tmp
	assert_output ''
}

@test "SIGTERM while a host hangs at the start: no cleanup where nothing was made, 143 at once" {
	own_servers 2
	printf 'base\n' >b
	local opts
	for opts in '--workdir ...' '--workdir remote --bf b --cleanup'; do
		rm -rf ../tmp
		mkdir ../tmp
		# host 2 takes connections and never answers
		FP_STOPPED=$(_sshd_listener 2)
		kill -STOP "$FP_STOPPED"
		# shellcheck disable=SC2086
		start_fp --tmpdir ../tmp $opts --ssh "$FP_SSH" \
			-S fp-host1,fp-host2 'echo {}' ::: 1 2 3
		# host 1's master is up, host 2's is waiting
		local i
		for ((i = 0; i < 200; i++)); do
			compgen -G '../tmp/forkpool.ssh.*/s0' >/dev/null && break
			sleep 0.05
		done
		compgen -G '../tmp/forkpool.ssh.*/s0' >/dev/null
		kill -TERM "$FP_PID"
		finish_fp 8
		assert_equal "$FP_STATUS" 143
		assert_equal "$(cat err)" ''
		assert_equal "$(cat out)" ''
		run ls -A ../tmp
		assert_output ''
		kill -CONT "$FP_STOPPED"
		FP_STOPPED=
	done
}

@test "Ctrl-C while --basefile is sent: 130, no dropped host, --cleanup removes the basefiles" {
	slow_rsync
	printf 'small\n' >small
	head -c 5M /dev/zero >big
	PATH="$BATS_TEST_TMPDIR/bin:$PATH" setsid env --default-signal=INT \
		"$FP_BIN" -j1 --ssh "$FP_SSH" -S fp-host1,fp-host2 --tmpdir ../tmp \
		--workdir "$R" --bf small --bf big --cleanup echo ::: 1 \
		</dev/null >out 2>err &
	FP_PID=$!
	local i pid
	# small is there, big under way
	for ((i = 0; i < 200; i++)); do
		[[ -e $R/small && $(wc -l <../rsync.pid 2>/dev/null) == 4 ]] && break
		sleep 0.05
	done
	[[ -e $R/small ]]
	kill -INT -- "-$FP_PID"
	finish_fp 10
	assert_equal "$FP_STATUS" 130
	assert_equal "$(cat err)" ''
	assert_equal "$(cat out)" ''
	while read -r pid; do
		wait_gone "$pid" 5
	done <../rsync.pid
	# the remote rsync removes its temporary file when its sender is gone
	for ((i = 0; i < 100; i++)); do
		[[ -z $(tree "$R") ]] && break
		sleep 0.05
	done
	assert_equal "$(tree "$R")" ''
}

@test "a failed --return: the joblog says 255, and --resume-failed runs the job again" {
	run --separate-stderr fp -j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--workdir "$R" --joblog ../jl --return '{}.out' 'echo run {}' ::: a
	assert_failure 1
	assert_output 'run a'
	assert_regex "$stderr" '^forkpool: job 1: --return a.out: cannot be copied back from fp-host1: '
	assert_equal "$(cut -f1,2,7 ../jl | tail -n +2)" $'1\tfp-host1\t255'
	run --separate-stderr fp -j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--workdir "$R" --joblog ../jl --resume-failed --return '{}.out' \
		'echo run {} >{}.out; echo run {}' ::: a
	assert_success
	assert_equal "$stderr" ''
	assert_output 'run a'
	assert_equal "$(cat a.out)" 'run a'
	assert_equal "$(cut -f1,2,7 ../jl | tail -n 1)" $'1\tfp-host1\t0'
}

@test "every failed --return of a job is named, the 65th and later too" {
	run --separate-stderr fp -X -j1 --joblog ../jl --ssh "$FP_SSH" -S fp-host1 \
		--tmpdir ../tmp --workdir "$R" --return '{}.out' \
		'for f in {}; do [ $f -le 64 ] && echo $f >$f.out; done; true' ::: $(seq 70)
	assert_failure 1
	assert_output ''
	local i
	assert_equal "${#stderr_lines[@]}" 6
	for i in 0 1 2 3 4 5; do
		assert_regex "${stderr_lines[i]}" "^forkpool: job 1: --return $((65 + i)).out: cannot be copied back from fp-host1: "
	done
	assert_equal "$(cut -f7 ../jl | tail -n +2)" 255
	assert_equal "$(cat 64.out)" 64
	assert_not_exist 65.out
}

@test "the joblog's Receive counts only the files that came back" {
	echo keep >existing.out
	run --separate-stderr fp -j1 -k --joblog ../jl --ssh "$FP_SSH" -S fp-host1 \
		--tmpdir ../tmp --workdir "$R" --return '{}.out' \
		'[ {} = back ] && echo 1234 >{}.out; echo {}' ::: existing back
	assert_failure 1
	assert_output $'existing\nback'
	assert_regex "$stderr" '^forkpool: job 1: --return existing.out: cannot be copied back from fp-host1: '
	assert_equal "$(cat existing.out)" keep
	assert_equal "$(cut -f1,6,7 ../jl | tail -n +2)" $'1\t0\t255\n2\t5\t0'
}

@test "a return cut by a lost connection fails the job, which does not run again elsewhere" {
	own_servers 2
	# the return from fp-host1 kills that host, with its connections
	cat >../bin/rsync <<-EOF
		#!/bin/sh
		case "\$*" in
		*' fp-host1:'*)
			read -r pid _ <"$FP_SSH_DIR/host1/listener"
			kids() { for c in \$(ps -o pid= --ppid "\$1"); do kids "\$c"; echo "\$c"; done; }
			all="\$(kids "\$pid") \$pid"
			kill -STOP \$all; kill -KILL \$all
			exit 255 ;;
		esac
		exec $(command -v rsync) "\$@"
	EOF
	chmod +x ../bin/rsync
	run --separate-stderr env PATH="$BATS_TEST_TMPDIR/bin:$PATH" "$FP_BIN" \
		-j1 --ssh "$FP_SSH" -S fp-host1,fp-host2 --tmpdir ../tmp \
		--workdir "$R" --joblog ../jl --return '{}.out' \
		"echo {} >>$BATS_TEST_TMPDIR/ran; echo {} >{}.out" ::: a
	assert_failure 1
	assert_output ''
	assert_equal "$stderr" 'forkpool: job 1: --return a.out: cannot be copied back from fp-host1: the connection was lost'
	assert_equal "$(cat ../ran)" a
	assert_equal "$(cut -f1,2,7 ../jl | tail -n +2)" $'1\tfp-host1\t255'
	assert_not_exist a.out
}

@test "several values in a job: each is a file of its own (-X, input sources, -N)" {
	printf 'a\n' >a
	printf 'b\n' >b
	printf 'WRONG FILE\n' >'a b'
	run --separate-stderr fp -j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--workdir "$R" --cleanup -X --transfer 'cat {}; ls' ::: a b
	assert_success
	assert_equal "$stderr" ''
	assert_output $'a\nb\na\nb'
	run --separate-stderr fp -j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--workdir "$R" --cleanup --transfer 'cat {1} {2}; ls' ::: a ::: b
	assert_success
	assert_equal "$stderr" ''
	assert_output $'a\nb\na\nb'
	run --separate-stderr fp -j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--workdir "$R" -N2 --trc '{}.out' 'for f in {}; do tr a-z A-Z <$f >$f.out; done' ::: a b
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(cat a.out b.out)" $'A\nB'
	assert_equal "$(tree "$R")" ''
}

@test "each failed step is named with its own rsync message, not an earlier job's" {
	run --separate-stderr fp -j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--workdir "$R" --return '{}.nope' true ::: a b
	assert_failure 2
	assert_output ''
	assert_equal "$stderr" "forkpool: job 1: --return a.nope: cannot be copied back from fp-host1: rsync: [sender] link_stat \"$R/a.nope\" failed: No such file or directory (2)
forkpool: job 2: --return b.nope: cannot be copied back from fp-host1: rsync: [sender] link_stat \"$R/b.nope\" failed: No such file or directory (2)"
	# two returns of one job that fail
	run --separate-stderr fp -j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--workdir "$R" --return '{}.one' --return '{}.two' true ::: c
	assert_failure 1
	assert_equal "$stderr" "forkpool: job 1: --return c.one: cannot be copied back from fp-host1: rsync: [sender] link_stat \"$R/c.one\" failed: No such file or directory (2)
forkpool: job 1: --return c.two: cannot be copied back from fp-host1: rsync: [sender] link_stat \"$R/c.two\" failed: No such file or directory (2)"
}

@test "a file that cannot be sent: --cleanup removes those of the job sent before it; each option named" {
	# an rsync that refuses the files named "second"
	printf '#!/bin/sh\ncase "$*" in *second*) echo "refused: second" >&2; exit 23;; esac\nexec %q "$@"\n' \
		"$(command -v rsync)" >../bin/rsync
	chmod +x ../bin/rsync
	mkdir in
	printf 'a\n' >in/a
	printf '2\n' >second
	run --separate-stderr env PATH="$BATS_TEST_TMPDIR/bin:$PATH" "$FP_BIN" \
		-j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp --workdir "$R" \
		--joblog ../jl --tf '{}' --tf second --cleanup 'cat {}' ::: in/a
	assert_failure 1
	assert_output ''
	assert_equal "$stderr" 'forkpool: job 1: --transferfile second: cannot be copied to fp-host1: refused: second'
	assert_equal "$(cut -f7 ../jl | tail -n 1)" 255
	assert_equal "$(tree "$R")" ./in
	# the file of --transfer is named so
	run --separate-stderr env PATH="$BATS_TEST_TMPDIR/bin:$PATH" "$FP_BIN" \
		-j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp --workdir "$R" \
		--tf in/a --transfer --cleanup 'cat {}' ::: second
	assert_failure 1
	assert_output ''
	assert_equal "$stderr" 'forkpool: job 1: --transfer second: cannot be copied to fp-host1: refused: second'
	assert_equal "$(tree "$R")" ./in
}

@test "a file whose path on the host has a .. component is refused before the job runs" {
	printf 'a\n' >a
	printf 'x\n' >../x
	run --separate-stderr fp -k -j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--workdir "$R" --joblog ../jl --tf '{}' --tf ../x 'cat {}' ::: a
	assert_failure 1
	assert_output ''
	assert_equal "$stderr" 'forkpool: job 1: --transferfile ../x: its path on the host has a .. component (mark with /./ where that path starts)'
	assert_equal "$(cut -f7 ../jl | tail -n 1)" 255
	run --separate-stderr fp -j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--workdir "$R" --return 'out/../{}.x' 'echo ran' ::: a
	assert_failure 1
	assert_output ''
	assert_equal "$stderr" 'forkpool: job 1: --return out/../a.x: its path on the host has a .. component (mark with /./ where that path starts)'
	assert_equal "$(tree "$R")" ''
	# before /./ it is this machine's path: it goes
	run --separate-stderr fp -j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--workdir "$R" --tf .././x --cleanup 'cat x; echo {}' ::: a
	assert_success
	assert_equal "$stderr" ''
	assert_output $'x\na'
}

@test "--cleanup removes the files of the job, not the directories others may use" {
	mkdir sub out
	printf 'one\n' >sub/in
	printf 'two\n' >out/in2
	# job 1 uses out/ on the host after job 2, which sent out/in2, ended
	run --separate-stderr fp -j2 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--workdir "$R" --tf '{}' --cleanup \
		'case {} in out/*) sleep 1; cat {};; *) mkdir -p out; sleep 3; echo done >out/res && cat out/res {};; esac' ::: sub/in out/in2
	assert_success
	assert_equal "$stderr" ''
	assert_output $'two\ndone\none'
	assert_equal "$(tree "$R")" $'./out\n./out/res\n./sub'
}

@test "--workdir '' is refused before anything runs" {
	run --separate-stderr fp -j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--workdir '' echo ::: 1
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: --workdir: the directory is empty'
	run --separate-stderr fp --wd= echo ::: 1
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: --wd: the directory is empty'
}

@test "a cleanup that fails is named with the host and the files" {
	run --separate-stderr fp -j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--workdir "$R" --return d --cleanup 'mkdir d; echo {} >d/f' ::: x
	assert_success
	assert_output ''
	assert_equal "$stderr" "forkpool: job 1: --cleanup: cannot remove d on fp-host1: rm: cannot remove 'd': Is a directory"
	assert_equal "$(tree "$R")" $'./d\n./d/f'
	assert_equal "$(cat d/f)" x
}

@test "every host dropped as the basefiles could not be copied: the message says so" {
	printf 'b\n' >b
	run --separate-stderr fp -j1 --ssh "$FP_SSH" -S fp-host1,fp-host2 --tmpdir ../tmp \
		--workdir /proc/nonesuch --bf b echo ::: 1
	assert_failure 255
	assert_output ''
	assert_equal "${#stderr_lines[@]}" 3
	assert_regex "${stderr_lines[0]}" '^forkpool: fp-host[12]: --basefile: cannot copy the files there; dropped: .'
	assert_regex "${stderr_lines[1]}" '^forkpool: fp-host[12]: --basefile: cannot copy the files there; dropped: .'
	assert_equal "${stderr_lines[2]}" 'forkpool: no host is left: --basefile could not be copied to them: no job runs'
}

@test "a --basefile that cannot be removed at the end is named with its host" {
	mkdir bd
	printf 'x\n' >bd/f
	run --separate-stderr fp -j1 --ssh "$FP_SSH" -S fp-host1 --tmpdir ../tmp \
		--workdir "$R" --bf bd --cleanup 'cat bd/f; echo {}' ::: 1
	assert_success
	assert_output $'x\n1'
	assert_equal "$stderr" 'forkpool: fp-host1: the files of the run could not be removed there'
	assert_equal "$(tree "$R")" $'./bd\n./bd/f'
}
