/*
 * forkpool: run a command for every input record, several at a time.
 * main() only wires the pieces together and decides the exit status.
 */
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder.h"
#include "input.h"
#include "job.h"
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
	struct output		*output;
	struct runner		*runner;
	unsigned long long	 started;
	unsigned long long	 failed;
	int			 input_error;
	struct buf		 line;
};

/* Stop the run when output can no longer be written. */
static void
check_output(struct app *app)
{
	if (output_status(app->output) != OUTPUT_OK)
		runner_stop(app->runner);
}

/* Runner callback: the next job. */
static enum runner_next
next_job(void *ctx, unsigned int slot, struct job **jobp, int *fdp)
{
	struct app	*app = ctx;

	if (output_window_full(app->output, app->started + 1))
		return RUNNER_WAIT;
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
	case BUILD_DONE:
		break;
	}
	return RUNNER_DONE;
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

/* Runner callback: a job is finished. */
static void
job_finished(void *ctx, struct job *j)
{
	struct app	*app = ctx;

	if (j->failed)
		app->failed++;
	output_finish(app->output, j);
	check_output(app);
}

/* --dry-run: print every command instead of running it. */
static int
dry_run(struct app *app)
{
	struct pollfd	 pfd;
	struct job	*j;
	int		 done = 0;

	while (!done) {
		switch (builder_next(app->builder, 1, &j)) {
		case BUILD_JOB:
			buf_reset(&app->line);
			job_display(j, &app->line);
			buf_addc(&app->line, '\n');
			fwrite(app->line.data, 1, app->line.len, stdout);
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
	switch (app->output != NULL ? output_status(app->output) : OUTPUT_OK) {
	case OUTPUT_CLOSED:
		return EXIT_STDOUT_CLOSED;
	case OUTPUT_FAILED:
		return EXIT_FORKPOOL_ERROR;
	case OUTPUT_OK:
		break;
	}
	if (ran < 0 || app->input_error)
		return EXIT_FORKPOOL_ERROR;
	failed = app->failed + builder_rejected(app->builder);
	return failed > 100 ? EXIT_MAX_FAILED : (int)failed;
}

int
main(int argc, char **argv)
{
	static const struct runner_callbacks	 cb_template = {
		.next = next_job,
		.started = job_started,
		.output = job_output,
		.finished = job_finished,
	};
	struct runner_callbacks		 cb = cb_template;
	struct opts			 opts;
	struct app			 app = { 0 };
	struct input			*in = NULL;
	struct template			*cmd = NULL, *tag = NULL;
	struct spawner			*sp = NULL;
	char				*tagwords[1];
	int				 status = EXIT_FORKPOOL_ERROR, ran;

	/* A closed stdout is noticed as EPIPE, where it can be handled. */
	signal(SIGPIPE, SIG_IGN);

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
	if ((in = input_new(&opts)) == NULL)
		goto out;
	app.builder = builder_new(&opts, in, cmd, tag);
	if (opts.dry_run) {
		status = dry_run(&app);
		if (status == 0)
			status = app.input_error ? EXIT_FORKPOOL_ERROR :
			    exit_status(&app, 0);
		goto out;
	}
	app.output = output_new(&opts);
	sp = spawner_new(opts.out_mode != OUT_UNGROUP);
	cb.ctx = &app;
	app.runner = runner_new(opts.jobs, &cb, sp);
	ran = runner_run(app.runner);
	status = exit_status(&app, ran);
out:
	runner_free(app.runner);
	spawner_free(sp);
	output_free(app.output);
	builder_free(app.builder);
	input_free(in);
	template_free(tag);
	template_free(cmd);
	buf_free(&app.line);
	opts_free(&opts);
	return status;
}
