/*
 * How many CPUs forkpool may use: the hardware threads, physical cores and
 * sockets among the CPUs of its affinity mask (taskset(1), cgroup cpusets),
 * read from sched_getaffinity(2), /sys/devices/system/cpu and, failing
 * that, /proc/cpuinfo.
 */
#ifndef FORKPOOL_CPU_H
#define FORKPOOL_CPU_H

struct cpu_count {
	unsigned int	 threads;	/* CPUs the mask allows */
	unsigned int	 cores;		/* physical cores they belong to */
	unsigned int	 sockets;	/* packages they belong to */
};

/* The hardware threads forkpool may run on, at least 1. */
unsigned int	 cpu_threads(void);

/* All three counts, each at least 1. */
void		 cpu_count(struct cpu_count *);

#endif
