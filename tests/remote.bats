#!/usr/bin/env bats
# Remote execution over OpenSSH: -S/--sshlogin, --sshloginfile, --ssh,
# connection reuse, the remote command's quoting, remote jobs ended with
# forkpool's, and hosts that fail.  Real sshd servers on loopback
# (tests/sshd.bash) stand for the hosts fp-host1, fp-host2, ...

bats_require_minimum_version 1.5.0
load remote

setup_file() {
	shared_servers 3
}

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
	mkdir -p tmp
}

# children PID: the pids and command lines of PID's children, one a line.
children() {
	ps -o pid=,args= --ppid "$1" 2>/dev/null || true
}

@test "-S: 40 jobs over three hosts and : each run once, every host gets some" {
	run --separate-stderr fp -k -j2 --ssh "$FP_SSH" \
		-S fp-host1,fp-host2 --sshlogin fp-host3 -S : --plus \
		--tmpdir tmp 'echo {} {host}; sleep 0.1' ::: $(seq 40)
	assert_success
	assert_equal "$stderr" ''
	local i hosts
	# every value once, in order, each with the host it ran on
	assert_equal "$(cut -d' ' -f1 <<<"$output" | paste -sd' ')" "$(seq 40 | paste -sd' ')"
	hosts=$(cut -d' ' -f2 <<<"$output" | sort | uniq -c | awk '{print $2}' | paste -sd' ')
	assert_equal "$hosts" ': fp-host1 fp-host2 fp-host3'
	# nothing left behind in the temporary directory
	run ls -A tmp
	assert_output ''
}

@test "the joblog names the host, : for this machine; --tagstring {host}" {
	run --separate-stderr fp -j1 --ssh "$FP_SSH" -S fp-host2 --plus \
		--tagstring '{host}' --joblog jl echo ::: a
	assert_success
	assert_output $'fp-host2\ta'
	assert_equal "$(cut -f2 jl | tail -n +2)" fp-host2
	run --separate-stderr fp -j1 --ssh "$FP_SSH" -S : --joblog jl echo ::: a
	assert_success
	assert_output a
	assert_equal "$(cut -f2 jl | tail -n +2)" ':'
}

@test "{host} without -S is still refused, and {sshlogin} always" {
	run --separate-stderr fp --plus echo '{host}' ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: {host}: not supported: forkpool runs jobs here, with no remote hosts or skipped jobs'
	run --separate-stderr fp --plus -S fp-host1 --ssh "$FP_SSH" echo '{sshlogin}' ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: {sshlogin}: not supported; instead: "$PARALLEL_SSHLOGIN" in the command'
}

@test "the job runs remotely with its variables" {
	run --separate-stderr fp -k -j1 --ssh "$FP_SSH" -S 1/fp-host3 \
		'echo {} $FORKPOOL_SEQ $FORKPOOL_SLOT $PARALLEL_SSHHOST $PARALLEL_SSHLOGIN ${SSH_CONNECTION##* }' ::: a b
	assert_success
	local port
	port=$(cut -d' ' -f3 <<<"$FP_SSH_PORTS")
	assert_output "a 1 1 fp-host3 fp-host3 $port
b 2 1 fp-host3 fp-host3 $port"
}

@test "hostile values round-trip through the remote shell, exec'd and in a shell line" {
	local vals=('' "it's" '"a"' '$HOME' '`id`' '$(id)' 'a;b' 'a|b' $'new\nline'
		'*' '-n' '--' ' lead' 'trail ' 'ünï' $'\xff\xfe' '\' "'\"'\"'" '{}' '%s')
	printf '%s\0' "${vals[@]}" >vals
	# exec'd directly: each value is one argument
	fp -k -0 -j2 --ssh "$FP_SSH" -S fp-host1 -q \
		printf '%s\0' <vals >out.direct
	cmp vals out.direct
	# through the shell: the values quoted in the line read back the same
	fp -k -0 -j2 --ssh "$FP_SSH" -S fp-host2 --exec-mode shell \
		"printf '%s\\0' {}" <vals >out.shell
	cmp vals out.shell
	# several values of one job, with -X
	fp -k -0 -X -j1 --ssh "$FP_SSH" -S fp-host3 -q \
		printf '%s\0' <vals >out.x
	cmp vals out.x
}

@test "pipe mode: each block goes through ssh to the remote job's stdin" {
	run --separate-stderr bash -c 'seq 1000 | "$FP_BIN" -k --pipe -N 100 -j2 \
		--ssh "$FP_SSH" -S fp-host1,fp-host2 md5sum'
	assert_success
	assert_equal "$stderr" ''
	local expect= i
	for ((i = 0; i < 10; i++)); do
		expect+="$(seq $((i * 100 + 1)) $((i * 100 + 100)) | md5sum)"$'\n'
	done
	assert_equal "$output" "${expect%$'\n'}"
}

@test "--sshloginfile: comments, blank lines, N/ and the ssh command of a line" {
	printf '%s\n' '# the hosts' '' "2/$FP_SSH fp-host1" "  # indented comment" \
		"1/$FP_SSH fp-host2" >hosts
	run --separate-stderr fp -k --slf hosts --plus 'echo {#} {host} {%}; sleep 0.3' ::: 1 2 3
	assert_success
	assert_equal "$stderr" ''
	# three slots: 1 and 2 on fp-host1, 3 on fp-host2
	assert_equal "$(sort -k3 <<<"$output" | cut -d' ' -f2,3 | paste -sd' ')" \
		'fp-host1 1 fp-host1 2 fp-host2 3'
	# a missing file is named
	run --separate-stderr fp --sshloginfile nosuch echo ::: a
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: --sshloginfile nosuch: No such file or directory'
	# .. is ~/.parallel/sshloginfile
	mkdir -p home/.parallel
	printf '%s\n' "$FP_SSH fp-host3" >home/.parallel/sshloginfile
	run --separate-stderr env HOME="$PWD/home" "$FP_BIN" --slf .. --plus echo '{host}' ::: a
	assert_success
	assert_output 'fp-host3'
}

