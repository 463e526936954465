#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job.h"
#include "opts.h"
#include "output.h"
#include "prompt.h"
#include "run.h"
#include "runner.h"
#include "sink.h"
#include "source.h"
#include "template.h"
#include "util.h"

/* Exit status when stdout was closed by its reader, as if by SIGPIPE. */
#define EXIT_STDOUT_CLOSED	141

/* GNU parallel's cap: more than 100 failed jobs all exit 101. */
#define EXIT_MAX_FAILED		101

/* --xargs-status: xargs's statuses for commands that failed (1-125). */
#define EXIT_XARGS_FAILED	123
#define EXIT_XARGS_255		124
#define EXIT_XARGS_SIGNAL	125

/* The most sinks a run tells. */
#define MAX_SINKS		8

struct run {
	const struct opts	*opts;
	struct source		*src;
	const struct template	*cmd;
	struct output		*output;
	int			(*draining)(const void *);	/* the engine's */
	const void		*engine;
	struct runner_callbacks	 cb;
	struct sink		*sinks[MAX_SINKS];
	size_t			 nsinks;
	int			 deferred;	/* verdict for the next answer */
	unsigned long long	 failed;	/* jobs and rejected records */
	unsigned long long	 rejected;	/* records counted in failed */
	unsigned long long	 succeeded;
	int			 input_error;
	int			 sink_error;
	int			 halted;	/* --halt fired */
	int			 halt_status;	/* the exit status it set */
	int			 keep_values;	/* for the sinks, until release */
	int			 cannot_run;	/* 126, 127: the template's
						   program cannot run */
	int			 xargs_first;	/* --xargs-status: 123 to 125
						   for the first failed job */
	int			 xargs_stopped;	/* a 255 or a signal stopped it */
	struct prompt		*prompt;	/* -p, borrowed, or NULL */
	int			 prompt_stderr;	/* stderr is its terminal */
	struct job		*asked;		/* owned: the job -p asks
						   about, not answered yet */
};

/* A run of the jobs from src. */
struct run *
run_new(const struct opts *o, struct source *src, const struct template *cmd)
{
	struct run	*run;

	run = xcalloc(1, sizeof(*run));
	run->opts = o;
	run->src = src;
	run->cmd = cmd;
	return run;
}

/* Release the run. */
void
run_free(struct run *run)
{
	if (run != NULL && run->asked != NULL)
		job_free(run->asked);
	free(run);
}

/* Tell sink of the run's events. */
void
run_add_sink(struct run *run, struct sink *sink)
{
	if (run->nsinks == MAX_SINKS)
		errx(EXIT_FORKPOOL_ERROR, "too many sinks");
	run->sinks[run->nsinks++] = sink;
}

/* Jobs keep their values until released: sinks name them by them. */
void
run_keep_values(struct run *run)
{
	run->keep_values = 1;
}

/* -p: ask on the terminal before each job; see run.h. */
void
run_set_prompt(struct run *run, struct prompt *p)
{
	run->prompt = p;
	run->prompt_stderr = prompt_on_stderr(p);
}

/* runner_draining() for any engine. */
static int
runner_drains(const void *r)
{
	return runner_draining(r);
}

/* The runner, for whether it is draining. */
void
run_set_runner(struct run *run, struct runner *r)
{
	run_set_engine(run, runner_drains, r);
}

/* The engine that runs the jobs, for whether it is draining. */
void
run_set_engine(struct run *run, int (*draining)(const void *),
    const void *engine)
{
	run->draining = draining;
	run->engine = engine;
}

/*
 * The verdict to answer with: what was decided since the last answer,
 * and a stop when output can no longer be written.
 */
static int
verdict(struct run *run)
{
	int	 v = run->deferred;

	run->deferred = RUNNER_GO;
	if (run->output != NULL && output_status(run->output) != OUTPUT_OK)
		v |= RUNNER_STOP;
	return v;
}

/* Whether --halt fires now that a job (or a record) failed or succeeded. */
static int
halt_due(const struct run *run, int failed)
{
	const struct halt	*h = &run->opts->halt;
	unsigned long long	 count, done = run->failed + run->succeeded;

	if (h->when == HALT_NEVER)
		return 0;
	switch (h->what) {
	case HALT_FAIL:
		if (!failed)
			return 0;
		count = run->failed;
		break;
	case HALT_SUCCESS:
		if (failed)
			return 0;
		count = run->succeeded;
		break;
	default:
		count = done;
		break;
	}
	/* A share needs a few jobs before it means anything. */
	if (h->pct)
		return done >= 3 && count * 100 >= h->n * done;
	return count >= h->n;
}

