# Real OpenSSH servers for the remote-execution tests, on loopback only.
#
#	load helper
#	load sshd
#	setup_file()    { sshd_start 3; }	# or setup(), for servers per test
#	teardown_file() { sshd_stop; }		# or teardown()
#
#	@test "..." {
#		run $FP_SSH fp-host2 'echo $SSH_CONNECTION'
#		run rsync -e "$FP_SSH" file fp-host1:/some/dir/
#		sshd_kill 2	# host 2 dies, with its connections
#	}
#
# sshd_start N [SSHD_CONFIG_LINE...] starts N sshd servers standing for N
# hosts: host K listens on 127.0.0.K, on a port the kernel found free, and is
# reached as fp-hostK through the client configuration it writes.  Any extra
# lines go first into every server's sshd_config, so they override the
# harness's own settings (sshd keeps the first value it reads).  It exports
#
#	FP_SSH_DIR	the private (0700) directory holding everything: keys,
#			configurations, logs (hostK/sshd.log), pids
#	FP_SSH_CONFIG	the ssh_config for the client: ssh -F "$FP_SSH_CONFIG"
#	FP_SSH		"ssh -F $FP_SSH_CONFIG", for --ssh and rsync -e
#	FP_SSH_HOSTS	the aliases, "fp-host1 fp-host2 ..."
#	FP_SSH_PORTS	their ports, in the same order
#	FP_SSH_COUNT	N
#
# and returns once every server has run a command, or fails the test.  The
# servers take FORKPOOL_* and PARALLEL_* variables (ssh -o SendEnv=...).
# A test may start servers of its own over those its file started: they
# are its shell's alone, and its sshd_stop stops them only.
# sshd_kill K kills host K's server and every process it forked (the
# connections' servers and the commands they run), so that connections to it
# die as they would with the host.  sshd_stop does that for every host and
# removes FP_SSH_DIR; calling it again does nothing.  sshd_pids lists the
# processes the harness would end.  alive PID and wait_gone PID [SECONDS]
# tell whether a process (a remote job, a master) has ended.
#
# Without sshd (FP_SSHD names another one) or ssh the test is skipped, or
# fails under CI=true.  bench/run sources this file too, with fail, skip and
# require_cmd of its own in place of bats'.  Nothing is written outside FP_SSH_DIR but sshd's
# privilege separation directory /run/sshd, created when missing; the client
# reads no ~/.ssh nor /etc/ssh file, the servers accept only the key
# generated for the run, as the user running the tests (root included).

if ! declare -F require_cmd >/dev/null; then
	# shellcheck source=tests/helper.bash
	source "$(dirname "${BASH_SOURCE[0]}")/helper.bash"
fi