@test "--ssh CMD: the command given runs ssh, with its words; \$PARALLEL_SSH too" {
	mkscript myssh "echo \"\$*\" >>\"$PWD/ssh.log\"; exec ssh -F \"\$FP_SSH_CONFIG\" \"\$@\"" >/dev/null
	run --separate-stderr fp -k -j1 --ssh "$PWD/bin/myssh -o ServerAliveInterval=5" \
		-S fp-host1 echo ::: a b
	assert_success
	assert_output $'a\nb'
	assert_equal "$stderr" ''
	grep -q -- '^-o ServerAliveInterval=5 .*fp-host1 -- ' ssh.log
	rm ssh.log
	run --separate-stderr env PARALLEL_SSH="$PWD/bin/myssh" "$FP_BIN" -S fp-host2 echo ::: c
	assert_success
	assert_output c
	grep -q 'fp-host2 -- ' ssh.log
}

@test "one master connection per host, gone with its private directory after the run" {
	start_fp -j3 --ssh "$FP_SSH" -S fp-host1,fp-host2 --tmpdir tmp \
		"cd $PWD; "'echo $$ >>pids.$PARALLEL_SSHHOST; sleep 1' ::: 1 2 3 4 5 6
	wait_files 2 'pids.*'
	local masters
	masters=$(children "$FP_PID" | awk '/ -N / { print $1 }')
	assert_equal "$(wc -w <<<"$masters")" 2
	# the sockets are in one private directory under the tmpdir
	run find tmp -type s
	assert_equal "${#lines[@]}" 2
	assert_equal "$(stat -c %a "$(dirname "${lines[0]}")")" 700
	finish_fp 20
	assert_equal "$FP_STATUS" 0
	local p
	for p in $masters; do
		wait_gone "$p" 5 || fail "master $p outlived forkpool"
	done
	run ls -A tmp
	assert_output ''
	# each host ran three jobs, each in a shell of its own
	assert_equal "$(cat pids.* | sort -u | wc -l)" 6
}

@test "a master that does not end on SIGTERM is killed: forkpool still exits" {
	# the master's process ignores SIGTERM; the ssh it runs is recorded
	cat >deafssh <<-EOF
		#!/bin/sh
		case " \$* " in
		*" ControlMaster=yes "*)
			trap '' TERM
			ssh -F "$FP_SSH_CONFIG" "\$@" &
			echo \$! >"$PWD/sshpid"
			wait
			exit ;;
		esac
		exec ssh -F "$FP_SSH_CONFIG" "\$@"
	EOF
	chmod +x deafssh
	start_fp --ssh "$PWD/deafssh" -S fp-host1 echo ::: a
	finish_fp 15
	kill "$(cat sshpid)" 2>/dev/null || true
	assert_equal "$FP_STATUS" 0
	assert_equal "$(cat out)" a
	assert_equal "$(cat err)" ''
}

@test "--no-multiplex: plain ssh per job, no master" {
	start_fp -j2 --no-multiplex --ssh "$FP_SSH" -S fp-host1 --tmpdir tmp \
		"cd $PWD; "'echo $$ >>pids; sleep 1' ::: 1 2
	wait_files 1 pids
	run children "$FP_PID"
	refute_output --partial ' -N '
	finish_fp 20
	assert_equal "$FP_STATUS" 0
	assert_equal "$(wc -l <pids)" 2
	# -M and --controlmaster are accepted: multiplexing, the default
	run --separate-stderr fp -M --controlmaster --ssh "$FP_SSH" -S fp-host1 echo ::: a
	assert_success
	assert_output a
}

@test "Ctrl-C, SIGTERM, --halt now: the remote jobs end, and no master is left" {
	local sig status masters pids p
	for sig in INT:130 TERM:143; do
		rm -f pid.*
		start_fp -j2 --ssh "$FP_SSH" -S fp-host1,fp-host2 --tmpdir tmp \
			"cd $PWD; "'echo $$ >pid.{}; exec sleep 60' ::: 1 2 3 4
		wait_files 4 'pid.*' 10
		masters=$(children "$FP_PID" | awk '/ -N / { print $1 }')
		[[ -n $masters ]]
		pids=$(cat pid.*)
		for p in $pids; do alive "$p"; done
		kill -"${sig%:*}" "$FP_PID"
		finish_fp 10
		assert_equal "$FP_STATUS" "${sig#*:}"
		for p in $pids; do
			wait_gone "$p" 5 || fail "remote job $p survived SIG${sig%:*}"
		done
		for p in $masters; do
			wait_gone "$p" 5 || fail "master $p survived SIG${sig%:*}"
		done
		run ls -A tmp
		assert_output ''
	done
	# --halt now: the failed job's partner on the other host ends too
	rm -f pid.*
	run --separate-stderr fp -j1 --halt now,fail=1 --ssh "$FP_SSH" \
		-S fp-host1,fp-host2 "cd $PWD; "'echo $$ >pid.{}; [ {} = 2 ] && sleep 1 && exit 3; exec sleep 60' ::: 1 2
	assert_failure
	for p in $(cat pid.*); do
		wait_gone "$p" 5 || fail "remote job $p survived --halt now"
	done
}

@test "Ctrl-C while the hosts are still connecting leaves no process and no directory" {
	# an ssh that never connects: it records its pid and waits
	cat >slowssh <<-EOF
		#!/bin/sh
		echo \$\$ >>"$PWD/pids"
		exec sleep 60
	EOF
	chmod +x slowssh
	local mux sig p
	for mux in '' --no-multiplex; do
		for sig in INT:130 TERM:143; do
			rm -f pids
			mkdir -p tmp
			start_fp $mux --tmpdir tmp --ssh "$PWD/slowssh" \
				-S fp-host1,fp-host2 echo ::: a
			wait_files 1 pids 10
			sleep 0.2
			kill -"${sig%:*}" "$FP_PID"
			finish_fp 10
			assert_equal "$FP_STATUS" "${sig#*:}"
			for p in $(cat pids); do
				wait_gone "$p" 5 ||
					fail "ssh $p outlived forkpool ($mux SIG${sig%:*})"
			done
			run ls -A tmp
			assert_output ''
			assert_equal "$(cat out)" ''
		done
	done
}

