/*
 * forkpool: run a command for every input record, several at a time.
 * main() only wires the pieces together and decides the exit status.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder.h"
#include "input.h"
#include "job.h"
#include "joblog.h"
#include "opts.h"
#include "output.h"
#include "runner.h"
#include "spawn.h"
#include "template.h"
#include "util.h"

/* Exit status when stdout was closed by its reader, as if by SIGPIPE. */
#define EXIT_STDOUT_CLOSED	141

/* GNU parallel's cap: more than 100 failed jobs all exit 101. */
#define EXIT_MAX_FAILED		101

struct app {
	const struct opts	*opts;
	struct builder		*builder;
	struct template		*cmd;
	struct joblog		*joblog;
	struct resume		*resume;	/* --resume* state, or NULL */
	struct output		*output;
	struct runner		*runner;
	unsigned long long	 started;
	unsigned long long	 failed;	/* jobs and rejected records */
	unsigned long long	 rejected;	/* records counted in failed */
	unsigned long long	 succeeded;
	int			 input_error;
	int			 joblog_error;
	int			 halted;	/* --halt fired */
	int			 halt_status;	/* the exit status it set */
	int			 cannot_run;	/* 126, 127: the template's
						   program cannot run */
	struct buf		 line;
};

static void	count_rejected(struct app *, int);

/* Stop the run when output can no longer be written. */
static void
check_output(struct app *app)
{
	if (output_status(app->output) != OUTPUT_OK)
		runner_stop(app->runner);
}

/* --retry-failed: the next command the joblog says failed. */
static enum runner_next
next_failed(struct app *app, unsigned int slot, struct job **jobp)
{
	unsigned long long	 seq;
	const char		*cmd;
	struct job		*j;

	if (!resume_next_failed(app->resume, &seq, &cmd))
		return RUNNER_DONE;
	j = job_new(seq, slot);
	buf_adds(&j->cmd, cmd);
	job_set_argv(j, 1, template_shell(app->cmd));
	app->started++;
	*jobp = j;
	return RUNNER_JOB;
}

/* Runner callback: the next job. */
static enum runner_next
next_job(void *ctx, unsigned int slot, struct job **jobp, int *fdp)
{
	struct app	*app = ctx;

	if (output_window_full(app->output, app->started + 1))
		return RUNNER_WAIT;
	if (app->opts->resume == RETRY_FAILED)
		return next_failed(app, slot, jobp);
	for (;;) {
		switch (builder_next(app->builder, slot, jobp)) {
		case BUILD_JOB:
			app->started++;
			return RUNNER_JOB;
		case BUILD_WAIT:
			*fdp = builder_fd(app->builder);
			return RUNNER_WAIT_FD;
		case BUILD_ERROR:
			app->input_error = 1;
			return RUNNER_DONE;
		case BUILD_REJECTED:
			count_rejected(app, 1);
			if (app->halted)
				return RUNNER_DONE;
			continue;
		case BUILD_DONE:
			break;
		}
		return RUNNER_DONE;
	}
}

/* Runner callback: a job is about to start. */
static void
job_started(void *ctx, struct job *j)
{
	struct app	*app = ctx;

	if (app->opts->print_stderr) {
		buf_reset(&app->line);
		job_display(j, &app->line);
		buf_addc(&app->line, '\n');
		(void)write_all(STDERR_FILENO, app->line.data, app->line.len);
	}
	output_start(app->output, j);
	check_output(app);
}

/* Runner callback: output from a job. */
static void
job_output(void *ctx, struct job *j, int stream, const char *p, size_t len)
{
	struct app	*app = ctx;

	output_data(app->output, j, stream, p, len);
	check_output(app);
}

/* Runner callback: move output from a job without reading it. */
static ssize_t
job_take(void *ctx, struct job *j, int stream, int fd)
{
	struct app	*app = ctx;
	ssize_t		 n;

	n = output_take(app->output, j, stream, fd);
	check_output(app);
	return n == OUTPUT_READ ? RUNNER_READ : n;
}

/* Runner callback: whether output waits for stdout or stderr. */
static int
output_waits(void *ctx, int *fds)
{
	struct app	*app = ctx;

	return output_pending(app->output, fds);
}

/* Runner callback: stdout or stderr can take more. */
static void
output_writable(void *ctx)
{
	struct app	*app = ctx;

	output_flush(app->output);
	check_output(app);
}

