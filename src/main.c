/*
 * forkpool: run a command for every input record, several at a time.
 * main() only builds the pieces and connects them (see
 * docs/ARCHITECTURE.md): a source of jobs, the run's policy, an executor,
 * the runner, the output collector and the sinks.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder.h"
#include "capture.h"
#include "exec.h"
#include "input.h"
#include "joblog.h"
#include "junit.h"
#include "lookahead.h"
#include "onall.h"
#include "opts.h"
#include "output.h"
#include "pipe.h"
#include "progress.h"
#include "prompt.h"
#include "results.h"
#include "run.h"
#include "runner.h"
#include "sem.h"
#include "summary.h"
#include "template.h"
#include "util.h"
#include "workers.h"

/* What main() builds, so that one place releases it all. */
struct parts {
	struct template		*cmd, *tag;
	struct resume		*resume;
	struct input		*in;
	struct builder		*builder;
	struct pipe_src		*pipe;		/* --pipe, --pipe-part */
	struct lookahead	*ahead;		/* with a progress display */
	struct progress		*progress;
	struct prompt		*prompt;	/* -p */
	struct executor		*ex;
	struct joblog		*joblog;
	struct summary		*summary;
	struct junit		*junit;
	struct output		*output;
	struct capture		*capture;
	struct results		*results;
	struct run		*run;
	struct runner		*runner;
	struct workers		*workers;	/* --workers: the engine */
};

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

/* The templates, the executor and the job source; -1 after a message. */
static int
build_source(struct parts *p, const struct opts *o, struct source **src)
{
	char			*tagwords[1] = { (char *)o->tagstring };
	struct column_names	 names = { NULL, 0 };
	struct opts		 here;

	/* The header names the columns the templates may use. */
	if (o->header != NULL && o->resume != RETRY_FAILED && !o->pipe) {
		if ((p->in = input_new(o)) == NULL)
			return -1;
		names.v = input_names(p->in, &names.n);
	}
	if ((p->cmd = template_new_named(o->cmd, o->ncmd, TEMPLATE_COMMAND,
	    o, &names)) == NULL || (o->tagstring != NULL && (p->tag =
	    template_new_named(tagwords, 1, TEMPLATE_TEXT, o, &names)) == NULL))
		return -1;
	if (o->workers && workers_check_command(p->cmd) == -1)
		return -1;
	/* Read the joblog before it is opened for writing. */
	if (o->resume != RESUME_NONE &&
	    (p->resume = resume_load(o->joblog, o->resume)) == NULL)
		return -1;
	/* Before the joblog is opened: a refused --tty leaves it alone. */
	if (o->nlogins > 0 && !o->dry_run)
		p->ex = exec_ssh_new(o->out_mode != OUT_UNGROUP, o);
	else if (o->slurm && !o->dry_run)
		p->ex = exec_slurm_new(o->out_mode != OUT_UNGROUP, o);
	else if (o->nlogins > 0) {
		/* A dry run of remote jobs: --workdir is the hosts'. */
		here = *o;
		here.workdir = NULL;
		p->ex = exec_local_new(o->jobs, o->out_mode != OUT_UNGROUP,
		    NULL, &here);
	} else
		p->ex = exec_local_new(o->jobs, o->out_mode != OUT_UNGROUP,
		    o->tty && !o->dry_run ? o->tty_name : NULL, o);
	if (p->ex == NULL)
		return -1;
	/* The ssh executor gives it to its own local jobs. */
	if (o->slot_var != NULL && (o->nlogins == 0 || o->dry_run))
		exec_local_slot_var(p->ex, o->slot_var);
	if (o->resume == RETRY_FAILED) {
		*src = resume_source(p->resume, template_shell(p->cmd));
		return 0;
	}
	if (o->pipe) {
		if ((p->pipe = pipe_new(o, p->cmd, p->tag)) == NULL)
			return -1;
		*src = pipe_source(p->pipe);
		return 0;
	}
	if (p->in == NULL && (p->in = input_new(o)) == NULL)
		return -1;
	if ((p->builder = builder_new(o, p->in, p->cmd, p->tag,
	    p->ex->ops->line_max(p->ex->ctx), p->ex->ops->arg_room(p->ex->ctx),
	    o->jobs)) == NULL)
		return -1;
	builder_set_resume(p->builder, p->resume);
	/* Files to move for remote jobs are named by the values. */
	if (o->nlogins > 0 && (o->ntransfers > 0 || o->transfer ||
	    o->nreturns > 0))
		builder_keep_values(p->builder);
	/* A worker is sent the record's values, not a command line. */
	if (o->workers) {
		builder_keep_values(p->builder);
		builder_stdin_values(p->builder, o->delim == '\0' ? '\0' :
		    '\n');
	}
	*src = builder_source(p->builder);
	return 0;
}

