/*
 * floor: the least a parallel job runner can do, the lower bound bench/run
 * measures forkpool's spawning against.
 *
 *	floor -P N -- CMD [ARG...]
 *
 * Reads records (lines, without the newline) from stdin and runs
 * CMD ARG... RECORD for each with posix_spawnp(), at most N at once,
 * reaping children with waitpid().  Children share floor's stdin, stdout
 * and stderr: nothing is captured, quoted, ordered or cleaned up.
 *
 * Exit status: 0 if every job exited 0, 1 if one failed or could not be
 * started, 2 on a usage error.
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static void
usage(void)
{
	fputs("usage: floor -P N -- CMD [ARG...]\n", stderr);
	exit(2);
}

/* Parse the -P value s; exit with a usage error unless it is 1..INT_MAX. */
static int
parse_procs(const char *s)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < 1 || n > INT_MAX)
		usage();
	return (int)n;
}

/* Wait for one child; return 1 if it failed, 0 if it exited 0. */
static int
reap_one(void)
{
	int	 status;

	while (waitpid(-1, &status, 0) == -1) {
		if (errno != EINTR) {
			perror("floor: waitpid");
			exit(1);
		}
	}
	return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int
main(int argc, char **argv)
{
	char	**cargv, *line = NULL;
	size_t	 cap = 0;
	ssize_t	 len;
	pid_t	 pid;
	int	 maxprocs = 0, running = 0, failed = 0;
	int	 i, k, nfixed, rc;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "-P") == 0 && i + 1 < argc)
			maxprocs = parse_procs(argv[++i]);
		else if (strncmp(argv[i], "-P", 2) == 0 && argv[i][2] != '\0')
			maxprocs = parse_procs(argv[i] + 2);
		else
			usage();
	}
	if (maxprocs == 0 || i + 1 >= argc)
		usage();
	i++;				/* the "--" */

	/* The child's argv: CMD ARG... RECORD NULL. */
	nfixed = argc - i;
	cargv = calloc((size_t)nfixed + 2, sizeof(*cargv));
	if (cargv == NULL) {
		perror("floor");
		return 1;
	}
	for (k = 0; k < nfixed; k++)
		cargv[k] = argv[i + k];

	while ((len = getline(&line, &cap, stdin)) != -1) {
		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		for (; running >= maxprocs; running--)
			failed |= reap_one();
		cargv[nfixed] = line;
		rc = posix_spawnp(&pid, cargv[0], NULL, NULL, cargv, environ);
		if (rc != 0) {
			fprintf(stderr, "floor: %s: %s\n", cargv[0],
			    strerror(rc));
			failed = 1;
			continue;
		}
		running++;
	}
	if (ferror(stdin)) {
		perror("floor: stdin");
		failed = 1;
	}
	for (; running > 0; running--)
		failed |= reap_one();
	free(line);
	free(cargv);
	return failed;
}
