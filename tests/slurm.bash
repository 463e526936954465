# A real single-node Slurm cluster for the --slurm tests: munged, slurmctld
# and slurmd from Debian's munge and slurm-wlm, started by hand (no
# systemd), on loopback, with everything in a private temp directory.
#
#	load helper
#	load slurm
#	setup_file()    { slurm_start; }
#	teardown_file() { slurm_stop; }
#
#	@test "..." {
#		run salloc -Q -n2 -- "$FP" --slurm echo ::: a b
#		run slurm_steps		# the steps running now, one a line
#	}
#
# slurm_start writes a configuration for one node, "localhost", with this
# machine's CPUs, on two TCP ports the kernel found free, and starts the
# three daemons; it returns once the node takes jobs, or fails the test.
# It exports
#
#	SLURM_CONF	the configuration, which every Slurm command reads
#	FP_SLURM_DIR	the directory holding everything: key, state, spool,
#			logs (log/*.log), pid files
#
# The configuration is what works without systemd nor cgroups:
# proctrack/linuxproc, task/none, no cgroup.conf, no accounting;
# batch_sched_delay=0 so that allocations are granted at once.
#
# slurm_steps prints the running steps (JOBID.STEPID, squeue -s), slurm_jobs
# the jobs; slurm_wait_steps [SECONDS] waits until no step runs and says
# which do when some still run.  slurm_stop cancels what still runs, stops
# the daemons by pid (SIGTERM, then SIGKILL: slurmd ignores SIGTERM when
# munge is down), kills any step daemon left, and removes FP_SLURM_DIR;
# calling it again does nothing.
#
# Without the daemons (FP_SLURM_SBIN names a directory without them) or
# the commands the test is skipped, or fails under
# CI=true (as require_cmd does).  bench/run sources this file too, with
# fail, skip and require_cmd of its own in place of bats'.

if ! declare -F require_cmd >/dev/null; then
	# shellcheck source=tests/helper.bash
	source "$(dirname "${BASH_SOURCE[0]}")/helper.bash"
fi

# _slurm_require: the daemons (by absolute path) and the client commands.
_slurm_require() {
	local d
	for d in munged slurmctld slurmd; do
		if ! _slurm_daemon "$d" >/dev/null; then
			if [[ ${CI:-} == true ]]; then
				fail "required command not found: $d"
				return 1
			fi
			skip "$d is not installed"
			return 1
		fi
	done
	for d in srun salloc squeue scancel sinfo python3; do
		require_cmd "$d" || return 1
	done
}

# _slurm_ports: two TCP ports free on 127.0.0.1, one a line.
_slurm_ports() {
	python3 -c 'import socket
socks = [socket.socket() for i in range(2)]
for s in socks:
	s.bind(("127.0.0.1", 0))
for s in socks:
	print(s.getsockname()[1])'
}

# _slurm_daemon NAME: the path of a daemon, in FP_SLURM_SBIN when set (a
# directory), else in PATH, /usr/sbin and /sbin.
_slurm_daemon() {
	PATH="${FP_SLURM_SBIN:-$PATH:/usr/sbin:/sbin}" command -v "$1"
}

