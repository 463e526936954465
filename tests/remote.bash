# What the remote-execution tests share (tests/remote.bats and
# tests/remote_files.bats): servers started once per file, servers of a
# test's own, and their end.

load helper
load sshd

# bash, as a login shell, reads ~/.bashrc for a command sshd runs unless
# SHLVL says it is not the first shell: what that file starts may take a
# lock that a host killed by a test leaves behind, for later sessions to
# wait on.  The servers' sessions skip it.
FP_SSHD_LINES=('SetEnv SHLVL=1')

# shared_servers N: start the N servers most tests of the file share, from
# setup_file; a test that kills one starts its own.
shared_servers() {
	sshd_start "$1" "${FP_SSHD_LINES[@]}"
	export FP_SHARED_SSH_DIR=$FP_SSH_DIR
}

teardown_file() {
	sshd_stop
}

# Stop the test's own servers, if it started any, and what it left running;
# continue a listener the test stopped (FP_STOPPED, its pid).
teardown() {
	if [[ -n ${FP_STOPPED:-} ]]; then
		kill -CONT "$FP_STOPPED" 2>/dev/null || true
	fi
	if [[ ${FP_SSH_DIR:-} != "${FP_SHARED_SSH_DIR:-}" ]]; then
		sshd_stop
	fi
	kill_leftovers
}

# own_servers N: start this test's own N servers, which teardown stops.
own_servers() {
	sshd_start "$1" "${FP_SSHD_LINES[@]}"
	[[ $FP_SSH_DIR != "$FP_SHARED_SSH_DIR" ]]
}