/*
 * The capture and the sinks that read it.  Each job's stdout is kept for
 * --files, --results and --junit, its stderr for the last two.  --results
 * prints neither stream and --files not stdout; --junit alone prints
 * both.  Files are named by the --results directory, else by --files
 * (stdout only); the rest goes to the capture's store.  -1 after a
 * message.
 */
static int
wire_capture(struct parts *p, const struct opts *o)
{
	const char		*tmp = opts_tmpdir(o);
	const char * const	*names;
	size_t			 nnames = 0;
	int			 keeps, prints;

	if (!o->files && o->results == NULL && o->junit == NULL)
		return 0;
	keeps = CAPTURE_STDOUT;
	if (o->results != NULL || o->junit != NULL)
		keeps |= CAPTURE_STDERR;
	prints = o->results != NULL ? 0 : o->files ? CAPTURE_STDERR :
	    CAPTURE_STDOUT | CAPTURE_STDERR;
	p->capture = capture_new(tmp, keeps, prints);
	output_set_capture(p->output, p->capture, !o->files ? 0 :
	    o->results != NULL && !results_is_table(o->results) ?
	    OUTPUT_NAMES : OUTPUT_NAMES | OUTPUT_NAMES_TEMP);
	if (o->results != NULL) {
		if ((p->results = results_open(o)) == NULL)
			return -1;
		if (!results_is_table(o->results))
			capture_set_opener(p->capture, results_open_file,
			    p->results);
		names = p->in != NULL ? input_names(p->in, &nnames) : NULL;
		results_set_names(p->results, names, nnames);
		results_set_capture(p->results, p->capture);
		results_set_output(p->results, p->output);
		run_add_sink(p->run, results_sink(p->results));
	}
	if (o->files && (o->results == NULL || results_is_table(o->results)))
		capture_set_opener(p->capture, capture_open_temp, (void *)tmp);
	if (o->junit != NULL) {
		if ((p->junit = junit_open(o->junit, tmp)) == NULL)
			return -1;
		run_add_sink(p->run, junit_sink(p->junit, p->capture));
	}
	/* The sinks name the jobs' files or rows by their values. */
	if (p->builder != NULL)
		builder_keep_values(p->builder);
	run_keep_values(p->run);
	return 0;
}

/*
 * The files the run writes, and the temporary directory a report needs,
 * are checked before any of them is opened: opening one empties it, and
 * a later one that fails would leave it so.  -1 after a message.
 */
static int
check_outputs(const struct opts *o)
{
	if (o->joblog != NULL && strcmp(o->joblog, "-") != 0 &&
	    !o->joblog_append && o->resume == RESUME_NONE &&
	    check_writable("--joblog", o->joblog) == -1)
		return -1;
	if (o->results != NULL && results_is_table(o->results) &&
	    strncmp(o->results, "-.", 2) != 0 &&
	    check_writable("--results", o->results) == -1)
		return -1;
	if (o->junit != NULL && (check_writable("--junit", o->junit) == -1 ||
	    check_tmpdir(opts_tmpdir(o)) == -1))
		return -1;
	return 0;
}

