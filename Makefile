# msign build. Sources are globbed: adding src/foo.c or tests/unit/test_foo.c
# needs no edit here.
CC ?= cc
PREFIX ?= /usr/local
DESTDIR ?=
PKG_CONFIG ?= pkg-config
PKGS = libcrypto libplist-2.0 jansson

VERSION = 0.1.0
CSTD = -std=c11 -D_GNU_SOURCE
WARN = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla
OPT ?= -O2 -g
# Recursive (=) on purpose: expanded when a recipe runs, i.e. after the
# deps target may have installed the packages on a fresh machine.
DEPCFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
DEPLIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null || echo -lcrypto -lplist-2.0 -ljansson) -lpthread
CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) -fPIC -Iinclude -Isrc $(DEPCFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS_ALL = $(LDFLAGS) $(EXTRA_LDFLAGS)

B ?= build
LIB_SRC := $(sort $(wildcard src/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_REPLAY := $(FUZZ_SRC:fuzz/%.c=$(B)/fuzz/%-replay)

.PHONY: all check unit cli-test strip-test sign-test asan-check fuzz-replay demo bench fuzz install clean deps

all: deps $(B)/msign $(B)/libmsign.a $(B)/libmsign.so

deps:
	@sh tools/deps.sh

$(B)/%.o: %.c $(wildcard include/msign/*.h src/*.h src/cli/*.h) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(B)/libmsign.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/libmsign.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libmsign.so.0 -o $@ $^ $(LDFLAGS_ALL) $(DEPLIBS)

$(B)/msign: $(CLI_OBJ) $(B)/libmsign.a
	$(CC) -o $@ $(CLI_OBJ) $(B)/libmsign.a $(LDFLAGS_ALL) $(DEPLIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libmsign.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests/unit -o $@ $< $(B)/libmsign.a $(LDFLAGS_ALL) $(DEPLIBS) $(CMOCKA_LIBS)

$(B)/fuzz/%-replay: fuzz/%.c fuzz/replay_main.c $(B)/libmsign.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< fuzz/replay_main.c $(B)/libmsign.a $(LDFLAGS_ALL) $(DEPLIBS)

unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do \
	  MSIGN_FIXTURES=fixtures $$t || fail=1; done; exit $$fail

cli-test: $(B)/msign
	@sh tests/cli/run.sh $(B)/msign

trace-test: $(B)/msign
	@sh tests/trace/run.sh $(B)/msign

strip-test: $(B)/msign
	@sh tests/strip/run.sh $(B)/msign

sign-test: $(B)/msign
	@sh tests/sign/run.sh $(B)/msign

write-test: $(B)/msign
	@sh tests/write/run.sh $(B)/msign

fuzz-replay: $(FUZZ_REPLAY)
	@for t in $(FUZZ_REPLAY); do n=$$(basename $$t -replay); n=$${n#fuzz_}; \
	  $$t --plain fuzz/corpus/$$n --mutate fixtures || exit 1; done

# The whole suite once more under AddressSanitizer + UBSan, in its own tree.
asan-check:
	$(MAKE) B=build-asan OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" unit cli-test trace-test sign-test strip-test write-test fuzz-replay

check: all
	$(MAKE) unit cli-test trace-test sign-test strip-test write-test fuzz-replay
	$(MAKE) asan-check
	@echo "make check: all suites passed"

demo: all
	$(B)/msign show -vvvv fixtures/cms_arm64
	$(B)/msign show -r- fixtures/cms_arm64

bench: all $(B)/timeit
	@sh bench/run.sh $(B)/msign
	@sh bench/strip.sh $(B)/msign
	@sh bench/sign.sh $(B)/msign

$(B)/timeit: bench/timeit.c
	@mkdir -p $(B)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 $< -o $@

fuzz:
	@sh fuzz/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/msign \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(B)/msign $(DESTDIR)$(PREFIX)/bin/msign
	install -m 644 $(B)/libmsign.a $(DESTDIR)$(PREFIX)/lib/libmsign.a
	install -m 755 $(B)/libmsign.so $(DESTDIR)$(PREFIX)/lib/libmsign.so.$(VERSION)
	ln -sf libmsign.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libmsign.so.0
	ln -sf libmsign.so.0 $(DESTDIR)$(PREFIX)/lib/libmsign.so
	install -m 644 include/msign/*.h $(DESTDIR)$(PREFIX)/include/msign/
	install -m 644 man/msign.1 $(DESTDIR)$(PREFIX)/share/man/man1/msign.1
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' msign.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/msign.pc

clean:
	rm -rf build build-asan build-fuzz build-clang