@test "--timeout ends the remote job, with --no-multiplex too" {
	local mux
	for mux in '' --no-multiplex; do
		rm -f pid.*
		run --separate-stderr fp $mux --timeout 1 --ssh "$FP_SSH" -S fp-host3 \
			"cd $PWD; "'echo $$ >pid.{}; exec sleep 60' ::: a
		assert_failure 1
		wait_gone "$(cat pid.a)" 5 || fail "remote job survived --timeout ($mux)"
	done
}

@test "a remote job ended by --timeout: the joblog's Signal is the one sent, as for a local job" {
	local mux
	run --separate-stderr fp --timeout 1 --joblog jl 'sleep 5; : {}' ::: 1
	assert_failure 1
	assert_equal "$(cut -f7,8 jl | tail -n +2)" $'-1\t15'
	for mux in '' --no-multiplex; do
		run --separate-stderr fp $mux --timeout 1 --joblog jl --ssh "$FP_SSH" \
			-S fp-host1 'sleep 5; : {}' ::: 1
		assert_failure 1
		assert_equal "$stderr" ''
		assert_equal "$(cut -f7,8 jl | tail -n +2)" $'-1\t15'
	done
}

@test "a remote job ended by --timeout runs once, times out, and drops no host" {
	local mux
	for mux in '' --no-multiplex; do
		rm -f runs
		run --separate-stderr fp $mux -j1 -k --timeout 2 --joblog jl --ssh "$FP_SSH" \
			-S fp-host1 "cd $PWD; "'echo {} >>runs; if [ {} = 1 ]; then sleep 30; fi; echo out {}' ::: 1 2 3
		assert_failure 1
		assert_output $'out 2\nout 3'
		assert_equal "$(sort runs | tr '\n' ' ')" "1 2 3 " || fail "runs with '$mux': $(cat runs)"
		[[ $stderr != *dropped* && $stderr != *'no host'* ]] || fail "$stderr"
		assert_equal "$(awk -F'\t' '$1 == 1 { print $7 }' jl)" -1
	done
}

@test "a remote job that kills its own process group keeps its output and runs once" {
	local mux
	for mux in '' --no-multiplex; do
		rm -f runs
		run --separate-stderr fp $mux -j1 -k --ssh "$FP_SSH" -S fp-host1 \
			"cd $PWD; "'echo {} >>runs; echo out {}; kill 0' ::: 1 2 3
		assert_equal "$(wc -l <runs)" 3 || fail "runs with '$mux': $(cat runs)"
		assert_output $'out 1\nout 2\nout 3'
		[[ $stderr != *dropped* && $stderr != *'no host'* ]] || fail "$stderr"
	done
}

@test "a remote job gets SIGINT and SIGQUIT at their defaults, as a local one" {
	local mux
	for mux in '' --no-multiplex; do
		# Bits 2 and 3 (SIGINT, SIGQUIT) clear; others are as sshd
		# inherited them from the test's environment.
		run --separate-stderr fp $mux --ssh "$FP_SSH" -S fp-host1 \
			'sed -n "s/^SigIgn:\t//p" /proc/self/status; : {}' ::: 1
		assert_success
		printf 'SigIgn: %s\n' "$output"
		[[ $output =~ ^[0-9a-f]{16}$ ]]
		assert_equal "$(( 16#$output & 6 ))" 0
		# ended by its own SIGINT, it says nothing more
		run --separate-stderr fp $mux --ssh "$FP_SSH" -S fp-host1 \
			sh -c 'kill -INT $$; echo survived {}' ::: 1
		assert_failure 1
		assert_output ''
		assert_equal "$stderr" ''
	done
}

@test "a --tmpdir or \$TMPDIR with a blank, a quote or a % still reaches the hosts" {
	local d
	for d in 'a b' 'q"z' '50%off'; do
		mkdir -p "$d"
		run --separate-stderr fp --tmpdir "$d" --ssh "$FP_SSH" -S fp-host1 echo ::: "$d"
		assert_success
		assert_output "$d"
		TMPDIR="$PWD/$d" run --separate-stderr fp --ssh "$FP_SSH" -S fp-host1 echo ::: "$d"
		assert_success
		assert_output "$d"
	done
}

@test "--env: the variables named, or matched by a pattern, reach the remote jobs" {
	MYVAR=$'se cret\'"$x' OTHER=no FP_A1=a FP_B2=b run --separate-stderr fp -k \
		--env MYVAR --env 'FP_*' --ssh "$FP_SSH" -S fp-host1 \
		'printf "%s|%s|%s|%s\n" "$MYVAR" "${OTHER-unset}" "$FP_A1" "$FP_B2"; :' ::: a
	assert_success
	assert_output $'se cret\'"$x|unset|a|b'
}

@test "--env values too long together for one remote command line: one error before anything runs" {
	local b
	b=$(head -c 70000 /dev/zero | tr '\0' x)
	B1=$b B3=$b run --separate-stderr fp --env B1 --env B3 --ssh "$FP_SSH" \
		-S fp-host1 --tmpdir tmp 'echo {}' ::: 1
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: --env: the variables take 140012 bytes of the remote command line, which has room for 130703 of its 131072'
	run ls -A tmp
	assert_output ''
	# one long variable that fits still goes
	b=$(head -c 130000 /dev/zero | tr '\0' x)
	B1=$b run --separate-stderr fp --env B1 --ssh "$FP_SSH" -S fp-host1 \
		'echo ${#B1} {}' ::: 1
	assert_success
	assert_output '130000 1'
}

