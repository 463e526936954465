/*
 * The output collector: what each job wrote, printed by the rules of the
 * output mode (--group, --line-buffer, -u), in input order with -k, with
 * --tag/--tagstring prefixes.  Output it must hold is kept in memory up
 * to a bound shared by all jobs, and beyond it in one unlinked spill file
 * in the temporary directory, so memory stays flat however much jobs
 * write.
 */
#ifndef FORKPOOL_OUTPUT_H
#define FORKPOOL_OUTPUT_H

#include <sys/types.h>

struct capture;
struct job;
struct opts;
struct output;

enum output_status {
	OUTPUT_OK,
	OUTPUT_CLOSED,		/* stdout or stderr was closed by its reader */
	OUTPUT_FAILED		/* a write failed; a message was printed */
};

struct output		*output_new(const struct opts *);

/*
 * Capture the jobs' output with the capture (borrowed; see capture.h).
 * files, for --files: OUTPUT_NAMES prints the name of the file that
 * holds each job's stdout instead of its stdout; with OUTPUT_NAMES_TEMP
 * as well, the files are forkpool's own, and one whose name could not
 * be printed (stdout failed or was closed) is removed.
 */
#define OUTPUT_NAMES		0x1
#define OUTPUT_NAMES_TEMP	0x2
void			 output_set_capture(struct output *, struct capture *,
			    int);

/*
 * Call fn(ctx, job) once a finished job's output is all printed, just
 * before the job is freed (the joblog is written then, so that a crash
 * never logs a job whose output was lost).
 */
void			 output_on_printed(struct output *,
			    void (*)(void *, struct job *), void *);
void			 output_free(struct output *);

/* A job is about to start: from now on, it is in output order. */
void			 output_start(struct output *, struct job *);

/* A chunk of the job's stdout (stream 0) or stderr (stream 1). */
void			 output_data(struct output *, struct job *, int,
			    const char *, size_t);

/*
 * The job's stream is readable on fd.  When its bytes are to be held in
 * the spill file, move them there with splice(2), never copying them
 * through forkpool.  Returns the bytes moved, 0 at EOF, -1 with errno set
 * (EAGAIN: nothing to read yet), or TAKE_READ (util.h): read them
 * and call output_data().
 */
ssize_t			 output_take(struct output *, struct job *, int, int);

/* Forget what the job wrote so far: it is about to run again. */
void			 output_discard(struct output *, struct job *);

/* The job is finished; the collector owns it and frees it once printed. */
void			 output_finish(struct output *, struct job *);

/*
 * Bytes of forkpool's own for stream s (0 stdout, 1 stderr), after what
 * was printed so far, written as the stream takes them (a table of
 * results on stdout).
 */
void			 output_write(struct output *, int, const char *,
			    size_t);

/* With -k, whether a new job must wait for earlier ones to be printed. */
int			 output_window_full(const struct output *);

enum output_status	 output_status(const struct output *);

/*
 * Output is never written with a blocking call: what stdout or stderr
 * does not take at once waits, in memory then in the spill file.
 * output_pending() tells whether some waits, and puts the descriptors to
 * poll for POLLOUT in fds (room for 2); it returns how many.  While some
 * waits, the caller should read no more from the jobs, so that what is
 * held stays bounded.  output_flush() writes what the streams take now.
 * A job's printed callback comes once all of its output was written.
 */
int			 output_pending(const struct output *, int *);
void			 output_flush(struct output *);

/*
 * The terminal on fd shows a display that output must not be written
 * over: before(ctx) is called just before bytes go to that terminal,
 * through stdout or stderr, and after(ctx, c) once some were written, c
 * the last of them.  The callbacks are borrowed until output_free().
 */
void			 output_guard_terminal(struct output *, int,
			    void (*)(void *), void (*)(void *, char), void *);

#endif
