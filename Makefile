# msign build. Sources are globbed: adding src/LAYER/foo.c or tests/unit/test_foo.c
# needs no edit here.
CC ?= cc
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=
PKG_CONFIG ?= pkg-config
# What libmsign itself links (msign.pc's Requires.private); the command
# adds jansson for --json.
LIB_PKGS = libcrypto libplist-2.0 libcurl
PKGS = $(LIB_PKGS) jansson

# One source for the version: include/msign/version.h. The build stops when
# its string and its three numbers disagree.
vfield = $(shell sed -n 's/^\#define MSIGN_VERSION_$(1) "*\([0-9.]*\)"*$$/\1/p' include/msign/version.h)
VERSION_MAJOR := $(call vfield,MAJOR)
VERSION := $(VERSION_MAJOR).$(call vfield,MINOR).$(call vfield,PATCH)
ifneq ($(VERSION),$(call vfield,STRING))
$(error include/msign/version.h: MSIGN_VERSION_STRING "$(call vfield,STRING)" is not MAJOR.MINOR.PATCH $(VERSION))
endif
ABI := $(shell sed -n 's/^\#define MSIGN_ABI \([0-9]*\)$$/\1/p' include/msign/version.h)
SONAME = libmsign.so.$(ABI)
CSTD = -std=c11 -D_GNU_SOURCE
WARN = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla
OPT ?= -O2 -g
# Recursive (=) on purpose: expanded when a recipe runs, i.e. after the
# deps target may have installed the packages on a fresh machine.
DEPCFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
DEPLIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null || echo -lcrypto -lplist-2.0 -lcurl -ljansson) -lpthread
LIB_DEPLIBS = $(shell $(PKG_CONFIG) --libs $(LIB_PKGS) 2>/dev/null || echo -lcrypto -lplist-2.0 -lcurl) -lpthread
CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) -fPIC $(VISIBILITY) -Iinclude -Isrc $(DEPCFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS_ALL = $(LDFLAGS) $(EXTRA_LDFLAGS)

B ?= build
# SAN=1: the same targets built with AddressSanitizer + UBSan in build-asan/.
ifeq ($(SAN),1)
B = build-asan
OPT = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
EXTRA_LDFLAGS = -fsanitize=address,undefined
endif
LIB_SRC := $(sort $(filter-out src/cli/% src/trace/%,$(wildcard src/*/*.c)))
TRACE_SRC := $(sort $(wildcard src/trace/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
TRACE_OBJ := $(TRACE_SRC:%.c=$(B)/%.o)
# Library objects export only what include/msign/*.h declares (those
# headers push default visibility); helpers shared between library files
# stay hidden, and src/libmsign.map lists the exports by name.
$(LIB_OBJ): VISIBILITY = -fvisibility=hidden
CLI_OBJ := $(CLI_SRC:%.c=$(B)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_REPLAY := $(FUZZ_SRC:fuzz/%.c=$(B)/fuzz/%-replay)

# ---- make check --------------------------------------------------------
# SUITES run twice, plain and SAN=1 (ASan + UBSan), in two lanes at the
# same time (tools/check.sh: one per core); PLAIN_SUITES once, plain, at
# the end of the plain lane. A suite is a target here that runs one test script and reports:
#   - its last line is "NAME: N passed, N failed" (NAME one word);
#   - it exits non-zero when a check failed or when it ran no check.
# tools/suite.sh prints a line when each starts, a heartbeat every 15 s,
# checks that report, and adds up the counts for the last line of make
# check: "check: N passed, N failed". A new suite: a target, and its name
# in one of these lists.
SUITES = unit cli-test golden-test info-test trace-test sign-test cms-test strip-test write-test safety-test tsa-test csreq-test codesign-test bundle-test fuzz-replay
# install-test once: it installs into a DESTDIR and builds against it,
# which says nothing more under ASan.
# macos-test: the macOS compile gate (tools/macos-gate.sh), once: it
# compiles, it runs nothing.
PLAIN_SUITES = harness-test install-test macos-test
# Fuzz replay: forked workers, and a time budget in seconds per target for
# everything after each input's as-is run (fuzz/replay_main.c; 0: none).
# Plain, on an idle 2-core machine: fuzz_csreq and fuzz_show finish their
# plan (~0.2 s, ~7 s), fuzz_sign gets through about 40% of it in 9 s.
# ASan: every input as is, every truncation, and words from offset 0 of
# each window up to where the budget ends (printed: "covered: ..."; at 9 s
# fuzz_show about half of its plan, fuzz_sign about a fifth); the rest is
# `make fuzz-replay SAN=1 FUZZ_BUDGET=0` or `make fuzz`. The budgets keep
# make check under 5 minutes on this 2-core machine.
FUZZ_JOBS ?= 2
FUZZ_BUDGET ?= 9
ASAN_FUZZ_BUDGET ?= 9
ifeq ($(SAN),1)
FUZZ_BUDGET = $(ASAN_FUZZ_BUDGET)
endif

.PHONY: all check unit cli-test trace-test strip-test sign-test cms-test asan-check fuzz-replay \
	harness-test install-test macos-test write-test safety-test golden-test info-test tsa-test csreq-test codesign-test bundle-test test-bins demo bench fuzz install uninstall clean deps FORCE

all: deps $(B)/msign $(B)/libmsign.a $(B)/libmsign.so

# Build dependencies only; make check adds the test ones (tools/deps.sh test).
deps:
	@sh tools/deps.sh build

$(B)/%.o: %.c $(wildcard include/msign/*.h src/*/*.h) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(B)/libmsign.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# --no-undefined: the library names every library it needs (and nothing
# else: no jansson), so a program linked against it needs no guesswork.
$(B)/libmsign.so: $(LIB_OBJ) src/libmsign.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=src/libmsign.map \
	  -Wl,--no-undefined -o $@ $(LIB_OBJ) $(LDFLAGS_ALL) $(LIB_DEPLIBS)

# The tracer forks, execs, installs signal handlers and prints: it is part
# of the command, not of the signature library, so its objects go into an
# archive of their own that only build/msign and the trace unit test link.
# Not installed: its interface is msign's, not a stable API.
$(B)/libmsign-trace.a: $(TRACE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/msign: $(CLI_OBJ) $(B)/libmsign-trace.a $(B)/libmsign.a
	$(CC) -o $@ $(CLI_OBJ) $(B)/libmsign-trace.a $(B)/libmsign.a $(LDFLAGS_ALL) $(DEPLIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libmsign.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests/unit -o $@ $< $(B)/libmsign.a $(LDFLAGS_ALL) $(DEPLIBS) $(CMOCKA_LIBS)

$(B)/tests/test_trace: tests/unit/test_trace.c $(B)/libmsign-trace.a $(B)/libmsign.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests/unit -o $@ $< $(B)/libmsign-trace.a $(B)/libmsign.a $(LDFLAGS_ALL) $(DEPLIBS) $(CMOCKA_LIBS)

$(B)/fuzz/%-replay: fuzz/%.c fuzz/replay_main.c fuzz/fuzz_file.h $(B)/libmsign.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< fuzz/replay_main.c $(B)/libmsign.a $(LDFLAGS_ALL) $(DEPLIBS)

unit: $(UNIT_BIN)
	@MSIGN_FIXTURES=fixtures sh tests/unit/run.sh $(UNIT_BIN)

cli-test: $(B)/msign
	@sh tests/cli/run.sh $(B)/msign

# The D programs are the same in both rounds: the D compiler checks them in
# the plain one only (TRACE_D_CHECK=no under SAN=1).
trace-test: $(B)/msign
	@TRACE_D_CHECK=$(if $(filter 1,$(SAN)),no,yes) sh tests/trace/run.sh $(B)/msign

strip-test: $(B)/msign
	@sh tests/strip/run.sh $(B)/msign

sign-test: $(B)/msign
	@sh tests/sign/run.sh $(B)/msign

cms-test: $(B)/msign
	@sh tests/cms/run.sh $(B)/msign

# The model through the public headers only (like a program built on the
# library), against fixtures/facts.txt.
$(B)/tests/info-dump: tests/info/dump.c $(B)/libmsign.a
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(OPT) -Iinclude -o $@ $< $(B)/libmsign.a $(LDFLAGS_ALL) $(LIB_DEPLIBS)

info-test: $(B)/tests/info-dump
	@sh tests/info/run.sh $(B)

# The RFC 3161 client against a local TSA (tests/tsa/server.py); the
# driver reaches the internal src/sign/tsa.h through libmsign.a.
$(B)/tests/tsa_client: tests/tsa/tsa_client.c $(B)/libmsign.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(B)/libmsign.a $(LDFLAGS_ALL) $(LIB_DEPLIBS)

tsa-test: $(B)/tests/tsa_client
	@sh tests/tsa/run.sh $(B)

# The requirement compiler against the corpus's signed requirement sets;
# reqsets reads them through the library's internal reader.
$(B)/tests/reqsets: tests/csreq/reqsets.c $(B)/libmsign.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(B)/libmsign.a $(LDFLAGS_ALL) $(DEPLIBS)

csreq-test: $(B)/msign $(B)/tests/reqsets
	@sh tests/csreq/run.sh $(B)

# msign run as codesign (a link to it): the README's table of build
# systems' command lines against the msign commands they stand for.
codesign-test: $(B)/msign
	@sh tests/codesign/run.sh $(B)/msign

# Bundles (spec bundles.md): sign, verify, show and the codesign link on
# the trees fixtures/make-bundles.sh builds, judged by tests/bundle/indep.py
# (the spec read a second time, in Python). Under ASan the runs that
# repeat a kind of check are left out (BUNDLE_QUICK=1).
bundle-test: $(B)/msign
	@BUNDLE_QUICK=$(if $(filter 1,$(SAN)),1,0) sh tests/bundle/run.sh $(B)/msign

# Under ASan four of the eleven option sets (each run costs ~4x there):
# every level of detail's code runs at -v4, the others at -r-, --json and
# with an arm64 host (the entitlements printer runs in cli-test under ASan).
GOLDEN_SAN_ARGS = --verbose=4|arm64:--verbose=3|-r-|--json
golden-test: $(B)/msign
	@GOLDEN_ARGS='$(if $(filter 1,$(SAN)),$(GOLDEN_SAN_ARGS))' sh tests/golden/run.sh $(B)/msign

write-test: $(B)/msign
	@sh tests/write/run.sh $(B)/msign

# Under ASan 5 + 5 runs under a writer instead of 10 + 10 (waiting, mostly).
safety-test: $(B)/msign
	@SAFETY_RUNS=$(if $(filter 1,$(SAN)),5,10) sh tests/safety/run.sh $(B)/msign

fuzz-replay: $(FUZZ_REPLAY)
	@sh fuzz/replay.sh $(FUZZ_JOBS) $(FUZZ_BUDGET) $(FUZZ_REPLAY)

# make install into a temporary DESTDIR; examples/cdhashes.c built against
# it through pkg-config; the library's exports and imports; make uninstall.
install-test: all
	@sh tests/install/run.sh $(B)

# Every source compiled for arm64- and x86_64-apple-macos11 by Zig 0.11's
# clang against Apple's libc headers (fetched once into $(B)/zig-0.11.0).
macos-test:
	@sh tools/macos-gate.sh $(B)

# Tests of the test harness itself: zero checks, missing corpus, deps hint.
harness-test: $(B)/msign $(FUZZ_REPLAY) $(B)/tests/harness-replay
	@sh tests/harness.sh $(B)

$(B)/tests/harness-replay: tests/harness_target.c fuzz/replay_main.c $(B)/libmsign.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< fuzz/replay_main.c $(B)/libmsign.a $(LDFLAGS_ALL) $(DEPLIBS)

# Everything the suites run, built in parallel before they start.
test-bins: all $(UNIT_BIN) $(FUZZ_REPLAY) $(B)/tests/info-dump $(B)/tests/tsa_client $(B)/tests/reqsets

# The suites once more under AddressSanitizer + UBSan, in build-asan/.
asan-check:
	$(MAKE) SAN=1 $(SUITES)

check:
	@sh tools/deps.sh test
	@rm -f $(B)/check.tally; mkdir -p $(B); \
	CHECK_TALLY=$(CURDIR)/$(B)/check.tally sh tools/check.sh "$(MAKE)" "$(SUITES)" "$(PLAIN_SUITES)"

demo: all
	$(B)/msign show -vvvv fixtures/cms_arm64
	$(B)/msign show -r- fixtures/cms_arm64

bench: all $(B)/timeit
	@sh tools/deps.sh bench
	@sh bench/run.sh $(B)/msign
	@sh bench/strip.sh $(B)/msign
	@sh bench/sign.sh $(B)/msign
	@sh bench/bundle.sh $(B)/msign

$(B)/timeit: bench/timeit.c
	@mkdir -p $(B)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 $< -o $@

fuzz:
	@sh tools/deps.sh fuzz
	@sh fuzz/run.sh

# What install puts where; uninstall removes exactly these (and the
# include/msign folder when nothing else is left in it).
PUBLIC_HDRS := $(sort $(wildcard include/msign/*.h))
INSTALLED = $(BINDIR)/msign $(MANDIR)/man1/msign.1 \
	$(LIBDIR)/libmsign.a $(LIBDIR)/libmsign.so.$(VERSION) $(LIBDIR)/$(SONAME) \
	$(LIBDIR)/libmsign.so $(PKGCONFIGDIR)/msign.pc \
	$(PUBLIC_HDRS:include/%=$(INCLUDEDIR)/%)
# INSTALL_CODESIGN_LINK=1 also installs $(BINDIR)/codesign, a link to
# msign, for build systems that call codesign by name; never by default
# (on a Mac it would shadow Apple's when its folder comes first in PATH).
# uninstall removes it only while it is that link.
INSTALL_CODESIGN_LINK ?=
# ldconfig refreshes the loader's cache (and the soname link) only for an
# install into this system by root; a DESTDIR tree is a package's staging
# area, whose ldconfig runs where it is installed.
LDCONFIG = if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; \
	then ldconfig; fi

install: all $(B)/msign.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/msign \
	  $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(PKGCONFIGDIR)
	install -m 755 $(B)/msign $(DESTDIR)$(BINDIR)/msign
	install -m 644 $(B)/libmsign.a $(DESTDIR)$(LIBDIR)/libmsign.a
	install -m 755 $(B)/libmsign.so $(DESTDIR)$(LIBDIR)/libmsign.so.$(VERSION)
	ln -sf libmsign.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libmsign.so
	install -m 644 $(PUBLIC_HDRS) $(DESTDIR)$(INCLUDEDIR)/msign/
	install -m 644 man/msign.1 $(DESTDIR)$(MANDIR)/man1/msign.1
	install -m 644 $(B)/msign.pc $(DESTDIR)$(PKGCONFIGDIR)/msign.pc
	$(if $(filter 1,$(INSTALL_CODESIGN_LINK)),ln -sf msign $(DESTDIR)$(BINDIR)/codesign)
	@$(LDCONFIG)

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	@if [ "$$(readlink $(DESTDIR)$(BINDIR)/codesign 2>/dev/null)" = msign ]; then \
	  rm -f $(DESTDIR)$(BINDIR)/codesign; fi
	-rmdir $(DESTDIR)$(INCLUDEDIR)/msign 2>/dev/null
	@$(LDCONFIG)

# Written at build time so that a changed LIBDIR or PREFIX rewrites it.
$(B)/msign.pc: msign.pc.in include/msign/version.h FORCE
	@mkdir -p $(B)
	@sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	  -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	  -e 's|@LIB_PKGS@|$(LIB_PKGS)|' msign.pc.in > $@.tmp && mv $@.tmp $@

FORCE:

clean:
	rm -rf build build-asan build-fuzz build-clang