@test "a job that exits 255 by itself fails once, on a live host" {
	run --separate-stderr fp -j1 --joblog jl --ssh "$FP_SSH" -S fp-host1 \
		"cd $PWD; "': {}; echo ran >>runs; exit 255' ::: a
	assert_failure 1
	assert_equal "$(wc -l <runs)" 1
	assert_equal "$(tail -n +2 jl | cut -f2,7)" $'fp-host1\t255'
	assert_equal "$stderr" ''
	run --separate-stderr fp -j1 --no-multiplex --ssh "$FP_SSH" -S fp-host1 \
		"cd $PWD; "': {}; echo ran >>runs2; exit 255' ::: a
	assert_failure 1
	assert_equal "$(wc -l <runs2)" 1
}

@test "a host that dies mid-run: every job delivered once, elsewhere" {
	own_servers 3
	start_fp -k -j2 --ssh "$FP_SSH" -S fp-host1,fp-host2,fp-host3 --joblog jl \
		--tmpdir tmp 'sleep 0.3; echo {}' ::: $(seq 40)
	sleep 1
	sshd_kill 2
	finish_fp 60
	# shown only when the test fails
	cat err jl
	assert_equal "$FP_STATUS" 0
	assert_equal "$(cat out)" "$(seq 40)"
	# one warning for the host, none for the jobs
	run grep -c . err
	assert_output 1
	run cat err
	assert_output --regexp '^forkpool: fp-host2: dropped: 3 failures in a row'
	# one row per job, none on the dead host after it was dropped
	assert_equal "$(tail -n +2 jl | cut -f1 | sort -n | paste -sd' ')" "$(seq 40 | paste -sd' ')"
	assert_equal "$(tail -n +2 jl | cut -f7 | sort -u)" 0
}

@test "a client that sees its master's end before the socket goes: the job runs again" {
	# A master whose connection is lost ends its clients' sessions, then
	# removes its socket and exits: a client can exit 255 while the socket
	# is still there.  This ssh does that once, on the first job run
	# through a master: it stops the master, exits 255 without a word, and
	# the master is killed a moment later.
	cat >fakessh <<-EOF
		#!/bin/sh
		case " \$* " in
		*" ControlMaster=no "*" ControlPath=none "*) ;;
		*" ControlMaster=no "*)
			if [ -e "$PWD/trigger" ]; then
				rm -f "$PWD/trigger"
				m=\$(ps -o pid=,args= --ppid \$PPID | awk '/ControlMaster=yes/ { print \$1 }')
				kill -STOP \$m
				setsid -f sh -c "sleep 1; kill -KILL \$m" </dev/null >/dev/null 2>&1
				exit 255
			fi ;;
		esac
		exec ssh -F "$FP_SSH_CONFIG" "\$@"
	EOF
	chmod +x fakessh
	touch trigger
	run --separate-stderr fp -j1 --ssh "$PWD/fakessh" -S fp-host1 \
		"cd $PWD; "'echo {} >>runs; echo {}' ::: a b
	assert_success
	assert_output $'a\nb'
	assert_equal "$stderr" ''
	[[ ! -e trigger ]]
	# each job's command ran once: the first attempt never reached it
	assert_equal "$(cat runs)" $'a\nb'
}

@test "a client's 255 while its master still answers but the server does not serve: the job runs again" {
	own_servers 2
	# The master answers an alive check by itself: it may not have read
	# yet that its server is gone.  This ssh stops host 1's server side
	# of the connection on the first job run through a master, for 15 s
	# (longer than forkpool waits for a session to open), and exits 255
	# without a word; the master lives and answers.
	cat >fakessh <<-EOF
		#!/bin/sh
		case " \$* " in
		*" ControlMaster=no "*" ControlPath=none "*) ;;
		*" ControlMaster=no "*" fp-host1 "*)
			if [ -e "$PWD/trigger" ]; then
				rm -f "$PWD/trigger"
				read -r l _ <"$FP_SSH_DIR/host1/listener"
				kids() { for c in \$(ps -o pid= --ppid "\$1"); do kids "\$c"; echo "\$c"; done; }
				k=\$(kids "\$l")
				echo \$k >"$PWD/stopped"
				kill -STOP \$k
				setsid -f sh -c "sleep 15; kill -CONT \$k" </dev/null >/dev/null 2>&1
				exit 255
			fi ;;
		esac
		exec ssh -F "$FP_SSH_CONFIG" "\$@"
	EOF
	chmod +x fakessh
	touch trigger
	run --separate-stderr fp -j1 --joblog jl --ssh "$PWD/fakessh" \
		-S fp-host1 "cd $PWD; "'echo {} >>runs; echo {}' ::: a
	kill -CONT $(cat stopped) 2>/dev/null || true
	printf 'stderr: %s\n' "$stderr"
	[[ ! -e trigger ]]
	assert_success
	assert_output 'a'
	# the command ran once: the first attempt never reached it
	assert_equal "$(cat runs)" a
	assert_equal "$(tail -n +2 jl | cut -f2,7)" $'fp-host1\t0'
}

@test "a job waiting to run again when forkpool is stopped is reported, and forkpool exits" {
	own_servers 2
	start_fp --ssh "$FP_SSH" -S 1/fp-host1,1/fp-host2 \
		"cd $PWD; "'echo $$ >pid.{}; exec sleep 60' ::: a b
	wait_files 2 'pid.*' 10
	# job 1 fails over from host 1, which is dropped, and waits for
	# host 2's only slot
	sshd_kill 1
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q dropped err && break
		sleep 0.05
	done
	kill -TERM "$FP_PID"
	finish_fp 10
	cat err
	assert_equal "$FP_STATUS" 143
	run grep -c 'job 1: not started again: forkpool is stopping' err
	assert_output 1
}

@test "with descriptors short, a dropped host's slots do not stop the others'" {
	own_servers 2
	# room for a few jobs at once: forkpool runs fewer than -j, and host
	# 1, whose slots come first, is dropped (the masters may go up to the
	# hard limit)
	(
		ulimit -Sn 28
		exec "$FP_BIN" -j8 --ssh "$FP_SSH" -S fp-host1,fp-host2 \
			'sleep 0.3; echo {}' ::: $(seq 40)
	) </dev/null >out 2>err 3>&- &
	FP_PID=$!
	sleep 1
	sshd_kill 1
	finish_fp 60
	cat err
	assert_equal "$FP_STATUS" 0
	assert_equal "$(sort -n out)" "$(seq 40)"
	# fewer than host 1's 8 slots at once, or this tests nothing
	run grep -Eo 'running at most [1-7] jobs' err
	assert_success
}