# _sshd_require: find sshd into _sshd_bin (FP_SSHD, or the one installed),
# by its absolute path since it re-executes itself; without it or ssh, skip
# the test, or fail it under CI=true so that nothing passes by not running
# (as require_cmd does).
_sshd_require() {
	_sshd_bin=${FP_SSHD:-$(PATH="$PATH:/usr/sbin:/sbin" command -v sshd)} ||
		_sshd_bin=
	if [[ $_sshd_bin != /* || ! -x $_sshd_bin ]]; then
		if [[ ${CI:-} == true ]]; then
			fail "required command not found: sshd"
			return 1
		fi
		skip "sshd is not installed"
	fi
	require_cmd ssh
	require_cmd ssh-keygen
	require_cmd python3
}

# _sshd_free_ports ADDR...: a TCP port free on each ADDR, one a line, as the
# kernel picks them for a bind to port 0.  Another program may take one
# before sshd binds it, so sshd_start tries again on a failed bind.
_sshd_free_ports() {
	python3 -c 'import socket, sys
socks = [socket.socket() for a in sys.argv[1:]]
for s, a in zip(socks, sys.argv[1:]):
	s.bind((a, 0))
for s in socks:
	print(s.getsockname()[1])' "$@"
}

# _sshd_starttime PID: the start time of PID in clock ticks since boot
# (field 22 of /proc/PID/stat), which with the pid names one process: a pid
# recorded earlier may have been reused since.
_sshd_starttime() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	# the fields after the command name, which may hold spaces and ')'
	stat=${stat##*) }
	local fields
	read -ra fields <<<"$stat"
	printf '%s\n' "${fields[19]}"
}

# _sshd_tree PID...: PID and all their descendants that are still running,
# one a line.
_sshd_tree() {
	ps -e -o pid=,ppid=,stat= | awk -v roots="$*" '
		BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) want[r[i]] = 1 }
		$3 !~ /^Z/ { parent[$1] = $2 }
		END {
			do {
				grown = 0
				for (p in parent)
					if (!(p in want) && (parent[p] in want)) {
						want[p] = 1
						grown = 1
					}
			} while (grown)
			for (p in want)
				if (p in parent)
					print p
		}'
}

# _sshd_listener K: the pid of host K's server if it is still the process
# the harness started, else nothing.
_sshd_listener() {
	local file="$FP_SSH_DIR/host$1/listener" pid start now
	[[ -r $file ]] || return 0
	read -r pid start <"$file" || return 0
	now=$(_sshd_starttime "$pid") || return 0
	[[ $now == "$start" ]] && printf '%s\n' "$pid"
	return 0
}

# _sshd_kill_tree PID: kill PID and every process below it.  The tree is
# frozen first, each process stopped before its children are listed,
# because a process whose parent died is re-parented and can no longer be
# found from PID; a running one might also fork meanwhile.
_sshd_kill_tree() {
	local -A seen
	local p grown=1
	kill -STOP "$1" 2>/dev/null || return 0
	seen[$1]=1
	while ((grown)); do
		grown=0
		for p in $(_sshd_tree "${!seen[@]}"); do
			[[ -n ${seen[$p]:-} ]] && continue
			kill -STOP "$p" 2>/dev/null || true
			seen[$p]=1
			grown=1
		done
	done
	kill -KILL "${!seen[@]}" 2>/dev/null || true
	# the servers are this shell's children when it started them
	wait "$1" 2>/dev/null || true
}

# sshd_pids: the running processes of the harness's servers and of all they
# forked, one a line.
sshd_pids() {
	[[ -n ${FP_SSH_DIR:-} && -d $FP_SSH_DIR ]] || return 0
	local k pid roots=()
	for ((k = 1; k <= ${FP_SSH_COUNT:-0}; k++)); do
		pid=$(_sshd_listener "$k")
		[[ -z $pid ]] || roots+=("$pid")
	done
	((${#roots[@]})) || return 0
	_sshd_tree "${roots[@]}"
}

# sshd_kill K: kill host K's server and all it forked, as if the host died.
sshd_kill() {
	local pid
	[[ $1 =~ ^[1-9][0-9]*$ && $1 -le ${FP_SSH_COUNT:-0} ]] ||
		fail "sshd_kill: no host $1 (${FP_SSH_COUNT:-0} started)"
	pid=$(_sshd_listener "$1")
	[[ -n $pid ]] && _sshd_kill_tree "$pid"
	return 0
}

# sshd_stop: kill every server and all they forked, then remove FP_SSH_DIR.
sshd_stop() {
	[[ -n ${FP_SSH_DIR:-} && -d $FP_SSH_DIR ]] || return 0
	local k
	for ((k = 1; k <= ${FP_SSH_COUNT:-0}; k++)); do
		sshd_kill "$k"
	done
	rm -rf "$FP_SSH_DIR"
}

# _sshd_write_client: the client's ssh_config and known_hosts, for the hosts
# whose ports are known so far (_sshd_ports).  Host keys are recorded under
# "[127.0.0.K]:PORT", the name ssh looks up, so that connecting by address
# and port works as well as by alias.
_sshd_write_client() {
	local k
	{
		for k in "${!_sshd_ports[@]}"; do
			printf 'Host fp-host%s\n\tHostName 127.0.0.%s\n\tPort %s\n' \
				"$k" "$k" "${_sshd_ports[k]}"
		done
		echo 'Host *'
		printf '\t%s\n' "User $(id -un)" \
			"IdentityFile $FP_SSH_DIR/id_ed25519" \
			'IdentitiesOnly yes' \
			'IdentityAgent none' \
			"UserKnownHostsFile $FP_SSH_DIR/known_hosts" \
			'GlobalKnownHostsFile /dev/null' \
			'StrictHostKeyChecking yes' \
			'UpdateHostKeys no' \
			'CheckHostIP no' \
			'BatchMode yes' \
			'PasswordAuthentication no' \
			'KbdInteractiveAuthentication no' \
			'ConnectTimeout 10' \
			'LogLevel ERROR'
	} >"$FP_SSH_CONFIG"
	for k in "${!_sshd_ports[@]}"; do
		printf '[127.0.0.%s]:%s %s\n' "$k" "${_sshd_ports[k]}" \
			"$(cut -d ' ' -f 1,2 "$FP_SSH_DIR/host$k/host_ed25519.pub")"
	done >"$FP_SSH_DIR/known_hosts"
}

# _sshd_write_config K PORT: host K's sshd_config, after the caller's extra
# lines (_sshd_extra).
_sshd_write_config() {
	local dir="$FP_SSH_DIR/host$1" sftp=internal-sftp
	[[ -x /usr/lib/openssh/sftp-server ]] && sftp=/usr/lib/openssh/sftp-server
	{
		((${#_sshd_extra[@]} == 0)) || printf '%s\n' "${_sshd_extra[@]}"
		cat <<-EOF
			ListenAddress 127.0.0.$1
			Port $2
			HostKey $dir/host_ed25519
			PidFile $dir/sshd.pid
			AuthorizedKeysFile $FP_SSH_DIR/authorized_keys
			PubkeyAuthentication yes
			PasswordAuthentication no
			KbdInteractiveAuthentication no
			PermitRootLogin prohibit-password
			UsePAM no
			StrictModes no
			UseDNS no
			PrintMotd no
			PrintLastLog no
			PermitUserRC no
			X11Forwarding no
			AcceptEnv FORKPOOL_* PARALLEL_*
			# many connections and sessions at once (-j, ControlMaster)
			MaxStartups 200
			MaxSessions 200
			LogLevel INFO
			Subsystem sftp $sftp
		EOF
		# sshd 9.8 and later turn away for a while a source whose
		# connections crashed, as those sshd_kill ends look.
		((_sshd_penalties == 0)) || echo 'PerSourcePenalties no'
	} >"$dir/sshd_config"
}

# _sshd_launch K...: start the servers of hosts K on free ports (into
# _sshd_ports) and wait until each listens; again on other ports for those
# whose port was taken meanwhile.
_sshd_launch() {
	local pending=("$@") retry k i t dir ports pid free
	local -A up
	for ((i = 0; i < 5 && ${#pending[@]}; i++)); do
		if ! free=$(_sshd_free_ports "${pending[@]/#/127.0.0.}"); then
			fail "sshd_start: no free ports on 127.0.0.{${pending[*]}}"
			return 1
		fi
		mapfile -t ports <<<"$free"
		for k in "${pending[@]}"; do
			dir=$FP_SSH_DIR/host$k
			_sshd_ports[k]=${ports[0]}
			ports=("${ports[@]:1}")
			_sshd_write_config "$k" "${_sshd_ports[k]}"
			# Started by this shell, not a subshell, so that it is
			# this shell's child and reaped by _sshd_kill_tree.
			"$_sshd_bin" -D -e -f "$dir/sshd_config" </dev/null \
				>"$dir/sshd.log" 2>&1 3>&- &
			pid=$!
			printf '%s %s\n' "$pid" "$(_sshd_starttime "$pid")" \
				>"$dir/listener"
			up[$k]=
		done
		# up to 10 s: a loaded machine may be slow to start sshd
		for ((t = 0; t < 200; t++)); do
			retry=()
			for k in "${pending[@]}"; do
				[[ -n ${up[$k]} ]] && continue
				dir=$FP_SSH_DIR/host$k
				if grep -q "^Server listening on 127\.0\.0\.$k port ${_sshd_ports[k]}\." \
					"$dir/sshd.log"; then
					up[$k]=yes
				elif ! read -r pid _ <"$dir/listener" ||
					! kill -0 "$pid" 2>/dev/null; then
					up[$k]=no
				else
					retry+=("$k")
				fi
			done
			((${#retry[@]})) || break
			sleep 0.05
		done
		retry=()
		for k in "${pending[@]}"; do
			[[ ${up[$k]} == yes ]] && continue
			dir=$FP_SSH_DIR/host$k
			sshd_kill "$k"
			if [[ ${up[$k]} == no ]] &&
				grep -q 'Address already in use' "$dir/sshd.log"; then
				retry+=("$k")
				continue
			fi
			fail "sshd_start: host $k (127.0.0.$k port ${_sshd_ports[k]}) did not start; its log:
$(tail -n 5 "$dir/sshd.log")"
			return 1
		done
		pending=("${retry[@]}")
	done
	if ((${#pending[@]})); then
		fail "sshd_start: no free port found for hosts ${pending[*]}"
		return 1
	fi
}

# _sshd_answer K...: check that hosts K run a command through the client
# configuration, all at once.
_sshd_answer() {
	local k pids=() i=0
	for k in "$@"; do
		ssh -F "$FP_SSH_CONFIG" "fp-host$k" true </dev/null \
			>"$FP_SSH_DIR/host$k/check" 2>&1 3>&- &
		pids+=($!)
	done
	for k in "$@"; do
		if ! wait "${pids[i++]}"; then
			fail "sshd_start: ssh fp-host$k true failed: $(cat "$FP_SSH_DIR/host$k/check")
sshd log:
$(tail -n 5 "$FP_SSH_DIR/host$k/sshd.log")"
			return 1
		fi
	done
}

# sshd_start N [SSHD_CONFIG_LINE...]: start N servers for hosts fp-host1 to
# fp-hostN (see the top of this file).
sshd_start() {
	local n=$1 k dir
	shift
	if ! [[ $n =~ ^[1-9][0-9]*$ && $n -le 254 ]]; then
		fail "sshd_start: bad number of hosts: $n"
		return 1
	fi
	_sshd_require || return 1
	_sshd_extra=("$@")
	_sshd_ports=()
	_sshd_penalties=0
	# sshd's privilege separation chroot, root's and 0755
	if [[ ! -d /run/sshd ]] && ! mkdir -m 755 /run/sshd; then
		fail "sshd_start: cannot create /run/sshd"
		return 1
	fi
	# In TMPDIR rather than the test's temporary directory, whose name is
	# long: a socket's path (ControlPath) may not exceed 107 bytes.
	if ! FP_SSH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/fp-ssh.XXXXXX"); then
		fail "sshd_start: cannot create a temporary directory"
		return 1
	fi
	chmod 700 "$FP_SSH_DIR"
	FP_SSH_CONFIG=$FP_SSH_DIR/ssh_config
	FP_SSH_COUNT=$n
	FP_SSH="ssh -F $FP_SSH_CONFIG"
	export FP_SSH_DIR FP_SSH_CONFIG FP_SSH_COUNT FP_SSH
	if ! ssh-keygen -q -t ed25519 -N '' -C fp-client \
		-f "$FP_SSH_DIR/id_ed25519" </dev/null; then
		fail "sshd_start: ssh-keygen failed"
		return 1
	fi
	cp "$FP_SSH_DIR/id_ed25519.pub" "$FP_SSH_DIR/authorized_keys"
	for ((k = 1; k <= n; k++)); do
		dir=$FP_SSH_DIR/host$k
		mkdir -m 700 "$dir"
		if ! ssh-keygen -q -t ed25519 -N '' -C "fp-host$k" \
			-f "$dir/host_ed25519" </dev/null; then
			fail "sshd_start: ssh-keygen failed"
			return 1
		fi
	done
	# Whether this sshd knows PerSourcePenalties, and the configuration is
	# sound, asked once of host 1's (its real port is not known yet).
	_sshd_write_config 1 22
	"$_sshd_bin" -t -f "$FP_SSH_DIR/host1/sshd_config" \
		-o PerSourcePenalties=no >/dev/null 2>&1 && _sshd_penalties=1
	if ! "$_sshd_bin" -t -f "$FP_SSH_DIR/host1/sshd_config" \
		2>"$FP_SSH_DIR/host1/sshd.log"; then
		fail "sshd_start: sshd rejects its configuration: $(cat "$FP_SSH_DIR/host1/sshd.log")"
		return 1
	fi
	_sshd_launch $(seq "$n") || return 1
	_sshd_write_client
	_sshd_answer $(seq "$n") || return 1
	FP_SSH_HOSTS=
	FP_SSH_PORTS=
	for ((k = 1; k <= n; k++)); do
		FP_SSH_HOSTS+="${FP_SSH_HOSTS:+ }fp-host$k"
		FP_SSH_PORTS+="${FP_SSH_PORTS:+ }${_sshd_ports[k]}"
	done
	export FP_SSH_HOSTS FP_SSH_PORTS
}

# alive PID: whether PID is a process that has not yet ended (a zombie has).
alive() {
	local state
	read -r _ _ state _ 2>/dev/null <"/proc/$1/stat" || return 1
	[[ $state != Z ]]
}

# wait_gone PID [SECONDS]: wait (at most SECONDS, default 5) until PID ended.
wait_gone() {
	local i
	for ((i = 0; i < ${2:-5} * 20; i++)); do
		alive "$1" || return 0
		sleep 0.05
	done
	return 1
}
