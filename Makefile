# forkpool -- see README.md.

PREFIX ?=	/usr/local
BINDIR ?=	$(PREFIX)/bin
MANDIR ?=	$(PREFIX)/share/man
BASHCOMPDIR ?=	$(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?=	$(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?=	$(PREFIX)/share/fish/vendor_completions.d

CC ?=		cc
CFLAGS ?=	-O2 -g
WARNINGS =	-std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
		-Wmissing-prototypes -Wformat=2
PKG_CONFIG ?=	pkg-config
BSD_CFLAGS !=	$(PKG_CONFIG) --cflags libbsd-overlay 2>/dev/null || true
BSD_LIBS !=	$(PKG_CONFIG) --libs libbsd-overlay 2>/dev/null || echo -lbsd
# --colsep patterns are Perl's, as GNU parallel users write them.
PCRE2_CFLAGS !=	$(PKG_CONFIG) --cflags libpcre2-8 2>/dev/null || true
PCRE2_LIBS !=	$(PKG_CONFIG) --libs libpcre2-8 2>/dev/null || echo -lpcre2-8
LIB_CFLAGS =	$(BSD_CFLAGS) $(PCRE2_CFLAGS)
LIBS =		$(BSD_LIBS) $(PCRE2_LIBS)
ALL_CFLAGS =	$(WARNINGS) -D_GNU_SOURCE $(LIB_CFLAGS) $(CPPFLAGS) $(CFLAGS)

SRCS =		src/builder.c src/capture.c src/compat.c src/cpu.c src/exec_local.c src/exec_slurm.c src/exec_ssh.c src/input.c src/job.c src/joblog.c src/loop.c \
		src/junit.c src/lookahead.c src/main.c src/onall.c src/opts.c src/output.c src/pipe.c src/progress.c src/prompt.c \
		src/reader.c src/results.c src/run.c src/runner.c src/sem.c src/shuffle.c \
		src/spill.c src/summary.c \
		src/template.c src/util.c src/workers.c
OBJS =		$(SRCS:.c=.o)
HDRS =		$(wildcard src/*.h)

# Debian packages the build and the tests need; "make deps" installs the
# missing ones and does nothing when all are present.
DEPS =		gcc make pkg-config libbsd-dev libpcre2-dev bats bats-support bats-assert \
		bats-file mandoc parallel findutils time valgrind bash dash zsh \
		fish clang libclang-rt-dev cppcheck clang-tidy procps util-linux \
		coreutils strace libxml2-utils python3 jq perl \
		libtext-csv-perl openssh-server openssh-client rsync munge \
		slurmctld slurmd slurm-client

# The sanitized build for "make check-asan", apart from the normal one.
ASAN_CC ?=	clang
ASAN_FLAGS =	-fsanitize=address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer -g -O1
ASAN_BIN =	build-asan/forkpool
ASAN_TESTS ?=	tests

# libFuzzer harnesses (fuzz/): forkpool's objects but main.c, rebuilt with
# clang and the sanitizers into fuzz/build, apart from the normal build.
FUZZ_CC ?=	clang
FUZZ_TIME ?=	60
FUZZ_CFLAGS =	$(WARNINGS) -D_GNU_SOURCE $(LIB_CFLAGS) $(CPPFLAGS) -O1 -g \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer
FUZZ_TARGETS =	fuzz_template fuzz_quote fuzz_records fuzz_opts fuzz_contexts
FUZZ_OBJS =	$(patsubst src/%.c,fuzz/build/%.o,$(filter-out src/main.c,$(SRCS)))
FUZZ_BINS =	$(FUZZ_TARGETS:%=fuzz/build/%)

.PHONY: all deps check check-werror check-asan valgrind lint static clean \
	install uninstall bench bench-smoke fuzz fuzz-build stress stress-quick

all: forkpool forkpool-sem

forkpool: $(OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LIBS) $(LDLIBS)

# Called by this name, forkpool is a semaphore (--semaphore; see sem.h).
# No "sem": that is GNU parallel's.
forkpool-sem: forkpool
	ln -sf forkpool $@

src/%.o: src/%.c $(HDRS)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The benchmark's lower bound: a bare posix_spawnp() loop (see bench/run).
bench/floor: bench/floor.c
	$(CC) $(WARNINGS) -D_GNU_SOURCE $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) \
	    -o $@ bench/floor.c $(LDLIBS)

fuzz/build/%.o: src/%.c $(HDRS)
	@mkdir -p fuzz/build
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

fuzz/build/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FUZZ_OBJS) $(HDRS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(FUZZ_OBJS) \
	    $(LIBS) $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

# Keep the objects between harness builds.
.SECONDARY: $(FUZZ_OBJS)

# Run every harness for FUZZ_TIME seconds on a scratch copy of its seed
# corpus (fuzz/corpus stays as committed); fails if any finds a crash,
# whose input is left in fuzz/build/artifacts/.
fuzz: fuzz-build
	FUZZ_TIME=$(FUZZ_TIME) fuzz/run $(FUZZ_TARGETS)

deps:
	@missing=; for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		    grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    --no-install-recommends $$missing; \
	fi

# The suite runs against a build with warnings as errors; its last line
# counts the tests that passed and failed.
check: check-werror
	$(MAKE) CFLAGS="$(CFLAGS) -Werror" bench/floor
	$(MAKE) bench-smoke
	@tap=$$(mktemp); \
	{ bats --jobs 2 tests; echo $$? >"$$tap.rc"; } | tee "$$tap"; \
	rc=$$(cat "$$tap.rc"); \
	echo "$$(grep -c '^ok' "$$tap") passed, $$(grep -c '^not ok' "$$tap") failed"; \
	rm -f "$$tap" "$$tap.rc"; exit $$rc

check-werror:
	$(MAKE) clean
	$(MAKE) CFLAGS="$(CFLAGS) -Werror" forkpool

# The whole suite against a build with AddressSanitizer and
# UndefinedBehaviorSanitizer.  Reports go to files in a directory of their
# own, since a test may swallow a job's stderr: any file there fails the run.
# FORKPOOL_SANITIZED tells the tests that cannot hold under ASan (peak RSS)
# to skip.
check-asan: $(ASAN_BIN)
	@logs=$$(mktemp -d); tap=$$logs.tap; \
	opts="halt_on_error=1:exitcode=86:print_stacktrace=1:log_path=$$logs/report"; \
	{ FP_BIN="$$PWD/$(ASAN_BIN)" FORKPOOL_SANITIZED=1 \
	    ASAN_OPTIONS="$$opts:detect_leaks=1:abort_on_error=0" \
	    UBSAN_OPTIONS="$$opts" \
	    bats --jobs 2 $(ASAN_TESTS); echo $$? >"$$tap.rc"; } | tee "$$tap"; \
	rc=$$(cat "$$tap.rc"); \
	echo "$$(grep -c '^ok' "$$tap") passed, $$(grep -c '^not ok' "$$tap") failed"; \
	if [ -n "$$(ls -A "$$logs")" ]; then \
		echo "sanitizer reports:"; \
		for f in "$$logs"/*; do echo "== $$f"; cat "$$f"; done; \
		rc=1; \
	fi; \
	rm -rf "$$logs" "$$tap" "$$tap.rc"; exit $$rc

$(ASAN_BIN): $(SRCS) $(HDRS)
	@mkdir -p build-asan
	$(ASAN_CC) $(WARNINGS) -Werror -D_GNU_SOURCE $(LIB_CFLAGS) $(CPPFLAGS) \
	    $(ASAN_FLAGS) $(LDFLAGS) -o $@ $(SRCS) $(LIBS) $(LDLIBS)

# Representative runs of forkpool under valgrind's memcheck; any error,
# definite leaks included, fails (see tests/valgrind.sh).
valgrind: forkpool
	tests/valgrind.sh

# Static analysis; each tool fails on any finding.  cppcheck reads the
# sources with the macros the build defines (system headers stay out, as its
# manual advises; --library tells it about libc and libbsd); clang-tidy gets
# the build's own flags and its checks from .clang-tidy.
lint:
	cppcheck --enable=warning,portability --error-exitcode=1 --inline-suppr \
	    --quiet --std=c11 --library=posix --library=gnu --library=bsd \
	    -D_GNU_SOURCE -DLIBBSD_OVERLAY \
	    -I src src
	clang-tidy --quiet --warnings-as-errors='*' $(SRCS) -- \
	    $(WARNINGS) -D_GNU_SOURCE $(LIB_CFLAGS) $(CPPFLAGS)

static: lint

# Compare forkpool with xargs, GNU parallel and bench/floor, and remote jobs
# with plain ssh on sshd servers of its own; prints a table and writes it to
# $BENCH_OUT (default bench/results.md).  Under 10 minutes, and about 2 more
# for the remote scenarios.  BENCH_ONLY picks scenarios: make bench
# BENCH_ONLY="q r s" runs the remote ones.
bench: forkpool bench/floor
	bench/run

# The same suite on tiny sizes (about a minute): it runs, no timing asserted.
bench-smoke: forkpool bench/floor
	BENCH_QUICK=1 bench/run

# Stress tests (tests/stress, not part of check): 10,000 jobs in every
# output mode, job trees ended by --timeout and Ctrl-C, descriptor and
# process limits, a full stdout, odd input.  Up to 20 minutes on 2 CPUs;
# stress-quick is the same on smaller counts, a few minutes, for CI.
stress: forkpool
	bats tests/stress

stress-quick: forkpool
	STRESS_QUICK=1 bats tests/stress

install: forkpool
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) \
	    $(DESTDIR)$(FISHCOMPDIR)
	install -m 755 forkpool $(DESTDIR)$(BINDIR)/forkpool
	ln -sf forkpool $(DESTDIR)$(BINDIR)/forkpool-sem
	install -m 644 man/forkpool.1 $(DESTDIR)$(MANDIR)/man1/forkpool.1
	ln -sf forkpool.1 $(DESTDIR)$(MANDIR)/man1/forkpool-sem.1
	install -m 644 completions/forkpool.bash \
	    $(DESTDIR)$(BASHCOMPDIR)/forkpool
	install -m 644 completions/_forkpool $(DESTDIR)$(ZSHCOMPDIR)/_forkpool
	install -m 644 completions/forkpool.fish \
	    $(DESTDIR)$(FISHCOMPDIR)/forkpool.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/forkpool \
	    $(DESTDIR)$(BINDIR)/forkpool-sem \
	    $(DESTDIR)$(MANDIR)/man1/forkpool.1 \
	    $(DESTDIR)$(MANDIR)/man1/forkpool-sem.1 \
	    $(DESTDIR)$(BASHCOMPDIR)/forkpool \
	    $(DESTDIR)$(ZSHCOMPDIR)/_forkpool \
	    $(DESTDIR)$(FISHCOMPDIR)/forkpool.fish

clean:
	rm -f forkpool forkpool-sem $(OBJS) bench/floor
	rm -rf build-asan fuzz/build