@test "--sshloginfile is read again when it changes: a host taken out of it gets no new job" {
	printf '1/fp-host1\n1/fp-host2\n' >slf
	start_fp -j1 --slf slf --ssh "$FP_SSH" \
		"cd $PWD; "'echo {} >>ran.$PARALLEL_SSHHOST; while [ ! -e go ]; do sleep 0.05; done' \
		::: $(seq 6)
	wait_files 2 'ran.*' 10
	printf '# fp-host2 is gone\n1/fp-host1\n' >slf.new
	mv slf.new slf
	# the file is looked at once a second at most
	sleep 1.2
	touch go
	finish_fp 30
	assert_equal "$FP_STATUS" 0
	assert_equal "$(cat err)" ''
	assert_equal "$(cat ran.fp-host2)" 2
	assert_equal "$(cat ran.fp-host1)" "$(printf '%s\n' 1 3 4 5 6)"
}

@test "--sshloginfile: a host dropped for its failures is used again once the file lists it again" {
	# fp-host2's connections fail while the file "down" is there
	cat >flaky <<-EOF
		#!/bin/sh
		case " \$* " in
		*" fp-host2 "*)
			if [ -e "$PWD/down" ]; then
				echo "ssh: connect to host fp-host2: Connection refused" >&2
				exit 255
			fi ;;
		esac
		exec ssh -F "$FP_SSH_CONFIG" "\$@"
	EOF
	chmod +x flaky
	touch down
	printf '1/fp-host1\n1/fp-host2\n' >slf
	start_fp -j1 --no-multiplex --slf slf --ssh "$PWD/flaky" \
		"cd $PWD; "'echo {} >>ran.$PARALLEL_SSHHOST; sleep 0.2' ::: $(seq 30)
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q dropped err && break
		sleep 0.05
	done
	rm down
	# the same hosts, written again
	printf '# back\n1/fp-host1\n1/fp-host2\n' >slf
	finish_fp 60
	assert_equal "$FP_STATUS" 0
	run cat err
	assert_output --regexp '^forkpool: fp-host2: dropped: 3 failures in a row'
	assert_equal "${#lines[@]}" 1
	# every job ran once, some on fp-host2 after it came back
	assert_equal "$(cat ran.* | sort -n)" "$(seq 30)"
	[[ -s ran.fp-host2 ]] || fail "fp-host2 was not used again"
}

@test "--sshloginfile changed into a FIFO, or with a bad line: one warning, the hosts stay, no wait" {
	printf '1/fp-host1\n' >slf
	start_fp -j1 --slf slf --ssh "$FP_SSH" \
		"cd $PWD; "'echo {} >>ran; while [ ! -e go ]; do sleep 0.05; done' \
		::: 1 2 3 4
	wait_files 1 ran 10
	rm slf
	mkfifo slf
	sleep 1.2
	touch go
	finish_fp 30
	assert_equal "$FP_STATUS" 0
	assert_equal "$(cat ran)" "$(seq 4)"
	assert_equal "$(cat err)" 'forkpool: --slf slf: changed into what is not a file: its hosts are left as they were'
	# a bad line is said once, not at every look
	rm -f slf ran go
	printf '1/fp-host1\n' >slf
	start_fp -j1 --slf slf --ssh "$FP_SSH" \
		"cd $PWD; "'echo {} >>ran; sleep 0.4' ::: $(seq 8)
	wait_files 1 ran 10
	printf '1/fp-host1\n@grp/fp-host2\n' >slf
	finish_fp 30
	assert_equal "$FP_STATUS" 0
	assert_equal "$(cat ran)" "$(seq 8)"
	run grep -c 'changed: its hosts are left as they were' err
	assert_output 1
}

@test "--sshloginfile with no host of the run left in it: one warning, the jobs wait for one" {
	printf '1/fp-host1\n' >slf
	start_fp -j1 --slf slf --ssh "$FP_SSH" \
		"cd $PWD; "'echo {} >>ran; while [ ! -e go ]; do sleep 0.05; done' \
		::: 1 2 3
	wait_files 1 ran 10
	printf '# none for now\n' >slf
	sleep 1.2
	touch go
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q 'no host of the run is listed' err && break
		sleep 0.05
	done
	sleep 0.5
	# job 1 ended; no other started
	assert_equal "$(cat ran)" 1
	printf '1/fp-host1\n' >slf
	finish_fp 30
	assert_equal "$FP_STATUS" 0
	assert_equal "$(cat ran)" "$(seq 3)"
	assert_equal "$(cat err)" 'forkpool: --slf slf: no host of the run is listed: the jobs wait until one is'
}

@test "--sshloginfile: a host added while running is not used, with a warning" {
	printf '1/fp-host1\n' >slf
	start_fp -j1 --slf slf --ssh "$FP_SSH" \
		"cd $PWD; "'echo {} >>ran.$PARALLEL_SSHHOST; while [ ! -e go ]; do sleep 0.05; done' \
		::: 1 2 3
	wait_files 1 'ran.*' 10
	printf '1/fp-host1\n1/fp-host2\n' >slf
	sleep 1.2
	touch go
	finish_fp 30
	assert_equal "$FP_STATUS" 0
	assert_equal "$(cat ran.fp-host1)" "$(seq 3)"
	assert_file_not_exists ran.fp-host2
	run cat err
	assert_output 'forkpool: --slf slf: fp-host2: added while running: not used, hosts are taken at the start'
}

@test "a host that cannot be reached at start is dropped with one warning" {
	own_servers 2
	sshd_kill 2
	run --separate-stderr fp -k -j2 --ssh "$FP_SSH" -S fp-host1,fp-host2 echo ::: a b
	assert_success
	assert_output $'a\nb'
	assert_equal "$(grep -c . <<<"$stderr")" 1
	assert_equal "${stderr%%:*}" forkpool
	[[ $stderr == 'forkpool: fp-host2: cannot be reached; dropped'* ]]
}