/* --halt fired because of what (and job j, if one): say so and stop. */
static void
halt(struct run *run, int status, const char *what, const struct job *j)
{
	struct buf	 msg = { 0 };

	run->halted = 1;
	run->halt_status = status;
	buf_adds(&msg, "--halt: ");
	buf_adds(&msg, what);
	buf_adds(&msg, run->opts->halt.when == HALT_NOW ?
	    "; ending the running jobs" : "; waiting for the running jobs");
	if (j != NULL) {
		buf_adds(&msg, ": ");
		job_display(j, &msg);
	}
	warnx("%s", msg.data);
	buf_free(&msg);
	run->deferred |= run->opts->halt.when == HALT_NOW ? RUNNER_STOP :
	    RUNNER_DRAIN;
}

/* Act on --halt after job j finished. */
static void
halt_check(struct run *run, const struct job *j)
{
	char	 what[96];

	if (run->halted || !halt_due(run, j->failed))
		return;
	(void)snprintf(what, sizeof(what), "job %llu %s (exit %d)", j->seq,
	    j->timed_out ? "timed out" : j->failed ? "failed" : "succeeded",
	    j->exit_code);
	/* A job that timed out and then exited 0 still failed: 124, as timeout(1). */
	halt(run, run->opts->halt.what == HALT_SUCCESS ? 0 :
	    j->timed_out && j->exit_code == 0 ? 124 : j->exit_code, what, j);
}

/*
 * Count the records the source rejected since the last call as failed
 * jobs, tell the sinks, and act on --halt for each when running.  A
 * rejected record sets 126, as a job that cannot be started does.
 */
static void
count_rejected(struct run *run, int running)
{
	unsigned long long	 last, n;
	char			 what[64];
	size_t			 i;

	n = run->src->ops->rejected(run->src->ctx, &last);
	for (; run->rejected < n; run->rejected++) {
		run->failed++;
		for (i = 0; i < run->nsinks; i++)
			if (run->sinks[i]->ops->rejected != NULL)
				run->sinks[i]->ops->rejected(
				    run->sinks[i]->ctx, last);
		if (!running || run->halted || !halt_due(run, 1))
			continue;
		(void)snprintf(what, sizeof(what), "input record %llu rejected",
		    last);
		halt(run, 126, what, NULL);
	}
}

/* The next job from the source, as next_job() answers. */
static enum runner_next
next_built(struct run *run, struct job **jobp, int *fdp, int *v)
{
	for (;;) {
		switch (run->src->ops->next(run->src->ctx, jobp)) {
		case SOURCE_JOB:
			return RUNNER_JOB;
		case SOURCE_WAIT:
			*fdp = run->src->ops->fd(run->src->ctx);
			return RUNNER_WAIT_FD;
		case SOURCE_IDLE:
			return RUNNER_WAIT;
		case SOURCE_ERROR:
			run->input_error = 1;
			return RUNNER_DONE;
		case SOURCE_REJECTED:
			count_rejected(run, 1);
			*v = verdict(run);
			if (run->halted)
				return RUNNER_DONE;
			continue;
		case SOURCE_DONE:
			return RUNNER_DONE;
		}
	}
}

/*
 * -p: the next job the user says yes to.  The question shows the
 * command rendered for slot 1, the only slot there is with -p (opts.c);
 * the answer is polled for, as input is.  A job the user says no to is
 * dropped, as xargs drops it: it is no failure, and has no joblog row.
 */
static enum runner_next
next_asked(struct run *run, struct job **jobp, int *fdp, int *v)
{
	enum runner_next	 next;
	struct buf		 line = { 0 };

	for (;;) {
		if (run->asked == NULL) {
			if ((next = next_built(run, jobp, fdp, v)) != RUNNER_JOB)
				return next;
			run->asked = *jobp;
			run->asked->slot = 1;
			run->src->ops->render(run->src->ctx, run->asked);
			job_display(run->asked, &line);
			prompt_ask(run->prompt, line.data, line.len);
			buf_free(&line);
		}
		switch (prompt_answer(run->prompt)) {
		case PROMPT_WAIT:
			*fdp = prompt_fd(run->prompt);
			return RUNNER_WAIT_FD;
		case PROMPT_YES:
			*jobp = run->asked;
			run->asked = NULL;
			return RUNNER_JOB;
		case PROMPT_NO:
			job_free(run->asked);
			run->asked = NULL;
			break;
		case PROMPT_END:
			job_free(run->asked);
			run->asked = NULL;
			run->input_error = 1;
			return RUNNER_DONE;
		}
	}
}