slurm_start() {
	local d ports i cpus
	_slurm_require || return 1
	FP_SLURM_DIR=$(mktemp -d "${TMPDIR:-/tmp}/fp-slurm.XXXXXX") ||
		{ fail "mktemp failed"; return 1; }
	export FP_SLURM_DIR
	d=$FP_SLURM_DIR
	# munged wants its socket's directory reachable by all, its key's not
	chmod 755 "$d"
	mkdir -m 700 "$d/munge" && mkdir -m 755 "$d/sock" "$d/log" "$d/state" \
	    "$d/spool" || { fail "cannot make $d"; return 1; }
	head -c 1024 /dev/urandom >"$d/munge/key" && chmod 600 "$d/munge/key"
	# munged forks into the background itself; -f: it runs as root here
	"$(_slurm_daemon munged)" -f -S "$d/sock/munge" \
	    --key-file="$d/munge/key" --log-file="$d/log/munged.log" \
	    --pid-file="$d/munge/pid" --seed-file="$d/munge/seed" 3>&- ||
		{ fail "munged did not start: $(cat "$d/log/munged.log")"; return 1; }
	cpus=$(nproc --all)
	mapfile -t ports < <(_slurm_ports)
	cat >"$d/slurm.conf" <<-EOF
	ClusterName=fp
	SlurmctldHost=localhost
	SlurmctldPort=${ports[0]}
	SlurmdPort=${ports[1]}
	SlurmUser=$(id -un)
	SlurmdUser=root
	AuthType=auth/munge
	AuthInfo=socket=$d/sock/munge
	CredType=cred/munge
	StateSaveLocation=$d/state
	SlurmdSpoolDir=$d/spool
	SlurmctldPidFile=$d/slurmctld.pid
	SlurmdPidFile=$d/slurmd.pid
	SlurmctldLogFile=$d/log/slurmctld.log
	SlurmdLogFile=$d/log/slurmd.log
	ProctrackType=proctrack/linuxproc
	TaskPlugin=task/none
	SelectType=select/cons_tres
	SelectTypeParameters=CR_CPU
	SchedulerParameters=batch_sched_delay=0
	ReturnToService=2
	MpiDefault=none
	KillWait=2
	JobAcctGatherType=jobacct_gather/none
	AccountingStorageType=accounting_storage/none
	NodeName=localhost CPUs=$cpus State=UNKNOWN
	PartitionName=fp Nodes=localhost Default=YES MaxTime=INFINITE State=UP
	EOF
	export SLURM_CONF=$d/slurm.conf
	# -i: no state from an earlier run; both fork into the background
	"$(_slurm_daemon slurmctld)" -c -i 3>&- &&
	    "$(_slurm_daemon slurmd)" -c 3>&- || {
		fail "the Slurm daemons did not start: $(cat "$d"/log/*.log)"
		return 1
	}
	for ((i = 0; i < 200; i++)); do
		[[ $(sinfo -h -o %T 2>/dev/null) == idle ]] && return 0
		sleep 0.1
	done
	fail "the Slurm node is not idle after 20 s: $(sinfo 2>&1; cat "$d"/log/*.log)"
	return 1
}

# slurm_steps: the steps running, JOBID.STEPID a line (none: no output).
slurm_steps() {
	squeue -h -s -o %i 2>/dev/null | grep -v '\.\(extern\|batch\|interactive\)$'
	return 0
}

# slurm_jobs: the jobs (allocations) still known, JOBID a line.
slurm_jobs() {
	squeue -h -o %i 2>/dev/null
	return 0
}

# slurm_wait_steps [SECONDS]: wait (10 s) until no step runs; 1 and the
# steps on stdout when some still do.
slurm_wait_steps() {
	local i steps
	for ((i = 0; i < ${1:-10} * 10; i++)); do
		steps=$(slurm_steps)
		[[ -z $steps ]] && return 0
		sleep 0.1
	done
	echo "$steps"
	return 1
}

# _slurm_pid FILE: the pid in FILE, if any.
_slurm_pid() {
	[[ -s $1 ]] && head -n 1 "$1"
}

# _slurm_stepds: the step daemons of this cluster: the slurmstepd processes
# with a descriptor into its spool directory.
_slurm_stepds() {
	local p f
	for p in /proc/[0-9]*; do
		[[ $({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) == slurmstepd* ]] ||
			continue
		for f in "$p"/fd/*; do
			if [[ $(readlink "$f" 2>/dev/null) == "$FP_SLURM_DIR"/* ]]; then
				echo "${p#/proc/}"
				break
			fi
		done
	done
}

slurm_stop() {
	local d=${FP_SLURM_DIR:-} pids p i
	[[ -n $d && -d $d ]] || return 0
	scancel --full --quiet -u "$(id -un)" 2>/dev/null || :
	pids=$(_slurm_pid "$d/slurmd.pid"; _slurm_pid "$d/slurmctld.pid";
	    _slurm_pid "$d/munge/pid"; _slurm_stepds)
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null || :
	done
	for ((i = 0; i < 50; i++)); do
		for p in $pids; do
			kill -0 "$p" 2>/dev/null && break
			p=
		done
		[[ -z $p ]] && break
		sleep 0.1
	done
	for p in $pids $(_slurm_stepds); do
		kill -KILL "$p" 2>/dev/null || :
	done
	rm -rf "$d"
	unset FP_SLURM_DIR SLURM_CONF
	return 0
}
