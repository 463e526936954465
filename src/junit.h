/*
 * The JUnit report (--junit FILE): a JUnit XML document with one testcase
 * per job, in the order the jobs were printed, and one per rejected input
 * record, for the test reporters of CI systems.
 *
 * The counts go in the testsuite element, before the testcases, and are
 * known only at the end: the testcases are written as the jobs are
 * printed to a temporary file (unlinked, in the temporary directory), and
 * junit_finish() writes FILE whole from it.  Each job's output is read
 * from the capture (capture.h) and streamed through an XML escaper, never
 * held in memory; whatever bytes a job writes, the report is well-formed.
 */
#ifndef FORKPOOL_JUNIT_H
#define FORKPOOL_JUNIT_H

struct capture;
struct junit;
struct sink;

/*
 * Create FILE (emptied) and the temporary file in tmpdir; both strings are
 * borrowed until junit_free().  NULL after a message.
 */
struct junit	*junit_open(const char *, const char *);
void		 junit_free(struct junit *);

/*
 * The report as a sink (sink.h): a testcase for each printed job, whose
 * output it reads from the capture (borrowed, keeping both streams), and
 * for each rejected record.  Valid until junit_free().
 */
struct sink	*junit_sink(struct junit *, struct capture *);

/* The run is over: write FILE.  0, or -1 after a message. */
int		 junit_finish(struct junit *);

#endif