/* Runner callback: the next job, unless the -k window is full. */
static enum runner_next
next_job(void *ctx, struct job **jobp, int *fdp, int *v)
{
	struct run	*run = ctx;

	if (output_window_full(run->output))
		return RUNNER_WAIT;
	if (run->prompt != NULL)
		return next_asked(run, jobp, fdp, v);
	return next_built(run, jobp, fdp, v);
}

/* Runner callback: fill in the job's command for its slot. */
static void
render_job(void *ctx, struct job *j)
{
	struct run	*run = ctx;

	run->src->ops->render(run->src->ctx, j);
}

/* The job enters output order; -t prints it; the sinks hear of it. */
static void
enter(struct run *run, struct job *j)
{
	struct buf	 line = { 0 };
	size_t		 i;

	/*
	 * Through stdio's stderr, which a progress display may watch.  -p
	 * implies -t, as xargs's, unless its question showed the command
	 * on stderr already.
	 */
	if (run->opts->print_stderr ||
	    (run->prompt != NULL && !run->prompt_stderr)) {
		job_display(j, &line);
		buf_addc(&line, '\n');
		(void)fwrite(line.data, 1, line.len, stderr);
		(void)fflush(stderr);
		buf_free(&line);
	}
	for (i = 0; i < run->nsinks; i++)
		if (run->sinks[i]->ops->started != NULL)
			run->sinks[i]->ops->started(run->sinks[i]->ctx, j);
	output_start(run->output, j);
}

/* Runner callback: a job was launched. */
static int
job_started(void *ctx, struct job *j)
{
	struct run	*run = ctx;

	enter(run, j);
	return verdict(run);
}

/* Runner callback: output from a job. */
static int
job_output(void *ctx, struct job *j, int stream, const char *p, size_t len)
{
	struct run	*run = ctx;

	output_data(run->output, j, stream, p, len);
	return verdict(run);
}

/* Runner callback: move output from a job without reading it. */
static ssize_t
job_take(void *ctx, struct job *j, int stream, int fd, int *v)
{
	struct run	*run = ctx;
	ssize_t		 n;

	n = output_take(run->output, j, stream, fd);
	*v = verdict(run);
	return n;
}

/* Runner callback: whether output waits for stdout or stderr. */
static int
output_waits(void *ctx, int *fds)
{
	struct run	*run = ctx;

	return output_pending(run->output, fds);
}

/* Runner callback: stdout or stderr can take more. */
static int
output_writable(void *ctx)
{
	struct run	*run = ctx;

	output_flush(run->output);
	return verdict(run);
}

/*
 * Whether every job runs the same program, named in the template rather
 * than taken from a value: the shell, or a first word with no
 * replacement string in it.
 */
static int
program_is_fixed(const struct run *run)
{
	const struct opts	*o = run->opts;

	if (template_uses_shell(run->cmd) || o->ncmd == 0)
		return 1;
	return strchr(o->cmd[0], '{') == NULL &&
	    strstr(o->cmd[0], o->replstr) == NULL;
}

/*
 * Whether a remote job's program could not be executed there: run by
 * the remote sh without a shell line of its own, it exited 127 (not
 * found) or 126 (not executable), as sh does when its exec fails.  A
 * program that exits so by itself looks the same from here.
 */
static int
remote_exec_failed(const struct job *j)
{
	return j->started && j->host != NULL && !j->use_shell && !j->lost &&
	    j->signal == 0 && !j->timed_out && !j->interrupted &&
	    (j->exit_code == 126 || j->exit_code == 127);
}

/*
 * A job could not be executed: when its program is the template's, no
 * job ever can, so one message is enough and no more jobs start; the
 * status is 127 or 126, as xargs(1) gives.
 */
static int
cannot_run(struct run *run, const struct job *j)
{
	int	 remote = remote_exec_failed(j);

	if ((!remote && (j->started || j->start_error == 0)) ||
	    (j->exit_code != 126 && j->exit_code != 127) ||
	    (!program_is_fixed(run) && !run->opts->xargs_status))
		return 0;
	if (!run->cannot_run) {
		run->cannot_run = j->exit_code;
		if (remote)
			warnx("starting no more jobs: the command cannot run "
			    "on %s", j->host);
		else
			warnx("starting no more jobs: the command cannot run");
		run->deferred |= RUNNER_DRAIN;
	}
	return 1;
}

