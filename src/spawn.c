#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job.h"
#include "spawn.h"
#include "util.h"

extern char **environ;

/* The variables every job gets, in the order of spawner->vars. */
static const char *const job_vars[] = {
	"FORKPOOL_SEQ", "FORKPOOL_SLOT", "PARALLEL_SEQ", "PARALLEL_JOBSLOT"
};
#define NVARS	(sizeof(job_vars) / sizeof(job_vars[0]))

struct spawner {
	int			 capture;
	int			 tty;		/* owned: /dev/tty, or -1 */
	char			**envp;		/* owned array; strings borrowed
						   from environ, but vars */
	size_t			 nenv;		/* inherited entries */
	char			 vars[NVARS][48];
	posix_spawnattr_t	 attr;
};

/* Whether environment entry e sets one of job_vars. */
static int
is_job_var(const char *e)
{
	size_t	 i, n;

	for (i = 0; i < NVARS; i++) {
		n = strlen(job_vars[i]);
		if (strncmp(e, job_vars[i], n) == 0 && e[n] == '=')
			return 1;
	}
	return 0;
}

/* Prepare what every spawn shares; see spawn.h. */
struct spawner *
spawner_new(int capture, int tty)
{
	struct spawner	*s;
	sigset_t	 empty, def;
	size_t		 n, i;
	int		 fd = -1;

	if (tty && (fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1) {
		warn("--tty: /dev/tty");
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->capture = capture;
	s->tty = fd;
	for (n = 0; environ[n] != NULL; n++)
		;
	s->envp = xreallocarray(NULL, n + NVARS + 1, sizeof(*s->envp));
	for (i = 0; i < n; i++)
		if (!is_job_var(environ[i]))
			s->envp[s->nenv++] = environ[i];
	for (i = 0; i < NVARS; i++)
		s->envp[s->nenv + i] = s->vars[i];
	s->envp[s->nenv + NVARS] = NULL;

	/*
	 * Own process group, so that a signal reaches the whole tree the
	 * job starts; no blocked signals; SIGPIPE back to its default, since
	 * forkpool ignores it and ignored signals survive exec.
	 */
	sigemptyset(&empty);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_init(&s->attr);
	posix_spawnattr_setflags(&s->attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&s->attr, 0);
	posix_spawnattr_setsigmask(&s->attr, &empty);
	posix_spawnattr_setsigdefault(&s->attr, &def);
	return s;
}

/* Release the spawner. */
void
spawner_free(struct spawner *s)
{
	if (s == NULL)
		return;
	if (s->tty != -1)
		close(s->tty);
	posix_spawnattr_destroy(&s->attr);
	free(s->envp);
	free(s);
}

/* The terminal's descriptor; see spawn.h. */
int
spawner_tty(const struct spawner *s)
{
	return s->tty;
}

/* Report why j could not start and mark it failed. */
static void
spawn_failed(struct job *j, int error)
{
	j->start_error = error;
	switch (error) {
	case ENOENT:
		warnx("%s: command not found", j->argv[0]);
		job_set_spawn_failure(j, 127);
		break;
	case EACCES:
	case ENOEXEC:
	case EISDIR:
	case ENOTDIR:
	case ELOOP:
	case ENAMETOOLONG:
		warnx("%s: %s", j->argv[0], strerror(error));
		job_set_spawn_failure(j, 126);
		break;
	default:
		warnx("job %llu: cannot start %s: %s", j->seq, j->argv[0],
		    strerror(error));
		job_set_spawn_failure(j, 126);
		break;
	}
}

/* Write FORKPOOL_SEQ and PARALLEL_SEQ, FORKPOOL_SLOT and PARALLEL_JOBSLOT. */
static void
set_vars(struct spawner *s, const struct job *j)
{
	char	 seq[24], slot[16];
	size_t	 i;

	/* Each number is formatted once: this runs for every job. */
	(void)snprintf(seq, sizeof(seq), "%llu", j->seq);
	(void)snprintf(slot, sizeof(slot), "%u", j->slot);
	for (i = 0; i < NVARS; i++) {
		strlcpy(s->vars[i], job_vars[i], sizeof(s->vars[i]));
		strlcat(s->vars[i], "=", sizeof(s->vars[i]));
		strlcat(s->vars[i], i % 2 == 0 ? seq : slot,
		    sizeof(s->vars[i]));
	}
}

/* Start one job; see spawn.h. */
enum spawn_result
spawn_job(struct spawner *s, struct job *j)
{
	posix_spawn_file_actions_t	 fa;
	int				 out[2] = { -1, -1 };
	int				 errp[2] = { -1, -1 };
	int				 rc;

	set_vars(s, j);

	if (s->capture && (pipe2(out, O_CLOEXEC) == -1 ||
	    pipe2(errp, O_CLOEXEC) == -1)) {
		rc = errno;
		goto fail;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, s->tty != -1 ?
	    "/dev/tty" : "/dev/null", O_RDONLY, 0);
	/*
	 * The child takes the foreground before exec, so the job never
	 * reads the terminal as a background group.  Only from forkpool's
	 * own group: a forkpool in the background does not take the
	 * terminal from the shell.
	 */
	if (s->tty != -1 && tcgetpgrp(s->tty) == getpgrp())
		posix_spawn_file_actions_addtcsetpgrp_np(&fa, STDIN_FILENO);
	if (s->capture) {
		posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
		posix_spawn_file_actions_adddup2(&fa, errp[1], STDERR_FILENO);
	}
	/* Nothing of forkpool's, nor inherited by it, reaches the job. */
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	rc = posix_spawnp(&j->pid, j->argv[0], &fa, &s->attr, j->argv,
	    s->envp);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		goto fail;
	if (s->capture) {
		close(out[1]);
		close(errp[1]);
		fcntl(out[0], F_SETFL, O_NONBLOCK);
		fcntl(errp[0], F_SETFL, O_NONBLOCK);
		j->fd[0] = out[0];
		j->fd[1] = errp[0];
	}
	j->state = JOB_RUNNING;
	return SPAWN_OK;
fail:
	if (out[0] != -1) {
		close(out[0]);
		close(out[1]);
	}
	if (errp[0] != -1) {
		close(errp[0]);
		close(errp[1]);
	}
	j->pid = -1;
	if (rc == EMFILE || rc == ENFILE)
		return SPAWN_NOFDS;
	if (rc == EAGAIN || rc == ENOMEM)
		return SPAWN_AGAIN;
	spawn_failed(j, rc);
	return SPAWN_FAILED;
}
