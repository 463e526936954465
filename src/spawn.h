/*
 * Starting one job: its own process group, stdin from /dev/null (or, with
 * --tty, the terminal, whose foreground the group then gets), stdout and
 * stderr into pipes (or forkpool's own with -u), no other descriptor,
 * the environment plus FORKPOOL_SEQ, FORKPOOL_SLOT, PARALLEL_SEQ and
 * PARALLEL_JOBSLOT.  posix_spawn() (a vfork-style clone in glibc) keeps
 * the cost per job at the floor and reports exec failures directly.
 */
#ifndef FORKPOOL_SPAWN_H
#define FORKPOOL_SPAWN_H

struct job;
struct spawner;

/*
 * capture: give each job pipes for stdout and stderr.  tty: give each job
 * the controlling terminal, /dev/tty, as stdin, and make its process
 * group the terminal's foreground group when forkpool's group is.
 * Returns NULL after a message naming --tty when there is no terminal.
 */
struct spawner	*spawner_new(int, int);
void		 spawner_free(struct spawner *);

/*
 * The spawner's descriptor of the controlling terminal (close-on-exec,
 * owned by the spawner), or -1 without --tty.
 */
int		 spawner_tty(const struct spawner *);

/*
 * Start j.  On success j->pid is set and, when capturing, j->fd[] hold
 * the read ends (non-blocking, close-on-exec), owned by j.  On failure
 * a message naming the program is printed and j is marked failed: 127
 * when the program is not found, 126 when it cannot be run.
 */
enum spawn_result {
	SPAWN_OK,		/* started */
	SPAWN_FAILED,		/* will never start; j is marked failed */
	SPAWN_AGAIN,		/* out of processes or memory: try later */
	SPAWN_NOFDS		/* out of file descriptors: try with fewer */
};

enum spawn_result	 spawn_job(struct spawner *, struct job *);

#endif