/* Whether --halt fires now that a job (or a record) failed or succeeded. */
static int
halt_due(const struct app *app, int failed)
{
	const struct halt	*h = &app->opts->halt;
	unsigned long long	 count, done = app->failed + app->succeeded;

	if (h->when == HALT_NEVER)
		return 0;
	switch (h->what) {
	case HALT_FAIL:
		if (!failed)
			return 0;
		count = app->failed;
		break;
	case HALT_SUCCESS:
		if (failed)
			return 0;
		count = app->succeeded;
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
halt(struct app *app, int status, const char *what, const struct job *j)
{
	struct buf	 msg = { 0 };

	app->halted = 1;
	app->halt_status = status;
	buf_adds(&msg, "--halt: ");
	buf_adds(&msg, what);
	buf_adds(&msg, app->opts->halt.when == HALT_NOW ?
	    "; ending the running jobs" : "; waiting for the running jobs");
	if (j != NULL) {
		buf_adds(&msg, ": ");
		job_display(j, &msg);
	}
	warnx("%s", msg.data);
	buf_free(&msg);
	if (app->opts->halt.when == HALT_NOW)
		runner_stop(app->runner);
	else
		runner_drain(app->runner);
}

/* Act on --halt after job j finished. */
static void
halt_check(struct app *app, struct job *j)
{
	char	 what[96];

	if (app->halted || !halt_due(app, j->failed))
		return;
	(void)snprintf(what, sizeof(what), "job %llu %s (exit %d)", j->seq,
	    j->timed_out ? "timed out" : j->failed ? "failed" : "succeeded",
	    j->exit_code);
	/* A job that timed out and then exited 0 still failed: 124, as timeout(1). */
	halt(app, app->opts->halt.what == HALT_SUCCESS ? 0 :
	    j->timed_out && j->exit_code == 0 ? 124 : j->exit_code, what, j);
}

/*
 * Count the records the builder rejected since the last call as failed
 * jobs, and act on --halt for each when running.  A rejected record sets
 * 126, as a job that cannot be started does.
 */
static void
count_rejected(struct app *app, int running)
{
	unsigned long long	 n = builder_rejected(app->builder);
	char			 what[64];

	for (; app->rejected < n; app->rejected++) {
		app->failed++;
		if (!running || app->halted || !halt_due(app, 1))
			continue;
		(void)snprintf(what, sizeof(what), "input record %llu rejected",
		    builder_last_rejected(app->builder));
		halt(app, 126, what, NULL);
	}
}

/* Output callback: a job's output is printed; log it. */
static void
job_printed(void *ctx, struct job *j)
{
	struct app	*app = ctx;

	/* An interrupted job did not finish: a --resume runs it again. */
	if (app->joblog != NULL && !j->interrupted &&
	    joblog_write(app->joblog, j) == -1) {
		app->joblog_error = 1;
		runner_stop(app->runner);
	}
}

/*
 * Whether every job runs the same program, named in the template rather
 * than taken from a value: the shell, or a first word with no
 * replacement string in it.
 */
static int
program_is_fixed(const struct app *app)
{
	const struct opts	*o = app->opts;

	if (template_uses_shell(app->cmd) || o->ncmd == 0)
		return 1;
	return strchr(o->cmd[0], '{') == NULL &&
	    strstr(o->cmd[0], o->replstr) == NULL;
}

/*
 * A job could not be executed: when its program is the template's, no
 * job ever can, so one message is enough and no more jobs start; the
 * status is 127 or 126, as xargs(1) gives.
 */
static int
cannot_run(struct app *app, const struct job *j)
{
	if (j->pid > 0 || j->start_error == 0 || (j->exit_code != 126 &&
	    j->exit_code != 127) || !program_is_fixed(app))
		return 0;
	if (!app->cannot_run) {
		app->cannot_run = j->exit_code;
		warnx("starting no more jobs: the command cannot run");
		runner_drain(app->runner);
	}
	return 1;
}

/* Runner callback: a job is finished. */
static enum runner_verdict
job_finished(void *ctx, struct job *j)
{
	struct app	*app = ctx;

	(void)cannot_run(app, j);
	if (j->failed && j->attempt < app->opts->retries &&
	    !runner_draining(app->runner)) {
		output_discard(app->output, j);
		return RUNNER_RETRY;
	}
	if (j->failed)
		app->failed++;
	else
		app->succeeded++;
	/* What an interrupted job wrote is incomplete: it is not printed. */
	if (j->interrupted && j->out != NULL)
		output_discard(app->output, j);
	/* A job that never started is not in output order yet. */
	if (j->out == NULL)
		output_start(app->output, j);
	halt_check(app, j);
	output_finish(app->output, j);
	check_output(app);
	return RUNNER_RELEASE;
}

/* --dry-run: print every command instead of running it. */
static int
dry_run(struct app *app)
{
	struct pollfd	 pfd;
	struct job	*j;
	int		 done = 0;

	while (!done && app->builder == NULL) {
		/* --retry-failed: the joblog's failed commands. */
		if (next_failed(app, 1, &j) != RUNNER_JOB)
			break;
		(void)fprintf(stdout, "%s\n", j->cmd.data);
		job_free(j);
		if (ferror(stdout))
			done = 1;
	}
	while (!done && app->builder != NULL) {
		switch (builder_next(app->builder, 1, &j)) {
		case BUILD_JOB:
			buf_reset(&app->line);
			job_display(j, &app->line);
			buf_addc(&app->line, '\n');
			(void)fwrite(app->line.data, 1, app->line.len, stdout);
			job_free(j);
			if (ferror(stdout))
				done = 1;
			break;
		case BUILD_WAIT:
			/* The reader sees each command before input stalls. */
			if (fflush(stdout) == EOF) {
				done = 1;
				break;
			}
			pfd.fd = builder_fd(app->builder);
			pfd.events = POLLIN;
			(void)poll(&pfd, 1, -1);
			break;
		case BUILD_ERROR:
			app->input_error = 1;
			done = 1;
			break;
		case BUILD_REJECTED:
			count_rejected(app, 0);
			break;
		case BUILD_DONE:
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
	return 0;
}

/* The exit status for what happened. */
static int
exit_status(struct app *app, int ran)
{
	unsigned long long	 failed;

	if (ran > 0)
		return 128 + ran;
	if (app->halted)
		return app->halt_status;
	switch (app->output != NULL ? output_status(app->output) : OUTPUT_OK) {
	case OUTPUT_CLOSED:
		return EXIT_STDOUT_CLOSED;
	case OUTPUT_FAILED:
		return EXIT_FORKPOOL_ERROR;
	case OUTPUT_OK:
		break;
	}
	if (ran < 0 || app->input_error || app->joblog_error)
		return EXIT_FORKPOOL_ERROR;
	if (app->cannot_run)
		return app->cannot_run;
	failed = app->failed;
	return failed > 100 ? EXIT_MAX_FAILED : (int)failed;
}

/*
 * Make sure descriptors 0, 1 and 2 are open, on /dev/null when they were
 * closed: otherwise the first file forkpool opens (a joblog, a spill
 * file) would take the free number and receive what is meant for stdout
 * or stderr.  Returns -1 when even /dev/null cannot be opened.
 */
static int
open_std_fds(void)
{
	int	 fd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		/* The lowest free number: fd itself, as the ones below are open. */
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct runner_callbacks	 cb_template = {
		.next = next_job,
		.started = job_started,
		.output = job_output,
		.take = job_take,
		.finished = job_finished,
		.pending = output_waits,
		.writable = output_writable,
	};
	struct runner_callbacks		 cb = cb_template;
	struct runner_opts		 ro = { 0 };
	struct opts			 opts;
	struct app			 app = { 0 };
	struct input			*in = NULL;
	struct template			*cmd = NULL, *tag = NULL;
	struct spawner			*sp = NULL;
	char				*tagwords[1];
	int				 status = EXIT_FORKPOOL_ERROR, ran;

	if (open_std_fds() == -1)
		return EXIT_FORKPOOL_ERROR;
	/* A closed stdout is noticed as EPIPE, where it can be handled. */
	(void)signal(SIGPIPE, SIG_IGN);

	switch (opts_parse(&opts, argc, argv)) {
	case OPTS_EXIT_OK:
		return fflush(stdout) == 0 ? 0 : EXIT_FORKPOOL_ERROR;
	case OPTS_ERROR:
		return EXIT_FORKPOOL_ERROR;
	case OPTS_RUN:
		break;
	}
	app.opts = &opts;
	if ((cmd = template_new(opts.cmd, opts.ncmd, TEMPLATE_COMMAND,
	    &opts)) == NULL)
		goto out;
	if (opts.tagstring != NULL) {
		tagwords[0] = (char *)opts.tagstring;
		if ((tag = template_new(tagwords, 1, TEMPLATE_TEXT,
		    &opts)) == NULL)
			goto out;
	}
	app.cmd = cmd;
	/* Read the joblog before it is opened for writing. */
	if (opts.resume != RESUME_NONE &&
	    (app.resume = resume_load(opts.joblog, opts.resume)) == NULL)
		goto out;
	if (opts.resume != RETRY_FAILED) {
		if ((in = input_new(&opts)) == NULL)
			goto out;
		app.builder = builder_new(&opts, in, cmd, tag);
		builder_set_resume(app.builder, app.resume);
	}
	if (opts.dry_run) {
		status = dry_run(&app);
		if (status == 0)
			status = app.input_error ? EXIT_FORKPOOL_ERROR :
			    exit_status(&app, 0);
		goto out;
	}
	/* Before the joblog is opened: a refused --tty leaves it alone. */
	if ((sp = spawner_new(opts.out_mode != OUT_UNGROUP, opts.tty)) == NULL)
		goto out;
	if (opts.joblog != NULL && !opts.dry_run &&
	    (app.joblog = joblog_open(opts.joblog, opts.joblog_append ||
	    opts.resume != RESUME_NONE)) == NULL)
		goto out;
	app.output = output_new(&opts);
	output_on_printed(app.output, job_printed, &app);
	cb.ctx = &app;
	ro.jobs = opts.jobs;
	ro.timeout_ms = opts.timeout_ms;
	ro.timeout_pct = opts.timeout_pct;
	ro.termseq = opts.termseq;
	ro.ntermseq = opts.ntermseq;
	ro.delay_ms = opts.delay_ms;
	ro.load = opts.load;
	ro.memfree = opts.memfree;
	app.runner = runner_new(&ro, &cb, sp);
	ran = runner_run(app.runner);
	status = exit_status(&app, ran);
out:
	runner_free(app.runner);
	spawner_free(sp);
	output_free(app.output);
	builder_free(app.builder);
	joblog_close(app.joblog);
	resume_free(app.resume);
	input_free(in);
	template_free(tag);
	template_free(cmd);
	buf_free(&app.line);
	opts_free(&opts);
	return status;
}
