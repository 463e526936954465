/*
 * Semaphore mode (--semaphore, or the name forkpool-sem): run one command
 * while holding one of -j slots of a counting semaphore that separate
 * forkpool processes share, as GNU parallel's sem does.
 *
 * A semaphore is a file, named by --id, in a directory private to the
 * user ($XDG_RUNTIME_DIR/forkpool/sem, else ~/.cache/forkpool/sem).  Its
 * bytes 1..N are the slots, each held by a POSIX record lock (fcntl(2)
 * F_SETLK) of the process that runs the command, so that the kernel frees
 * a slot whenever that process ends, killed or not.  Every process that
 * waits for a slot or holds one read-locks byte 0; the last to leave
 * write-locks it and removes the file.
 */
#ifndef FORKPOOL_SEM_H
#define FORKPOOL_SEM_H

#include "opts.h"

/*
 * Whether name is a usable semaphore name (not empty, no '/', not . or
 * ..); 0, or -1 after a message naming --id and the name.
 */
int	sem_check_name(const char *);

/* Whether forkpool was called by a name that means --semaphore. */
int	sem_called_as(const char *);

/*
 * Do what the options say: run the command under the semaphore, or with
 * --wait wait for its commands.  Returns the exit status.  Without --fg
 * the process forks: both return, the caller (the parent) once the
 * command started, the child, which holds the slot, once it ended.
 */
int	sem_run(const struct opts *);

#endif