/*
 * --xargs-status: the first failed job sets the status as GNU xargs
 * does, 123, or 124 for an exit with 255, 125 for a signal; a later
 * failure changes nothing.  A 255 or a signal also stops the run, as it
 * stops xargs.  xargs exits at once and leaves its other commands
 * running: here they are waited for, as with --halt soon.  A job
 * forkpool ended (--timeout, --halt now, a signal to forkpool) is only
 * a failed one; one that could not start is cannot_run()'s.
 */
static void
xargs_check(struct run *run, const struct job *j)
{
	struct buf	 msg = { 0 };
	char		 what[96];
	const char	*name;
	int		 code;

	if (!run->opts->xargs_status || !j->failed || !j->started)
		return;
	code = j->timed_out || j->interrupted || j->tty_stopped || j->lost ?
	    EXIT_XARGS_FAILED : j->signal != 0 ? EXIT_XARGS_SIGNAL :
	    j->exit_code == 255 ? EXIT_XARGS_255 : EXIT_XARGS_FAILED;
	if (run->xargs_first == 0)
		run->xargs_first = code;
	if (code == EXIT_XARGS_FAILED || run->xargs_stopped)
		return;
	run->xargs_stopped = 1;
	if (code == EXIT_XARGS_SIGNAL) {
		name = sigabbrev_np(j->signal);
		(void)snprintf(what, sizeof(what), "job %llu was killed by "
		    "signal %d%s%s%s", j->seq, j->signal, name != NULL ?
		    " (SIG" : "", name != NULL ? name : "", name != NULL ?
		    ")" : "");
	} else
		(void)snprintf(what, sizeof(what), "job %llu exited with "
		    "status 255", j->seq);
	buf_adds(&msg, "--xargs-status: ");
	buf_adds(&msg, what);
	buf_adds(&msg, "; waiting for the running jobs: ");
	job_display(j, &msg);
	warnx("%s", msg.data);
	buf_free(&msg);
	run->deferred |= RUNNER_DRAIN;
}

/* Runner callback: a job is finished. */
static int
job_finished(void *ctx, struct job *j)
{
	struct run	*run = ctx;
	size_t		 i;

	(void)cannot_run(run, j);
	/* Not the job's doing: it runs again elsewhere, what it wrote dropped. */
	if (j->lost && !j->interrupted && !run->draining(run->engine)) {
		output_discard(run->output, j);
		return verdict(run) | RUNNER_REQUEUE;
	}
	if (j->failed && j->attempt < run->opts->retries &&
	    !(run->deferred & (RUNNER_DRAIN | RUNNER_STOP)) &&
	    !run->draining(run->engine)) {
		output_discard(run->output, j);
		return verdict(run) | RUNNER_RETRY;
	}
	if (j->failed)
		run->failed++;
	else
		run->succeeded++;
	for (i = 0; i < run->nsinks; i++)
		if (run->sinks[i]->ops->finished != NULL)
			run->sinks[i]->ops->finished(run->sinks[i]->ctx, j);
	/*
	 * The values were kept for rendering; the job runs no more.  The
	 * results name the job's files or fill its row with them.
	 */
	if (!run->keep_values)
		buf_free(&j->vals);
	job_drop_input(j);
	/* What an interrupted job wrote is incomplete: it is not printed. */
	if (j->interrupted && j->out != NULL)
		output_discard(run->output, j);
	halt_check(run, j);
	xargs_check(run, j);
	output_finish(run->output, j);
	return verdict(run);
}

/* Runner callback: a job could not start; it ends at once. */
static int
job_not_started(void *ctx, struct job *j)
{
	struct run	*run = ctx;

	enter(run, j);
	return job_finished(ctx, j);
}

/* Runner callback: write a job's input to its stdin. */
static ssize_t
feed(void *ctx, struct job *j, int fd, int *v)
{
	struct run	*run = ctx;
	ssize_t		 n;

	n = run->src->ops->feed(run->src->ctx, j, fd);
	*v = verdict(run);
	return n;
}

/* Runner callback: read input ahead, if the source can. */
static int
prefetch(void *ctx, int *fdp)
{
	struct run	*run = ctx;

	return run->src->ops->prefetch(run->src->ctx, fdp);
}

/* Runner callback: tell the sinks the time; the earliest they want it again. */
static long long
tick(void *ctx, long long now)
{
	struct run	*run = ctx;
	long long	 at, wake = 0;
	size_t		 i;

	for (i = 0; i < run->nsinks; i++)
		if (run->sinks[i]->ops->tick != NULL &&
		    (at = run->sinks[i]->ops->tick(run->sinks[i]->ctx,
		    now)) != 0 && (wake == 0 || at < wake))
			wake = at;
	return wake;
}

