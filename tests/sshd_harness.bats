#!/usr/bin/env bats
# The OpenSSH test harness (tests/sshd.bash): real sshd servers on loopback,
# one per host, that the remote-execution tests rely on.

load helper
load sshd

# The servers most tests share; a test that kills some starts its own.
setup_file() {
	sshd_start 3
	export FP_SHARED_SSH_DIR=$FP_SSH_DIR
}

teardown_file() {
	sshd_stop
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# own_servers: start this test's own three servers, which teardown stops.
own_servers() {
	sshd_start 3
	[[ $FP_SSH_DIR != "$FP_SHARED_SSH_DIR" ]]
}

# Servers first: kill_leftovers would end a server of the test's own (in
# its directory) and leave the server's children to run on.
teardown() {
	if [[ ${FP_SSH_DIR:-} != "${FP_SHARED_SSH_DIR:-}" ]]; then
		sshd_stop
	fi
	kill_leftovers
}

# sq WORD: WORD quoted for a POSIX shell, the way a remote command is written.
sq() {
	printf "'%s'" "${1//\'/\'\\\'\'}"
}

# wait_line FILE [SECONDS]: wait (at most SECONDS, default 5) until FILE
# holds a whole line.
wait_line() {
	local i
	for ((i = 0; i < ${2:-5} * 20; i++)); do
		[[ -s $1 && $(tail -c 1 "$1" | od -An -c) == *'\n'* ]] && return 0
		sleep 0.05
	done
	fail "timed out waiting for a line in $1"
}

@test "sshd_start 3: three hosts, aliases, ports, a private 0700 directory" {
	[[ $FP_SSH_HOSTS == 'fp-host1 fp-host2 fp-host3' ]]
	[[ $FP_SSH == "ssh -F $FP_SSH_CONFIG" ]]
	[[ $FP_SSH_CONFIG == "$FP_SSH_DIR"/* && -f $FP_SSH_CONFIG ]]
	run stat -c '%a %U' "$FP_SSH_DIR"
	assert_output "700 $(id -un)"
	local ports
	read -ra ports <<<"$FP_SSH_PORTS"
	[[ ${#ports[@]} -eq 3 ]]
	run $FP_SSH fp-host1 'echo one'
	assert_success
	assert_output one
}

@test "each host alias reaches its own server on 127.0.0.K" {
	local ports k
	read -ra ports <<<"$FP_SSH_PORTS"
	for k in 1 2 3; do
		run $FP_SSH "fp-host$k" 'echo $SSH_CONNECTION'
		assert_success
		assert_output --regexp "^127\.0\.0\.[0-9]+ [0-9]+ 127\.0\.0\.$k ${ports[k - 1]}\$"
	done
}

@test "a host presenting another host's key is refused (host keys are per host)" {
	# fp-host1's name with fp-host2's address: the key it sees is not the
	# one known for it, so StrictHostKeyChecking stops the connection.
	local ports
	read -ra ports <<<"$FP_SSH_PORTS"
	run $FP_SSH -o HostName=127.0.0.2 -o Port="${ports[1]}" \
		-o HostKeyAlias='[127.0.0.1]:'"${ports[0]}" fp-host1 'echo reached'
	assert_failure 255
	assert_output --partial 'Host key verification failed.'
	refute_output --partial reached
	# and by address and port, without the alias, the key is known
	run ssh -F "$FP_SSH_CONFIG" -p "${ports[1]}" 127.0.0.2 'echo reached'
	assert_success
	assert_output reached
}

@test "a command with hostile quoting round-trips through the remote shell" {
	local hostile=$'it\'s "a" $HOME `id` \\ * ? [x] ; | & > < ( ) ~ # !\n\ttab\'\'end'
	run $FP_SSH fp-host2 "printf '%s' $(sq "$hostile")"
	assert_success
	assert_output "$hostile"
	# and as bytes through stdin and stdout
	run bash -c 'printf "%s" "$1" | $FP_SSH fp-host3 cat' _ "$hostile"
	assert_success
	assert_output "$hostile"
}

@test "the remote command's exit status comes back" {
	run $FP_SSH fp-host1 'exit 7'
	assert_failure 7
	assert_output ''
}

@test "ControlMaster: a master in a private 0700 directory serves, is checked and exits" {
	local dir="$FP_SSH_DIR/cm"
	mkdir -m 700 "$dir"
	local mux=(-o ControlMaster=auto -o "ControlPath=$dir/%C" -o ControlPersist=60)
	run $FP_SSH "${mux[@]}" fp-host2 'echo first'
	assert_success
	assert_output first
	# the master persists in the background and owns a socket in DIR
	local socks=("$dir"/*)
	[[ ${#socks[@]} -eq 1 && -S ${socks[0]} ]]
	run $FP_SSH "${mux[@]}" -O check fp-host2
	assert_success
	assert_output --regexp '^Master running \(pid=[0-9]+\)'
	local master=${output#*pid=}
	master=${master%%)*}
	# a second session goes through the master, not a new connection
	run $FP_SSH "${mux[@]}" -o ControlMaster=no fp-host2 'echo second'
	assert_success
	assert_output second
	run $FP_SSH "${mux[@]}" -O exit fp-host2
	assert_success
	assert_output --regexp '^Exit request sent\.'
	wait_gone "$master"
	[[ ! -e ${socks[0]} ]]
	run $FP_SSH "${mux[@]}" -O check fp-host2
	assert_failure 255
}

@test "rsync -e \"\$FP_SSH\" copies a file to a host and back" {
	require_cmd rsync
	local remote="$BATS_TEST_TMPDIR/on-host2"
	mkdir "$remote"
	printf '%s' "$(printf '\\%03o' $(seq 1 255))" | xargs -0 printf >bytes
	[[ $(stat -c %s bytes) -eq 255 ]]
	run rsync -e "$FP_SSH" bytes "fp-host2:$remote/"
	assert_success
	assert_output ''
	cmp bytes "$remote/bytes"
	run rsync -e "$FP_SSH" "fp-host2:$remote/bytes" back
	assert_success
	cmp bytes back
}

@test "sshd_kill 2: a running session to host 2 ends with 255, hosts 1 and 3 still answer" {
	own_servers
	# The remote shell prints its pid, then becomes the sleep.
	$FP_SSH fp-host2 'echo $$; exec sleep 30' </dev/null >out 2>err 3>&- &
	local client=$!
	wait_line out
	local remote
	remote=$(cat out)
	alive "$remote"
	local t0=$SECONDS
	sshd_kill 2
	wait_gone "$client" 5 || fail "ssh to a killed host did not end"
	local status=0
	wait "$client" || status=$?
	[[ $status -eq 255 ]] || fail "ssh ended with $status, not 255"
	((SECONDS - t0 <= 5))
	# the job on the dead host died with it
	wait_gone "$remote" 5 || fail "the remote sleep (pid $remote) survived"
	run $FP_SSH fp-host2 true
	assert_failure 255
	run $FP_SSH fp-host1 'echo 1'
	assert_success
	assert_output 1
	run $FP_SSH fp-host3 'echo 3'
	assert_success
	assert_output 3
}

@test "sshd_stop ends every server and connection it started, removes its directory, and can be called again" {
	own_servers
	$FP_SSH fp-host3 'echo $$; exec sleep 30' </dev/null >out 2>err 3>&- &
	local client=$!
	wait_line out
	local remote
	remote=$(cat out)
	local pids
	mapfile -t pids < <(sshd_pids)
	# three servers, the connection's server child, the sleep
	[[ ${#pids[@]} -ge 5 ]] || fail "only ${#pids[@]} processes: ${pids[*]}"
	[[ " ${pids[*]} " == *" $remote "* ]] ||
		fail "the remote sleep $remote is not among ${pids[*]}"
	local dir=$FP_SSH_DIR
	sshd_stop
	local p
	for p in "${pids[@]}"; do
		wait_gone "$p" 5 || fail "process $p outlived sshd_stop"
	done
	local status=0
	wait "$client" || status=$?
	[[ $status -eq 255 ]]
	[[ ! -e $dir ]]
	run sshd_stop
	assert_success
	assert_output ''
}

@test "without sshd the tests skip, and fail under CI=true" {
	# (printf, since bats would take a line starting with @test for this
	# file's own)
	printf '%s\n' "load $FP_TESTS/helper" "load $FP_TESTS/sshd" \
		'@test "needs sshd" {' '	sshd_start 1' '	echo ran' '}' \
		>"$BATS_TEST_TMPDIR/needs-sshd.bats"
	# a clean environment: this run's BATS_* would steer the inner one
	run env -i PATH="$PATH" FP_SSHD=/nonexistent/sshd \
		"$BATS_ROOT/bin/bats" --tap "$BATS_TEST_TMPDIR/needs-sshd.bats"
	assert_success
	assert_output "1..1
ok 1 needs sshd # skip sshd is not installed"
	run env -i PATH="$PATH" FP_SSHD=/nonexistent/sshd CI=true \
		"$BATS_ROOT/bin/bats" --tap "$BATS_TEST_TMPDIR/needs-sshd.bats"
	assert_failure 1
	assert_line 'not ok 1 needs sshd'
	assert_line '# required command not found: sshd'
	refute_output --partial ran
}
