/*
 * --onall and --nonall: every job, or the command once, on every host of
 * -S and --sshloginfile, each host in a run of forkpool of its own.
 */
#ifndef FORKPOOL_ONALL_H
#define FORKPOOL_ONALL_H

struct opts;

/*
 * Run the jobs of the options on every host.  run builds and runs
 * forkpool for the options it is given and returns its exit status, as
 * main() does without --onall; it runs in a child process for each
 * host.  Returns the exit status of the whole (see onall.c).
 */
int	onall_run(const struct opts *, int (*)(const struct opts *));

#endif
