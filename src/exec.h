/*
 * The executor: how a job becomes a process, between the runner and the
 * machine it runs on.  The runner owns the event loop, the slots in use,
 * timers and reaping; the executor owns the slot table (how many slots,
 * on which host), starting a job's step in a slot, telling an ending the
 * job caused from one its host or transport caused, and signalling.
 * Running locally (exec_local.c) is the first executor; a remote host or
 * a batch system are others.
 *
 * Every process the executor starts is a child of forkpool, the leader
 * of a process group of its own, so that the runner reaps it and a signal
 * to the group reaches the whole tree the job started.
 */
#ifndef FORKPOOL_EXEC_H
#define FORKPOOL_EXEC_H

#include <sys/types.h>

#include <stddef.h>

struct job;

enum exec_result {
	EXEC_OK,		/* started */
	EXEC_FAILED,		/* will never start; the job is marked
				   failed and a message was printed */
	EXEC_AGAIN,		/* out of processes or memory: try later */
	EXEC_NOFDS		/* out of file descriptors: try with fewer */
};

enum exec_ending {
	EXEC_DONE,		/* the job's own ending: its result stands */
	EXEC_REQUEUE		/* the host or transport failed: run the job
				   again elsewhere, not as a new attempt */
};

/* What a launch gives the runner; the runner owns the fds after. */
struct exec_proc {
	pid_t	 pid;		/* the process group leader */
	int	 fd[2];		/* read ends of stdout and stderr (non-
				   blocking, close-on-exec), or -1 */
};

struct executor_ops {
	/* Slots in the table, numbered 1..n ({%}). */
	unsigned int	(*slots)(void *);
	/* The host of a slot, NULL for this machine. */
	const char	*(*host)(void *, unsigned int);
	/* Whether a job may start in the slot now. */
	int		(*usable)(void *, unsigned int);
	/* The most bytes a job's command line may take (the default -s). */
	size_t		(*line_max)(void *);
	/*
	 * The most bytes a job's argv may take with its pointers (one for
	 * each element and the NULL): what the environment leaves of the
	 * system's limit.
	 */
	size_t		(*arg_room)(void *);
	/*
	 * Start the job (rendered, its slot set) with stdin on in (-1:
	 * /dev/null, or the terminal with --tty); fills p on EXEC_OK.
	 */
	enum exec_result (*launch)(void *, struct job *, int, struct exec_proc *);
	/*
	 * What ended the job whose process left this wait(2) status.  It
	 * may mark the job failed and set its sent and received bytes
	 * (files moved to and from a host).
	 */
	enum exec_ending (*ending)(void *, struct job *, int);
	/* Send sig to all the job's processes (group pgid here). */
	void		(*signal)(void *, const struct job *, pid_t, int);
	/*
	 * A child that is no job's was reaped (a connection, a transfer):
	 * 1 if it was the executor's.
	 */
	int		(*orphan)(void *, pid_t, int);
	/* The terminal's descriptor with --tty, else -1. */
	int		(*tty)(void *);
	void		(*free)(void *);
};

struct executor {
	const struct executor_ops	*ops;
	void				*ctx;
};

struct opts;

/*
 * The local executor: jobs slots on this machine.  capture: stdout and
 * stderr into pipes (else forkpool's own, -u).  tty, the option that
 * asks for it (--tty, -o), or NULL: stdin from the controlling terminal,
 * whose foreground the job then gets.  From the options: --workdir
 * (checked, or the private directory of ..., made now and removed with
 * the executor or at exit) and --nice.  NULL after a message naming the
 * option: no terminal, no such directory.
 */
struct executor	*exec_local_new(unsigned int, int, const char *,
		    const struct opts *);

/*
 * --process-slot-var: every job of the local executor gets the variable
 * name (borrowed), set to its slot counted from 0, as xargs counts.
 */
void		 exec_local_slot_var(struct executor *, const char *);

/*
 * The OpenSSH executor (exec_ssh.c): the slots of the logins of -S and
 * --sshloginfile, ":" among them this machine's.  capture as for
 * exec_local_new().  It connects to the hosts and asks them for their
 * CPUs before it returns; a host that cannot be reached is dropped with
 * a warning.  NULL after a message: a bad login, a login file that
 * cannot be read, an option remote jobs cannot have, no host left.
 */
struct executor	*exec_ssh_new(int, const struct opts *);

/*
 * For --onall: the logins of -S and --sshloginfile one by one, as
 * exec_ssh_new() reads them, each once.  *values gets each as a -S value
 * of its own (its commas doubled, without N/), *names its host (":" for
 * this machine); both arrays and their strings are owned by the caller.
 * Returns how many, or -1 after a message as exec_ssh_new() gives.
 */
int		 exec_ssh_logins(const struct opts *, char ***, char ***);

/*
 * The Slurm executor (exec_slurm.c, --slurm): inside an allocation
 * (SLURM_JOB_ID), each job is a job step started by srun; -j slots, else
 * the allocation's task count.  capture as for exec_local_new().  NULL
 * after a message: no allocation, no srun, --tty.
 */
struct executor	*exec_slurm_new(int, const struct opts *);

/*
 * --slurm-alloc ARGS outside the allocation it asks for: run salloc ARGS
 * -- forkpool ARGV..., so that this same command runs in the allocation
 * (argc and argv are forkpool's).  Until it is granted, with --bar,
 * --progress or --eta on a terminal, stderr shows for how long it
 * pends.  Returns forkpool's exit status: the inner forkpool's, or 255
 * after a message when salloc got no allocation.
 */
int		 slurm_alloc_run(const struct opts *, int, char **);

/*
 * Whether this forkpool is the one slurm_alloc_run() had salloc start;
 * then it tells the outer one that the allocation was granted.
 */
int		 slurm_alloc_granted(void);

/* Release any executor. */
void		 executor_free(struct executor *);

#endif
