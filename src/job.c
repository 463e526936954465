#include <sys/wait.h>

#include <err.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job.h"
#include "template.h"

/* Clear the result: nothing ran yet. */
static void
clear_result(struct job *j)
{
	j->state = JOB_READY;
	j->started = 0;
	j->exit_code = 0;
	j->signal = 0;
	j->failed = 0;
	j->timed_out = 0;
	j->tty_stopped = 0;
	j->interrupted = 0;
	j->lost = 0;
	j->sent = j->received = 0;
	j->start_error = 0;
	j->utime_us = j->stime_us = -1;
	j->maxrss_kb = -1;
}

/* A new job with number seq. */
struct job *
job_new(unsigned long long seq)
{
	struct job	*j;

	j = xcalloc(1, sizeof(*j));
	j->seq = seq;
	j->attempt = 1;
	j->input_fd = -1;
	clear_result(j);
	return j;
}

/* Release a job. */
void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	job_drop_input(j);
	if (j->input_fd != -1)
		close(j->input_fd);
	buf_free(&j->vals);
	buf_free(&j->cmd);
	free(j->argv);
	free(j->tag);
	free(j);
}

/* Release the job's input; see job.h. */
void
job_drop_input(struct job *j)
{
	if (j->input != NULL && j->input_free != NULL)
		j->input_free(j->input);
	j->input = NULL;
}

/* Point argv at the elements in cmd, or at SHELL -c LINE. */
void
job_set_argv(struct job *j, size_t argc, const char *shell)
{
	const char	*p;
	size_t		 i;

	free(j->argv);
	if (shell != NULL) {
		j->use_shell = 1;
		j->argv = xreallocarray(NULL, 4, sizeof(*j->argv));
		j->argv[0] = (char *)shell;
		j->argv[1] = (char *)"-c";
		j->argv[2] = j->cmd.data;
		j->argv[3] = NULL;
		return;
	}
	j->use_shell = 0;
	j->argv = xreallocarray(NULL, argc + 1, sizeof(*j->argv));
	p = j->cmd.data;
	for (i = 0; i < argc; i++) {
		j->argv[i] = (char *)p;
		p += strlen(p) + 1;
	}
	j->argv[argc] = NULL;
}

/* Append the command in shell-quoted form. */
void
job_display(const struct job *j, struct buf *b)
{
	size_t	 i;

	if (j->use_shell) {
		buf_adds(b, j->argv[2]);
		return;
	}
	for (i = 0; j->argv[i] != NULL; i++) {
		if (i > 0)
			buf_addc(b, ' ');
		shell_quote(b, j->argv[i], strlen(j->argv[i]));
	}
}

/* Record a wait status; a signal counts as failure with 128+signal. */
void
job_set_status(struct job *j, int status)
{
	j->signal = 0;
	if (WIFEXITED(status))
		j->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status)) {
		j->signal = WTERMSIG(status);
		j->exit_code = 128 + j->signal;
	} else
		j->exit_code = 255;
	j->failed = j->exit_code != 0;
}

/* Mark a job that never ran. */
void
job_set_spawn_failure(struct job *j, int code)
{
	j->started = 0;
	j->exit_code = code;
	j->failed = 1;
	j->state = JOB_DONE;
}

/* A job not started (again, with again set): forkpool is stopping. */
void
job_set_stopped(struct job *j, int again, long long now)
{
	warnx("job %llu: not started%s: forkpool is stopping", j->seq,
	    again ? " again" : "");
	job_set_spawn_failure(j, 126);
	/* Cut short by the stop: a --resume runs it. */
	j->interrupted = 1;
	j->end_ms = now;
}

/*
 * Make a finished job ready to run again, with the same command: a new
 * attempt, or (next_attempt 0) the same one again elsewhere.  The result
 * goes, but not the CPU time the run used: --summary counts it.
 */
void
job_reset(struct job *j, int next_attempt)
{
	if (j->utime_us >= 0 && j->stime_us >= 0)
		j->earlier_cpu_us += j->utime_us + j->stime_us;
	clear_result(j);
	if (next_attempt)
		j->attempt++;
}
