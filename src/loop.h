/*
 * What the two engines (the runner, one process per job, and the
 * workers, long-lived processes fed one record at a time) share: the
 * clocks, the signals forkpool takes through a signalfd, and the steps
 * of the termination sequence.
 */
#ifndef FORKPOOL_LOOP_H
#define FORKPOOL_LOOP_H

/*
 * While forkpool's output is stalled, how often the engines look for jobs
 * held up by it, whose time does not count against --timeout.
 */
#define HELD_TICK_MS	50

#include <sys/types.h>

#include <signal.h>
#include <stddef.h>

struct term_step;

/* Monotonic milliseconds. */
long long	 loop_now_ms(void);

/* Wall-clock seconds since the epoch, for the joblog. */
double		 loop_now_epoch(void);

/* The earlier of two wake times (0: none). */
long long	 loop_earlier(long long, long long);

/*
 * Whether the pipe whose read end is fd is full, so that a writer would
 * wait: it is asked through a write end of forkpool's own, opened by
 * /proc and closed at once.
 */
int		 loop_pipe_full(int);

/*
 * Block SIGCHLD and the signals forkpool handles (SIGINT, SIGTERM,
 * SIGHUP, SIGUSR1, SIGTSTP, SIGCONT; those ignored when forkpool started
 * stay ignored) and return a non-blocking signalfd for them; the mask
 * before goes in *old.  Exits on failure.
 */
int		 loop_catch_signals(sigset_t *);

/* What the signals taken from the signalfd ask an engine to do. */
struct loop_signals {
	void	(*list)(void *);	/* SIGUSR1: list what runs */
	void	(*suspend)(void *);	/* SIGTSTP: stop it all, and forkpool */
	void	(*resume)(void *);	/* SIGCONT: continue what runs */
	void	(*drain)(void *);	/* a first SIGHUP: start nothing more */
	void	(*stop)(void *);	/* SIGINT, SIGTERM, a second SIGHUP:
					   and end what runs */
};

/*
 * Drain the signalfd fd and call what each signal asks of ctx.  *signal
 * is the signal that ends the run (0: none yet); SIGCHLD is left to the
 * caller, who reaps after.
 */
void		 loop_read_signals(int, int *, const struct loop_signals *,
		    void *);

/* The state of a process group's termination sequence. */
struct loop_term {
	int		 step;		/* next step, -1: not being ended */
	long long	 at;		/* when that step is due */
};

/*
 * Take the due steps of the sequence seq (n steps) for process group
 * pgid: each sends a signal to the whole group through send(ctx, sig),
 * then waits; the sequence stops early once the group is gone.  A
 * stopped process acts on no signal but KILL until it is continued, so
 * each signal is followed by SIGCONT.
 */
void		 loop_term_step(struct loop_term *, const struct term_step *,
		    size_t, pid_t, long long, void (*)(void *, int), void *);

/* Whether process group pgid has no process left (pgid <= 0: none). */
int		 loop_group_gone(pid_t);

#endif