/* Output callback: a job's output is all printed; tell the sinks. */
static void
job_printed(void *ctx, struct job *j)
{
	struct run	*run = ctx;
	size_t		 i;

	for (i = 0; i < run->nsinks; i++)
		if (run->sinks[i]->ops->printed != NULL &&
		    run->sinks[i]->ops->printed(run->sinks[i]->ctx, j) == -1) {
			run->sink_error = 1;
			run->deferred |= RUNNER_STOP;
		}
}

/* The runner's callbacks; see run.h. */
const struct runner_callbacks *
run_callbacks(struct run *run, struct output *out)
{
	run->output = out;
	output_on_printed(out, job_printed, run);
	run->cb.next = next_job;
	run->cb.render = render_job;
	run->cb.started = job_started;
	run->cb.not_started = job_not_started;
	run->cb.output = job_output;
	run->cb.take = job_take;
	run->cb.finished = job_finished;
	run->cb.pending = output_waits;
	run->cb.writable = output_writable;
	run->cb.prefetch = run->src->ops->prefetch != NULL ? prefetch : NULL;
	run->cb.feed = run->src->ops->feed != NULL ? feed : NULL;
	run->cb.tick = tick;
	run->cb.ctx = run;
	return &run->cb;
}

/* Print one job's command for --dry-run; -1 once stdout failed. */
static int
dry_print(struct run *run, struct job *j)
{
	struct buf	 line = { 0 };

	j->slot = 1;
	run->src->ops->render(run->src->ctx, j);
	/* The tag the job's output would have, as GNU parallel shows it. */
	if (j->tag != NULL)
		buf_adds(&line, j->tag);
	job_display(j, &line);
	buf_addc(&line, '\n');
	(void)fwrite(line.data, 1, line.len, stdout);
	buf_free(&line);
	job_free(j);
	return ferror(stdout) ? -1 : 0;
}

/* --dry-run: a loop over the source; see run.h. */
int
run_dry(struct run *run)
{
	struct pollfd	 pfd;
	struct job	*j;
	enum source_status st;
	int		 done = 0;

	while (!done) {
		switch ((st = run->src->ops->next(run->src->ctx, &j))) {
		case SOURCE_JOB:
			done = dry_print(run, j) == -1;
			break;
		case SOURCE_WAIT:
			/* The reader sees each command before input stalls. */
			if (fflush(stdout) == EOF) {
				done = 1;
				break;
			}
			pfd.fd = run->src->ops->fd(run->src->ctx);
			pfd.events = POLLIN;
			(void)poll(&pfd, 1, -1);
			break;
		case SOURCE_IDLE:
		case SOURCE_ERROR:
			run->input_error |= st == SOURCE_ERROR;
			done = 1;
			break;
		case SOURCE_REJECTED:
			count_rejected(run, 0);
			break;
		case SOURCE_DONE:
			done = 1;
			break;
		}
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (errno == EPIPE)
			return EXIT_STDOUT_CLOSED;
		warn("write error on stdout");
		return EXIT_FORKPOOL_ERROR;
	}
	return run_status(run, 0);
}

/* The run is over: tell the sinks. */
void
run_close(struct run *run)
{
	size_t	 i;

	for (i = 0; i < run->nsinks; i++)
		if (run->sinks[i]->ops->close != NULL)
			run->sinks[i]->ops->close(run->sinks[i]->ctx);
}

/* The exit status for what happened; see run.h. */
int
run_status(const struct run *run, int ran)
{
	if (ran > 0)
		return 128 + ran;
	/* xargs has no --halt: its statuses say what the commands did. */
	if (run->halted && !run->opts->xargs_status)
		return run->halt_status;
	switch (run->output != NULL ? output_status(run->output) : OUTPUT_OK) {
	case OUTPUT_CLOSED:
		return EXIT_STDOUT_CLOSED;
	case OUTPUT_FAILED:
		return EXIT_FORKPOOL_ERROR;
	case OUTPUT_OK:
		break;
	}
	if (ran < 0 || run->input_error || run->sink_error)
		return EXIT_FORKPOOL_ERROR;
	/* xargs exits at once with 126 or 127, whatever came before. */
	if (run->opts->xargs_status)
		return run->cannot_run != 0 ? run->cannot_run :
		    run->xargs_first != 0 ? run->xargs_first :
		    run->failed > 0 ? EXIT_XARGS_FAILED : 0;
	if (run->cannot_run)
		return run->cannot_run;
	return run->failed > 100 ? EXIT_MAX_FAILED : (int)run->failed;
}
