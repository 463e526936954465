/*
 * What the harnesses share: a report channel that survives libFuzzer's
 * -close_fd_mask (which silences forkpool's own warnings), and the way a
 * broken invariant ends the run.
 */
#ifndef FORKPOOL_FUZZ_H
#define FORKPOOL_FUZZ_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* A copy of stderr taken before libFuzzer may close fd 2. */
static FILE	*fuzz_report;

/* Keep a copy of stderr for fuzz_fail(); call from LLVMFuzzerInitialize. */
static void
fuzz_report_init(void)
{
	int	 fd;

	if ((fd = dup(STDERR_FILENO)) == -1 ||
	    (fuzz_report = fdopen(fd, "w")) == NULL)
		fuzz_report = stderr;
	setvbuf(fuzz_report, NULL, _IONBF, 0);
}

/* Say which invariant broke, and crash so that libFuzzer keeps the input. */
static void __attribute__((noreturn, format(printf, 2, 3)))
fuzz_fail(const char *harness, const char *fmt, ...)
{
	va_list	 ap;

	fprintf(fuzz_report, "%s: ", harness);
	va_start(ap, fmt);
	vfprintf(fuzz_report, fmt, ap);
	va_end(ap);
	fputc('\n', fuzz_report);
	abort();
}

/* Print n bytes readably on the report channel. */
static void __attribute__((unused))
fuzz_dump(const char *label, const char *p, size_t n)
{
	size_t	 i;

	fprintf(fuzz_report, "%s (%zu bytes): \"", label, n);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '"' || c == '\\')
			fprintf(fuzz_report, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			fputc(c, fuzz_report);
		else
			fprintf(fuzz_report, "\\x%02x", c);
	}
	fprintf(fuzz_report, "\"\n");
}

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#endif