/* Run the jobs; returns the exit status. */
static int
run_jobs(struct parts *p, const struct opts *o)
{
	const struct runner_opts	 ro = {
		.timeout_ms = o->timeout_ms, .timeout_pct = o->timeout_pct,
		.termseq = o->termseq, .ntermseq = o->ntermseq,
		/* As GNU parallel's, --sshdelay spaces the jobs without --delay. */
		.delay_ms = o->delay_ms != 0 ? o->delay_ms : o->sshdelay_ms,
		.load = o->load,
		.memfree = o->memfree,
	};
	int				 ran, status;

	/* Before the joblog is opened: a refused -p leaves it alone. */
	if (o->ask != NULL) {
		if ((p->prompt = prompt_new(o->ask)) == NULL)
			return EXIT_FORKPOOL_ERROR;
		run_set_prompt(p->run, p->prompt);
	}
	if (check_outputs(o) == -1)
		return EXIT_FORKPOOL_ERROR;
	if (o->joblog != NULL) {
		if ((p->joblog = joblog_open(o->joblog, o->joblog_append ||
		    o->resume != RESUME_NONE)) == NULL)
			return EXIT_FORKPOOL_ERROR;
		run_add_sink(p->run, joblog_sink(p->joblog));
	}
	/* The display's final state comes before the summary. */
	if (p->progress != NULL)
		run_add_sink(p->run, progress_sink(p->progress));
	if (o->summary) {
		p->summary = summary_new(opts_tmpdir(o));
		run_add_sink(p->run, summary_sink(p->summary));
	}
	p->output = output_new(o);
	if (p->joblog != NULL)
		joblog_set_output(p->joblog, p->output);
	if (p->progress != NULL)
		output_guard_terminal(p->output, progress_fd(p->progress),
		    progress_before_write, progress_after_write, p->progress);
	if (wire_capture(p, o) == -1)
		return EXIT_FORKPOOL_ERROR;
	if (o->workers) {
		p->workers = workers_new(&ro, run_callbacks(p->run, p->output),
		    p->ex, p->cmd, o);
		run_set_engine(p->run, workers_draining, p->workers);
		ran = workers_run(p->workers);
	} else {
		p->runner = runner_new(&ro, run_callbacks(p->run, p->output),
		    p->ex);
		run_set_runner(p->run, p->runner);
		ran = runner_run(p->runner);
	}
	run_close(p->run);
	status = run_status(p->run, ran);
	/* A report that cannot be written is forkpool's error, as a joblog's. */
	if (p->junit != NULL && junit_finish(p->junit) == -1 && ran <= 0)
		status = EXIT_FORKPOOL_ERROR;
	return status;
}

/* Build the pieces for the options, run the jobs, release it all. */
static int
run_forkpool(const struct opts *o)
{
	struct parts	 p = { 0 };
	struct source	*src;
	int		 status = EXIT_FORKPOOL_ERROR;

	if (build_source(&p, o, &src) == 0) {
		/*
		 * A display reads ahead, to know how many jobs there are; {##}
		 * reads all before the first job.
		 */
		if (!o->dry_run)
			p.progress = progress_new(o);
		/* Pipe mode's jobs hold blocks: none are read ahead. */
		if ((p.progress != NULL && p.pipe == NULL) ||
		    (p.builder != NULL && (template_uses_total(p.cmd) ||
		    template_uses_total(p.tag)))) {
			p.ahead = lookahead_new(src);
			src = lookahead_source(p.ahead);
		}
		if (p.progress != NULL)
			progress_count_from(p.progress, p.ahead);
		if (p.ahead != NULL && p.builder != NULL &&
		    (template_uses_total(p.cmd) || template_uses_total(p.tag))) {
			lookahead_read_all(p.ahead, opts_tmpdir(o));
			builder_count_from(p.builder, p.ahead);
		}
		p.run = run_new(o, src, p.cmd);
		status = o->dry_run && o->workers ?
		    workers_dry(p.cmd, src, o) : o->dry_run ? run_dry(p.run) :
		    run_jobs(&p, o);
	}
	runner_free(p.runner);
	workers_free(p.workers);
	run_free(p.run);
	output_free(p.output);
	capture_free(p.capture);
	results_close(p.results);
	progress_free(p.progress);
	prompt_free(p.prompt);
	lookahead_free(p.ahead);
	executor_free(p.ex);
	builder_free(p.builder);
	pipe_free(p.pipe);
	joblog_close(p.joblog);
	summary_free(p.summary);
	junit_free(p.junit);
	resume_free(p.resume);
	input_free(p.in);
	template_free(p.tag);
	template_free(p.cmd);
	return status;
}

int
main(int argc, char **argv)
{
	struct executor	*ex;
	struct opts	 opts;
	int		 status;

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
	if (opts.semaphore) {
		status = sem_run(&opts);
		opts_free(&opts);
		return status;
	}
	/* Ask for an allocation, and run this command again in it. */
	if (opts.slurm_alloc != NULL && !opts.dry_run &&
	    !slurm_alloc_granted()) {
		status = slurm_alloc_run(&opts, argc, argv);
		opts_free(&opts);
		return status;
	}
	/* GNU parallel's: the longest line the executor takes, then exit. */
	if (opts.print_line_max) {
		ex = exec_local_new(1, 0, NULL, &opts);
		printf("%zu\n", ex->ops->line_max(ex->ctx));
		executor_free(ex);
		opts_free(&opts);
		return fflush(stdout) == 0 ? 0 : EXIT_FORKPOOL_ERROR;
	}
	/* Every job on every host: a run of its own for each. */
	status = opts.onall || opts.nonall ? onall_run(&opts, run_forkpool) :
	    run_forkpool(&opts);
	opts_free(&opts);
	return status;
}
