/*
 * The job: what to run and what came of it.  A source makes it, the
 * runner renders and launches it in a slot, the output collector prints
 * it and frees it.  How it runs (a process, its pipes, its ending) is the
 * runner's and the executor's alone: a job knows no pid.
 *
 * Who writes what:
 *   seq, cmd, argv, use_shell, tag, vals    the source (render included)
 *   slot, host, attempt, state              the runner
 *   the result fields                       the runner and the executor
 *   input                                   the source (opaque), until the
 *                                           job runs no more
 *   out                                     the output collector (opaque)
 *   cap                                     the capture (opaque)
 *   entry                                   whoever holds the job now
 *   requeue_entry                           the runner, while the job
 *                                           waits to run again (entry
 *                                           may keep it in -k order)
 */
#ifndef FORKPOOL_JOB_H
#define FORKPOOL_JOB_H

#include <sys/queue.h>
#include <sys/types.h>

#include "util.h"

struct capture_job;
struct job_input;
struct output_job;

enum job_state {
	JOB_READY,		/* built, not started */
	JOB_RUNNING,		/* launched and not finished */
	JOB_DONE		/* finished, or never started */
};

struct job {
	unsigned long long	 seq;		/* {#}: 1, 2, ... in input order */
	unsigned int		 attempt;	/* 1 for the first run */
	unsigned int		 slot;		/* {%}: 1..N, set at launch */
	const char		*host;		/* where it ran; NULL: here */
	enum job_state		 state;
	struct buf		 vals;		/* its values, NUL-terminated,
						   until rendered for good */
	size_t			 nvals;
	struct buf		 cmd;		/* owned: argv elements or line */
	char			**argv;		/* owned array; strings in cmd */
	int			 use_shell;	/* argv is SHELL -c LINE */
	char			*tag;		/* owned prefix with TAB, or NULL */

	/* The result. */
	int			 started;	/* a process ran */
	int			 exit_code;	/* 0..255, or 128+signal */
	int			 signal;	/* that killed it, or 0 */
	int			 failed;	/* counts as a failed job */
	int			 timed_out;	/* ended by --timeout */
	int			 tty_stopped;	/* ended: stopped for the terminal */
	int			 interrupted;	/* ended because forkpool stops */
	int			 lost;		/* its host or transport failed:
						   the result is not the job's */
	int			 start_error;	/* errno of a failed start, or 0 */
	double			 start_time;	/* epoch seconds, for the joblog */
	long long		 start_ms;	/* monotonic */
	long long		 end_ms;
	long long		 utime_us;	/* CPU time from wait4(2), -1: */
	long long		 stime_us;	/* unknown */
	long			 maxrss_kb;	/* peak RSS, -1: unknown */
	unsigned long long	 sent;		/* bytes written to its stdin */
	unsigned long long	 received;	/* bytes of its stdout, when
						   they are counted (workers) */
	long long		 earlier_cpu_us;	/* user + system time of
						   the runs before this one
						   (retries, requeues), as
						   far as known; job_reset()
						   adds to it */

	/*
	 * What the source feeds the job's stdin (pipe mode), or NULL; its
	 * input_free releases it (job_drop_input(), job_free()).
	 */
	struct job_input	*input;
	void			(*input_free)(struct job_input *);
	int			 input_fd;	/* the source's fd to feed
						   instead of a stdin pipe,
						   the runner's at launch;
						   or -1 */

	struct output_job	*out;		/* owned by output.c */
	struct capture_job	*cap;		/* owned by capture.c */
	TAILQ_ENTRY(job)	 entry;
	TAILQ_ENTRY(job)	 requeue_entry;
};

TAILQ_HEAD(job_list, job);

struct job	*job_new(unsigned long long);
void		 job_free(struct job *);

/* Release the job's input: it runs no more (retries included). */
void		 job_drop_input(struct job *);

/*
 * Set argv from cmd: argc NUL-separated elements, or, with shell set,
 * SHELL -c with cmd as the command line.
 */
void		 job_set_argv(struct job *, size_t, const char *);

/* Append the command as a person would type it to a shell. */
void		 job_display(const struct job *, struct buf *);

/* Record a wait(2) status: exit code, signal, failure. */
void		 job_set_status(struct job *, int);

/* Mark a job that could not start as failed with exit code code. */
void		 job_set_spawn_failure(struct job *, int);

/*
 * Mark a job that forkpool does not start (again, if the second argument
 * says so), as it is stopping: a message, failed and interrupted, ended
 * at the monotonic time given.
 */
void		 job_set_stopped(struct job *, int, long long);

/*
 * Ready to run again: a new attempt (1), or the same one elsewhere (0).
 * The CPU time the run used is kept in earlier_cpu_us.
 */
void		 job_reset(struct job *, int);

#endif