@test "when no host is left the remaining jobs fail with one message" {
	own_servers 1
	start_fp -j1 --joblog jl --ssh "$FP_SSH" -S fp-host1 \
		"cd $PWD; "'echo {} >>ran; sleep 1' ::: 1 2 3 4
	sleep 0.5
	sshd_kill 1
	finish_fp 30
	assert_equal "$FP_STATUS" 4
	# every job has its row; none ran anywhere, so none names a host
	assert_equal "$(tail -n +2 jl | cut -f1,2,7 | sort -n | tr '\t' :)" \
		"$(printf '%s::255\n' 1 2 3 4)"
	run cat err
	assert_line --index 0 --regexp '^forkpool: fp-host1: dropped: 3 failures in a row'
	assert_line --index 1 'forkpool: no host is left: the jobs not run yet fail'
	assert_equal "${#lines[@]}" 2
	assert_equal "$(cat out)" ''
}

@test "bad logins are refused, naming the option and the value" {
	local bad
	run --separate-stderr fp -S 0/fp-host1 echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: -S 0/fp-host1: the number of job slots is too small: 0'
	run --separate-stderr fp --sshlogin 'fp-host1:port' echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --sshlogin fp-host1:port: the port is invalid: port'
	run --separate-stderr fp -S ',' echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: -S ,: no login'
	run --separate-stderr fp -S 'user@' echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: -S user@: no host'
	run --separate-stderr fp -S 'u:pw@h' echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: -S u:pw@h: a password in a login is not supported; use a key'
	run --separate-stderr fp -S '-oProxyCommand=touch_pwned' echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: -S -oProxyCommand=touch_pwned: a host cannot start with -'
	assert_file_not_exists touch_pwned
	run --separate-stderr fp -S '@grp/h' echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: -S @grp/h: host groups are not supported'
	printf 'fp-host1\n\n3/\n' >hosts
	run --separate-stderr fp --slf hosts echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --slf hosts: line 3: 3/: no host'
	# BSD xargs's -S REPLSIZE is no login
	run --separate-stderr fp -S 255 -I X echo X ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: -S: not supported: BSD xargs's -S REPLSIZE is not supported; instead: leave out -S REPLSIZE: -I has no size limit"
	# options that need a remote side forkpool does not build
	run --separate-stderr fp -S fp-host1 --tty echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --tty cannot be used with remote hosts (-S, --sshloginfile)'
}

@test "empty items of -S are passed over, as GNU parallel passes over a trailing comma" {
	local v
	for v in 'fp-host1,' ',fp-host1' ' ,fp-host1, ,' $'fp-host1\n'; do
		run --separate-stderr fp -k --ssh "$FP_SSH" -S "$v" 'echo {} $PARALLEL_SSHHOST' ::: a b
		assert_success
		assert_output $'a fp-host1\nb fp-host1'
		assert_equal "$stderr" ''
	done
	# ",," is still a comma within a login, not an empty item
	run --separate-stderr fp -S 'a:1,,b' echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: -S a:1,,b: the port is invalid: 1,b'
}

@test "IPv6 logins: [ADDR]:PORT, ADDRpPORT and ADDR#PORT give ssh the address and the port" {
	# This ssh logs its words, then reaches fp-host1 for any ::1 login.
	mkscript v6ssh "echo \"\$*\" >>\"$PWD/ssh.log\"
for a; do
	shift
	if [ \"\$skip\" = 1 ]; then skip=; continue; fi
	case \$a in
	-p) skip=1; continue ;;
	::1 | root@::1) a=fp-host1 ;;
	esac
	set -- \"\$@\" \"\$a\"
done
exec ssh -F \"\$FP_SSH_CONFIG\" \"\$@\"" >/dev/null
	local login
	for login in '[::1]:2222' '[::1]p2222' '[::1]#2222' '::1p2222' '::1#2222' 'root@::1p2222'; do
		rm -f ssh.log
		run --separate-stderr fp -j1 --ssh "$PWD/bin/v6ssh" -S "$login" --plus echo '{host}' ::: a
		assert_success
		assert_output '::1'
		assert_equal "$stderr" ''
		grep -q -- "-p 2222 \(root@\)\?::1 -- " ssh.log || fail "$login: $(cat ssh.log)"
	done
	# an address alone keeps its colons, and a p or # after it needs digits
	rm -f ssh.log
	run --separate-stderr fp -j1 --ssh "$PWD/bin/v6ssh" -S '::1' echo ::: a
	assert_success
	assert_output a
	run grep -c -- ' -p ' ssh.log
	assert_output 0
	# after ], only a port may follow
	run --separate-stderr fp -S '[::1]junk' echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: -S [::1]junk: what follows ] is not :PORT"
	run --separate-stderr fp -S '::1p0' echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: -S ::1p0: the port is too small: 0'
	run --separate-stderr fp -S '::1#99999' echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: -S ::1#99999: the port is too large: 99999'
}

@test "-S : alone runs here: --workdir and --process-slot-var work as they do locally" {
	mkdir wd
	run --separate-stderr fp -j1 -S : --workdir wd 'pwd; : {}' ::: a
	assert_success
	assert_output "$PWD/wd"
	assert_equal "$stderr" ''
	run --separate-stderr fp -k -j2 -S 2/: --process-slot-var SLOT 'echo {} $SLOT; sleep 0.2' ::: a b
	assert_success
	assert_output $'a 0\nb 1'
	# with a remote host among the logins --tty is still refused
	run --separate-stderr fp -S :,fp-host1 --ssh "$FP_SSH" --tty echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --tty cannot be used with remote hosts (-S, --sshloginfile)'
}

