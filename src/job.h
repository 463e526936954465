/*
 * The job object: one run of the command, from the moment the builder
 * makes it until the output collector has printed it.
 *
 * A job is finished only when both its output pipes reached EOF and its
 * process was reaped, in either order (tmux's job.c rule): only then is
 * its exit status final and its output complete.
 */
#ifndef FORKPOOL_JOB_H
#define FORKPOOL_JOB_H

#include <sys/queue.h>
#include <sys/types.h>

#include "util.h"

struct output_job;

enum job_state {
	JOB_READY,		/* built, not started */
	JOB_RUNNING,		/* spawned: pipes open or process not reaped */
	JOB_DONE		/* reaped and pipes at EOF, or never started */
};

struct job {
	unsigned long long	 seq;		/* {#}: 1, 2, ... in input order */
	unsigned int		 slot;		/* {%}: 1..jobs */
	enum job_state		 state;
	struct buf		 cmd;		/* owned: argv elements or line */
	char			**argv;		/* owned array; strings in cmd */
	int			 use_shell;	/* argv is SHELL -c LINE */
	char			*tag;		/* owned prefix with TAB, or NULL */
	pid_t			 pid;		/* -1 until spawned */
	int			 fd[2];		/* owned read ends of the job's
						   stdout and stderr, -1 closed */
	int			 reaped;
	int			 status;	/* wait(2) status once reaped */
	int			 exit_code;	/* 0..255, or 128+signal */
	int			 failed;	/* counts as a failed job */
	int			 timed_out;	/* ended by --timeout */
	int			 tty_stopped;	/* ended: stopped for the terminal */
	int			 interrupted;	/* ended because forkpool stops */
	int			 start_error;	/* errno of a failed exec, or 0 */
	unsigned int		 attempt;	/* 1 for the first run */
	double			 start_time;	/* epoch seconds, for the joblog */
	long long		 start_ms;	/* monotonic, set by the runner */
	long long		 end_ms;
	int			 term_step;	/* next --termseq step, -1: none */
	long long		 term_at;	/* when that step is due */
	struct output_job	*out;		/* owned by output.c */
	TAILQ_ENTRY(job)	 entry;		/* for whoever holds the job */
};

TAILQ_HEAD(job_list, job);

struct job	*job_new(unsigned long long, unsigned int);
void		 job_free(struct job *);

/*
 * Set argv from cmd: argc NUL-separated elements, or, with shell set,
 * SHELL -c with cmd as the command line.
 */
void		 job_set_argv(struct job *, size_t, const char *);

/* Append the command as a person would type it to a shell. */
void		 job_display(const struct job *, struct buf *);

/* Record a wait(2) status: exit code, failure. */
void		 job_set_status(struct job *, int);

/* Mark a job that could not start as failed with exit code code. */
void		 job_set_spawn_failure(struct job *, int);

/* Make a finished job ready to run again. */
void		 job_reset(struct job *);

#endif
