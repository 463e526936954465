/*
 * Captured output: what each job writes to stdout and stderr, kept as it
 * comes for those who need it after the job ended: --files and --results
 * (the output goes to files instead of being printed) and the reports
 * that carry a job's output (a results table, a JUnit file).
 *
 * A stream is captured in a file of its own, opened by the opener the
 * capture is given (named: the --results layout, a kept temporary file
 * for --files), or, when there is no opener or it declines, in the
 * capture's store: one unlinked file in the temporary directory shared
 * by all jobs (spill.h), so that nothing is left behind.  Either way
 * what is captured is on disk, never all in memory, and a job's named
 * files are open only while it runs.
 *
 * A job's capture lives from output_start() to the job's release, after
 * every sink heard of it: sinks read it with capture_each().
 */
#ifndef FORKPOOL_CAPTURE_H
#define FORKPOOL_CAPTURE_H

#include <sys/types.h>

struct capture;
struct job;

/* The streams, as bits for capture_new()'s masks. */
#define CAPTURE_STDOUT	0x1
#define CAPTURE_STDERR	0x2

/*
 * Opens the file for a job's stream (0 stdout, 1 stderr) for writing and
 * returns its descriptor, with its name (allocated) in *path; or returns
 * CAPTURE_STORE: keep it in the store; or -1 after a message.
 */
typedef int	capture_opener(void *, const struct job *, int, char **);
#define CAPTURE_STORE	(-2)

/*
 * An opener for --files: a new file in the temporary directory ctx (a
 * string) for stdout, kept after forkpool exits; stderr, when it is
 * captured too (for a report), stays in the store.
 */
int		 capture_open_temp(void *, const struct job *, int, char **);

/*
 * A capture of the streams in captured; of those, the ones in printed
 * are printed as well.  tmpdir (borrowed) holds the store.
 */
struct capture	*capture_new(const char *, int, int);
void		 capture_free(struct capture *);
void		 capture_set_opener(struct capture *, capture_opener *,
		    void *);

/* Whether stream s is captured; whether it is printed. */
int		 capture_keeps(const struct capture *, int);
int		 capture_prints(const struct capture *, int);

/* The job starts: open its files.  -1 after a message. */
int		 capture_start(struct capture *, struct job *);

/* Bytes of the job's stream s.  -1 after a message. */
int		 capture_write(struct capture *, struct job *, int,
		    const char *, size_t);

/*
 * Move the job's stream s from the pipe fd to its capture with splice(2).
 * Returns bytes moved, 0 at EOF, -1 with errno (EAGAIN: nothing yet;
 * another: a message was printed), or TAKE_READ (util.h): read them and
 * call capture_write().
 */
ssize_t		 capture_take(struct capture *, struct job *, int, int);

/* Forget what the job wrote: it runs again.  -1 after a message. */
int		 capture_reset(struct capture *, struct job *);

/* The job ended: close its files.  -1 after a message (a write failed). */
int		 capture_finish(struct capture *, struct job *);

/* The job ended early: its files are removed (what it wrote is partial). */
void		 capture_drop(struct capture *, struct job *);

/* The job is released: give back its part of the store. */
void		 capture_release(struct capture *, struct job *);

/*
 * Whether the name of the job's file for stream s still gives that file
 * (another job may have taken the name over since).
 */
int		 capture_owns(const struct job *, int);

/* How many bytes the job wrote to stream s; its file's name, or NULL. */
unsigned long long capture_size(const struct job *, int);
const char	*capture_path(const struct job *, int);

/*
 * Hand what the job wrote to stream s to fn, in chunks, in order; stops
 * at the first fn that returns -1.  Returns 0, or -1 (fn's, or after a
 * message).
 */
int		 capture_each(struct capture *, const struct job *, int,
		    int (*)(void *, const char *, size_t), void *);

#endif
