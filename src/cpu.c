#include <sched.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu.h"
#include "util.h"

/* Where the kernel describes each CPU's place (Documentation/ABI). */
#define SYS_CPU		"/sys/devices/system/cpu"

/*
 * The affinity mask, allocated for as many CPUs as the kernel knows of;
 * NULL if it cannot be read.  *size is its size in bytes.
 */
static cpu_set_t *
affinity(size_t *size)
{
	cpu_set_t	*set;
	int		 n;

	/* EINVAL: the kernel's mask is wider than the set; try a larger one. */
	for (n = 1024; n <= 1 << 20; n *= 2) {
		if ((set = CPU_ALLOC(n)) == NULL)
			return NULL;
		*size = CPU_ALLOC_SIZE(n);
		if (sched_getaffinity(0, *size, set) == 0)
			return set;
		CPU_FREE(set);
		if (errno != EINVAL)
			return NULL;
	}
	return NULL;
}

/* The hardware threads forkpool may run on; see cpu.h. */
unsigned int
cpu_threads(void)
{
	cpu_set_t	*set;
	size_t		 size;
	long		 n;

	if ((set = affinity(&size)) != NULL) {
		n = CPU_COUNT_S(size, set);
		CPU_FREE(set);
	} else
		n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : (unsigned int)n;
}

/*
 * Read the first line of path into line, without its newline; -1 if it
 * cannot be read.
 */
static int
read_line(const char *path, char *line, size_t len)
{
	FILE	*f;
	int	 ok;

	if ((f = fopen(path, "re")) == NULL)
		return -1;
	ok = fgets(line, (int)len, f) != NULL;
	(void)fclose(f);
	if (!ok)
		return -1;
	line[strcspn(line, "\n")] = '\0';
	return 0;
}

/*
 * A list of distinct strings, to count cores and sockets by the names the
 * kernel gives them; linear, since even large machines have few thousand.
 */
struct names {
	char	**v;
	size_t	  n;
};

/* Add s to the list unless it is there already. */
static void
names_add(struct names *l, const char *s)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return;
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
}

/* Release the list. */
static void
names_free(struct names *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/*
 * Cores and sockets of the CPUs in set from sysfs: a core is one
 * thread_siblings_list (the CPUs that share it), a socket one
 * physical_package_id.  -1 if a CPU's topology cannot be read.
 */
static int
count_sysfs(const cpu_set_t *set, size_t size, struct names *cores,
    struct names *sockets)
{
	char	 path[128], line[4096];
	size_t	 cpu;

	for (cpu = 0; cpu < size * 8; cpu++) {
		if (!CPU_ISSET_S(cpu, size, set))
			continue;
		(void)snprintf(path, sizeof(path),
		    SYS_CPU "/cpu%zu/topology/thread_siblings_list", cpu);
		if (read_line(path, line, sizeof(line)) == -1)
			return -1;
		names_add(cores, line);
		(void)snprintf(path, sizeof(path),
		    SYS_CPU "/cpu%zu/topology/physical_package_id", cpu);
		if (read_line(path, line, sizeof(line)) == -1)
			return -1;
		names_add(sockets, line);
	}
	return 0;
}

/*
 * The same from /proc/cpuinfo, where each processor's block names its
 * "physical id" and "core id" (the core id is only unique in its
 * package).  -1 if the file cannot be read or names neither.
 */
static int
count_cpuinfo(const cpu_set_t *set, size_t size, struct names *cores,
    struct names *sockets)
{
	FILE		*f;
	char		 line[512], key[64];
	char		 phys[64] = "", core[64] = "";
	const char	*v;
	long		 cpu = -1;
	int		 eof = 0;

	if ((f = fopen("/proc/cpuinfo", "re")) == NULL)
		return -1;
	while (!eof) {
		eof = fgets(line, sizeof(line), f) == NULL;
		/* A blank line, or the end, closes a processor's block. */
		if (eof || line[0] == '\n') {
			if (cpu >= 0 && (size_t)cpu < size * 8 &&
			    CPU_ISSET_S((size_t)cpu, size, set) &&
			    phys[0] != '\0' && core[0] != '\0') {
				(void)snprintf(key, sizeof(key), "%s/%s", phys,
				    core);
				names_add(cores, key);
				names_add(sockets, phys);
			}
			cpu = -1;
			phys[0] = core[0] = '\0';
			continue;
		}
		line[strcspn(line, "\n")] = '\0';
		if ((v = strchr(line, ':')) == NULL)
			continue;
		v += 1 + strspn(v + 1, " \t");
		if (strncmp(line, "processor", 9) == 0)
			cpu = strtol(v, NULL, 10);
		else if (strncmp(line, "physical id", 11) == 0)
			(void)snprintf(phys, sizeof(phys), "%s", v);
		else if (strncmp(line, "core id", 7) == 0)
			(void)snprintf(core, sizeof(core), "%s", v);
	}
	(void)fclose(f);
	return cores->n > 0 ? 0 : -1;
}

/* The three counts; see cpu.h. */
void
cpu_count(struct cpu_count *c)
{
	struct names	 cores = { 0 }, sockets = { 0 };
	cpu_set_t	*set;
	size_t		 size;

	c->threads = cpu_threads();
	/* Without topology, every thread is taken for a core of one socket. */
	c->cores = c->threads;
	c->sockets = 1;
	if ((set = affinity(&size)) == NULL)
		return;
	if (count_sysfs(set, size, &cores, &sockets) == -1) {
		names_free(&cores);
		names_free(&sockets);
		if (count_cpuinfo(set, size, &cores, &sockets) == -1) {
			names_free(&cores);
			names_free(&sockets);
		}
	}
	CPU_FREE(set);
	if (cores.n > 0) {
		c->cores = (unsigned int)cores.n;
		c->sockets = (unsigned int)sockets.n;
	}
	names_free(&cores);
	names_free(&sockets);
}