@test "an --ssh program that cannot be run is named, with its option, before any job" {
	run --separate-stderr fp --ssh "$PWD/nosuch -o X=1" -S fp-host1 'echo {} >>ran' ::: a
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" "forkpool: --ssh $PWD/nosuch -o X=1: $PWD/nosuch: cannot be run: No such file or directory"
	assert_file_not_exists ran
	printf 'echo\n' >notexec
	run --separate-stderr fp --ssh "$PWD/notexec" -S fp-host1 echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --ssh $PWD/notexec: $PWD/notexec: cannot be run: Permission denied"
	run --separate-stderr env PARALLEL_SSH=fp-nosuch-ssh "$FP_BIN" -S fp-host1 echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: $PARALLEL_SSH fp-nosuch-ssh: fp-nosuch-ssh: cannot be run: No such file or directory'
	# a login's own ssh command
	run --separate-stderr fp --ssh "$FP_SSH" -S 'fp-host2,fp-nosuch-ssh fp-host1' echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: -S fp-host2,fp-nosuch-ssh fp-host1: fp-nosuch-ssh: cannot be run: No such file or directory'
	# with : alone no ssh runs
	run --separate-stderr fp --ssh "$PWD/nosuch" -S : echo ::: a
	assert_success
	assert_output a
}

@test "a remote command not found stops the run as a local one does: exit 127" {
	# here: the command cannot run, no more jobs start
	run -127 --separate-stderr fp -j1 fp-nosuch-cmd ::: a b c
	assert_failure 127
	assert_equal "$stderr" $'forkpool: fp-nosuch-cmd: command not found\nforkpool: starting no more jobs: the command cannot run'
	# there: the remote shell says so and exits 127; the same ending
	run -127 --separate-stderr fp -j1 --joblog jl --ssh "$FP_SSH" -S fp-host1 fp-nosuch-cmd ::: a b c
	assert_failure 127
	assert_output ''
	assert_equal "${stderr_lines[0]}" 'forkpool: starting no more jobs: the command cannot run on fp-host1'
	# the remote sh's own message, as the job's stderr, names the host
	[[ ${stderr_lines[1]} == 'forkpool: fp-host1: '*'fp-nosuch-cmd: not found' ]] ||
		fail "$stderr"
	assert_equal "${#stderr_lines[@]}" 2
	assert_equal "$(tail -n +2 jl | cut -f1,7 | paste -sd' ')" $'1\t127'
	# --xargs-status exits 127 likewise
	run -127 --separate-stderr fp -j1 --xargs-status --ssh "$FP_SSH" -S fp-host1 fp-nosuch-cmd ::: a b
	assert_failure 127
	# a command line run by the shell that exits 127 is the job's own failure,
	# as it is here
	run --separate-stderr fp -j1 -k --ssh "$FP_SSH" -S fp-host1 'fp-nosuch-cmd {}; echo {} >&2; exit 127' ::: a b
	assert_failure 2
	[[ $stderr != *'starting no more'* ]] || fail "$stderr"
}

@test "--sshdelay SECS: the ssh processes, masters and jobs, start at least SECS apart" {
	mkscript tssh "date +%s.%N >>\"$PWD/starts\"; exec ssh -F \"\$FP_SSH_CONFIG\" \"\$@\"" >/dev/null
	local t0 t1
	t0=$(date +%s%N)
	run --separate-stderr fp -k -j3 --sshdelay 0.5 --ssh "$PWD/bin/tssh" -S fp-host1 echo ::: a b c
	t1=$(date +%s%N)
	assert_success
	assert_output $'a\nb\nc'
	assert_equal "$stderr" ''
	# the master and three jobs; each ssh notes its start a moment after
	# forkpool starts it, so the gaps are checked to within 50 ms
	assert_equal "$(wc -l <starts)" 4
	((t1 - t0 >= 1500000000)) || fail "took $(((t1 - t0) / 1000000)) ms"
	run awk 'NR > 1 && $1 - prev < 0.45 { print "too close:", prev, $1 } { prev = $1 }' starts
	assert_output ''
	# without a master, and its other name
	rm starts
	run --separate-stderr fp -j3 --no-multiplex --ssh-delay 0.4 --ssh "$PWD/bin/tssh" -S fp-host1 echo ::: a b c
	assert_success
	assert_equal "$(wc -l <starts)" 3
	run awk 'NR > 1 && $1 - prev < 0.35 { print "too close:", prev, $1 } { prev = $1 }' starts
	assert_output ''
	# a bad value is named with its option
	run --separate-stderr fp --sshdelay 1x -S fp-host1 echo ::: a
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: --sshdelay 1x: not a duration such as 90, 1.5s or 1d2h3m4.5s'
	run --separate-stderr fp --ssh-delay=-1 -S fp-host1 echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --ssh-delay -1: not a duration such as 90, 1.5s or 1d2h3m4.5s'
}

@test "--onall: every host runs every value once, in order, its output together; the status counts the failed jobs" {
	# the jobs of both hosts overlap in time: only grouping keeps each host's lines together
	run --separate-stderr fp --onall --ssh "$FP_SSH" -S fp-host1,fp-host2 \
		'echo {} $PARALLEL_SSHHOST; sleep 0.2; echo {} end; [ {} != b ]' ::: a b c
	assert_failure 2
	assert_equal "$stderr" ''
	assert_equal "${#lines[@]}" 12
	local h first second
	first=$(printf '%s\n' "${lines[@]:0:6}")
	second=$(printf '%s\n' "${lines[@]:6:6}")
	for h in fp-host1 fp-host2; do
		local want="a $h"$'\na end\n'"b $h"$'\nb end\n'"c $h"$'\nc end'
		[[ $first == "$want" || $second == "$want" ]] || fail "no block for $h: $output"
	done
	[[ $first != "$second" ]]
	# -k: the hosts in the order given; --tag: each line tagged with its host
	run --separate-stderr fp --onall -k --tag --joblog jl --ssh "$FP_SSH" \
		-S fp-host2 -S fp-host1 'echo {}; [ {} = a ]' ::: a b c
	assert_failure 4
	assert_output "$(printf 'fp-host2\t%s\n' a b c; printf 'fp-host1\t%s\n' a b c)"
	# the joblog: one header, a row for every job on every host
	assert_equal "$(head -n 1 jl | cut -f1)" Seq
	assert_equal "$(tail -n +2 jl | cut -f1,2,7 | sort | paste -sd' ')" \
		"$(printf '1\tfp-host1\t0 1\tfp-host2\t0 2\tfp-host1\t1 2\tfp-host2\t1 3\tfp-host1\t1 3\tfp-host2\t1')"
	# --tagstring {host} works as without --onall
	run --separate-stderr fp --onall -k --plus --tagstring '<{host}>' --ssh "$FP_SSH" \
		-S fp-host3,: echo ::: x
	assert_success
	assert_output $'<fp-host3>\tx\n<:>\tx'
}

