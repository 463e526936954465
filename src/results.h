/*
 * --results NAME: what each job wrote, kept where a person or a program
 * can find it after the run, instead of being printed.
 *
 * A NAME ending in .csv, .tsv or .json is a table: one row per job (a
 * JSON object per line for .json), written once the job's output is
 * complete, in output order, its Stdout and Stderr streamed from the
 * capture (capture.h) through the format's escaping, never held whole;
 * "-.csv" and the like write it to stdout.  Any other NAME is a
 * directory: the capture's opener puts a job's stdout and stderr in
 * NAME/1/V1/2/V2/.../stdout and stderr as the job writes them (with
 * --header, NAME/x/V1/y/V2/...), each name and value escaped into one
 * safe path component, and its number in seq once
 * the job's output is complete.  See forkpool(1) for the layout and the
 * formats.
 *
 * The results borrow the options (the name) and the capture until
 * results_close(); the jobs' values must live until their release.
 */
#ifndef FORKPOOL_RESULTS_H
#define FORKPOOL_RESULTS_H

struct capture;
struct job;
struct opts;
struct output;
struct results;
struct sink;

/* Whether NAME is a table (.csv, .tsv, .json) rather than a directory. */
int		 results_is_table(const char *);

/*
 * Create the directory, or open the table for writing (truncated); NULL
 * after a message naming it.
 */
struct results	*results_open(const struct opts *);
void		 results_close(struct results *);

/*
 * The n column names --header read (borrowed; NULL: none): a directory
 * names each value's level by its column's name rather than its number,
 * a CSV or TSV table its V columns, as GNU parallel does.
 */
void		 results_set_names(struct results *, const char * const *,
		    size_t);

/* The capture the jobs' output is read back from (borrowed). */
void		 results_set_capture(struct results *, struct capture *);

/* The output collector a table on stdout is written through (borrowed). */
void		 results_set_output(struct results *, struct output *);

/*
 * For a directory: the capture's opener (capture_opener, capture.h),
 * with the results as its context.  It makes the job's directory when
 * it is missing.
 */
int		 results_open_file(void *, const struct job *, int, char **);

/*
 * The results as a sink (sink.h): a table's row, or a directory's seq
 * file, for each printed job but one forkpool ended early, whose
 * directory is removed.  Valid until results_close().
 */
struct sink	*results_sink(struct results *);

#endif