@test "--onall -j N: N hosts at a time, each running its jobs one at a time" {
	run --separate-stderr fp --onall -j1 --ssh "$FP_SSH" -S fp-host1,fp-host2 \
		"echo start {} \$PARALLEL_SSHHOST >>$PWD/log; sleep 0.2; echo end {} >>$PWD/log" ::: a b
	assert_success
	assert_equal "$(cat log)" "start a fp-host1
end a
start b fp-host1
end b
start a fp-host2
end a
start b fp-host2
end b"
	# two hosts at once: the second host starts before the first has done all
	rm log
	run --separate-stderr fp --onall -j2 --ssh "$FP_SSH" -S fp-host1,fp-host2 \
		"echo start {} \$PARALLEL_SSHHOST >>$PWD/log; sleep 1; echo end {} >>$PWD/log" ::: a b
	assert_success
	assert_equal "$(head -n 2 log | cut -d' ' -f1,2 | paste -sd' ')" 'start a start a'
}

@test "--onall: stdin and -a files are read once, and hostile values reach every host exactly" {
	local vals=('' "it's" '"a"' '$HOME' '`id`' '$(id)' 'a;b' 'a|b' $'new\nline'
		'*' '-n' '--' ' lead' 'trail ' 'ünï' $'\xff\xfe' '\' "'\"'\"'" '{}' '%s')
	printf '%s\0' "${vals[@]}" >vals
	# from stdin, exec'd directly
	fp --onall -k -0 --ssh "$FP_SSH" -S fp-host1,fp-host2 -q printf '%s\0' <vals >out.direct
	cat vals vals | cmp - out.direct
	# from a pipe given with -a, through the shell
	fp --onall -k -0 --ssh "$FP_SSH" -S fp-host2,fp-host3 --exec-mode shell \
		-a <(cat vals) "printf '%s\\0' {}" >out.shell
	cat vals vals | cmp - out.shell
}

@test "--nonall: the command once on every host, no input read; an error without hosts" {
	run --separate-stderr fp --nonall -k --ssh "$FP_SSH" -S fp-host1,fp-host2 \
		'echo $PARALLEL_SSHHOST "[{}]" $#'
	assert_success
	assert_output $'fp-host1 [] 0\nfp-host2 [] 0'
	assert_equal "$stderr" ''
	# stdin is left alone: a writer that never ends does not hold it up
	run --separate-stderr timeout 20 bash -c 'exec "$FP_BIN" --nonall -k \
		--ssh "$FP_SSH" -S fp-host3,fp-host1 "echo \$PARALLEL_SSHHOST; exit 3" < <(echo x; sleep 30)'
	assert_failure 2
	assert_output $'fp-host3\nfp-host1'
	# no hosts, or input given
	run --separate-stderr fp --nonall hostname
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: --nonall needs remote hosts: -S or --sshloginfile'
	run --separate-stderr fp --onall echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --onall needs remote hosts: -S or --sshloginfile'
	run --separate-stderr fp --nonall -S fp-host1 echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --nonall takes no input source (-a, :::, ::::): it runs the command once on every host'
	run --separate-stderr fp --onall --results res -S fp-host1 echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --onall cannot be used with --results: the hosts' runs would each have their own"
	# a bad login is named once, before any run
	run --separate-stderr fp --onall --ssh "$FP_SSH" -S fp-host1,u:pw@h echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: -S fp-host1,u:pw@h: a password in a login is not supported; use a key'
}

@test "--onall: Ctrl-C ends every host's remote job, and forkpool exits 130" {
	start_fp --onall --ssh "$FP_SSH" -S fp-host1,fp-host2 --tmpdir tmp \
		"cd $PWD; "'echo $$ >pid.$PARALLEL_SSHHOST; exec sleep 60' ::: 1 2
	wait_files 2 'pid.*' 10
	local p pids
	pids=$(cat pid.*)
	for p in $pids; do alive "$p"; done
	kill -INT "$FP_PID"
	finish_fp 15
	assert_equal "$FP_STATUS" 130
	for p in $pids; do
		wait_gone "$p" 5 || fail "remote job $p survived SIGINT"
	done
	# the second value never ran
	assert_equal "$(cat out)" ''
	run ls -A tmp
	assert_output ''
}

@test "--onall: forkpool killed with SIGKILL, every host's run ends its remote job and starts no other" {
	start_fp --onall --ssh "$FP_SSH" -S fp-host1,fp-host2,fp-host3 --tmpdir tmp \
		"cd $PWD; "'echo $$ >>pids; sleep 30; : {}' ::: 1 2
	wait_files 1 pids 10
	local i p runs
	for ((i = 0; i < 200; i++)); do
		[[ $(wc -l <pids) == 3 ]] && break
		sleep 0.05
	done
	assert_equal "$(wc -l <pids)" 3
	runs=$(ps -o pid= --ppid "$FP_PID")
	assert_equal "$(wc -w <<<"$runs")" 3
	kill -KILL "$FP_PID"
	wait "$FP_PID" || true
	for p in $runs; do
		wait_gone "$p" 10 || fail "the run $p outlived forkpool"
	done
	for p in $(cat pids); do
		wait_gone "$p" 10 || fail "remote job $p outlived forkpool"
	done
	# no second job started
	assert_equal "$(wc -l <pids)" 3
}
