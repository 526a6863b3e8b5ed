# vs — video streaming as Unix tools.  Plain GNU make.
#
#   make                    build every program into bin/
#   make check              install what is missing, build, run every test (bats)
#   make check TESTS=tests/vs-sign.bats   the same, for some test files
#   make SANITIZE=1 check   the same, built with ASan + UBSan
#   make demo               install what is missing, build, run the main job
#   make install PREFIX=/usr/local [DESTDIR=...]
#
# CFLAGS, LDFLAGS and LDLIBS are the user's: set them on the command line
# (make CFLAGS=-O0) and the flags the build needs are still added.

VERSION := 0.1.0
PREFIX  ?= /usr/local
DESTDIR ?=

# What `make check` and `make demo` run first, then the test runner and the
# demo (tests/make.bats replaces them to test the first run).
INSTALL_DEPS ?= scripts/install-deps
RUN_TESTS    ?= scripts/run-tests
DEMO         ?= scripts/demo
TESTS        ?=

CC      ?= gcc
PKGS    := libavformat libavcodec libavfilter libswscale libswresample libavutil \
           libcurl libpq openssl jansson fcgi
# pkg-config answers when make reads this file. On a fresh machine that is
# before `make check` or `make demo` has installed the -dev packages, so those
# two install first and then build in a second make, which reads it again.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
PKG_OK     := $(shell pkg-config --exists $(PKGS) 2>/dev/null && echo yes)

CFLAGS  ?= -O2 -g
VS_CFLAGS := -std=c17 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wformat=2 \
           -Wno-missing-field-initializers -MMD -MP \
           -DVS_VERSION='"$(VERSION)"' -Ilibvs $(PKG_CFLAGS)
VS_LDLIBS := $(PKG_LIBS) -lpthread -lm
# Each program loads only the libraries it uses: vs-cgi, started per request
# as a CGI, would otherwise spend 80 ms loading FFmpeg's 140 libraries.
VS_LDFLAGS := -Wl,--as-needed

ifeq ($(SANITIZE),1)
VS_CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
VS_LDFLAGS += -fsanitize=address,undefined
BUILD   := build/sanitize
else
BUILD   := build/default
endif

ALL_CFLAGS  = $(VS_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(VS_LDFLAGS) $(LDFLAGS)
ALL_LDLIBS  = $(VS_LDLIBS) $(LDLIBS)

# The one list of the tools is cmd/tools.list.
TOOLS    := $(shell sed -n 's/^\([a-z][a-z0-9-]*\)	.*/\1/p' cmd/tools.list)
PROGRAMS := vs $(addprefix vs-,$(TOOLS))
LIB_SRC  := $(wildcard libvs/*.c)
LIB_OBJ  := $(patsubst libvs/%.c,$(BUILD)/libvs/%.o,$(LIB_SRC)) $(BUILD)/libvs/migrations.o
LIB      := $(BUILD)/libvs.a
BINS     := $(addprefix bin/,$(PROGRAMS))
COMPLETIONS := completions/bash/vs completions/zsh/_vs
SQL      := $(sort $(wildcard sql/[0-9]*.sql))

all: $(BINS) $(COMPLETIONS)

# bin/ always holds the flavour built last; a stamp makes switching
# between SANITIZE=1 and a plain build relink every program.
bin/.flavour-$(notdir $(BUILD)):
	@mkdir -p bin
	@rm -f bin/.flavour-*
	@touch $@

$(BINS): bin/%: $(BUILD)/cmd/%.o $(LIB) bin/.flavour-$(notdir $(BUILD))
	@mkdir -p bin
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(ALL_LDLIBS)

$(LIB): $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/%.o: %.c | pkg-config-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Without the -dev packages every compile would fail on its first #include:
# say once what is missing instead.
pkg-config-ok:
ifneq ($(PKG_OK),yes)
	@echo "make: pkg-config does not find:$$(for p in $(PKGS); do pkg-config --exists $$p 2>/dev/null || printf ' %s' $$p; done)" >&2
	@echo "make: run 'scripts/install-deps' as root first ('make check' and 'make demo' run it)" >&2
	@exit 1
endif

# The completions name the programs of cmd/tools.list: make rewrites their
# one line that lists them when the list changes (commit the result).
completions/bash/vs: cmd/tools.list
	sed -i 's/^complete -F _vs .*/complete -F _vs $(PROGRAMS)/' $@

completions/zsh/_vs: cmd/tools.list
	sed -i '1s/^#compdef .*/#compdef $(PROGRAMS)/' $@

# vs lists the tools of cmd/tools.list: its names and summaries become C.
$(BUILD)/gen/tools.h: cmd/tools.list
	@mkdir -p $(dir $@)
	{ echo '/* Generated from cmd/tools.list by the Makefile: do not edit. */'; \
	  printf '#define VS_TOOL_NAMES "%s"\n' '$(TOOLS)'; \
	  echo '#define VS_TOOLS \'; \
	  sed -n -e 's/\\/\\\\/g' -e 's/"/\\"/g' \
	      -e 's/^\([a-z][a-z0-9-]*\)	\(.*\)/\t{"\1", "\2"}, \\/p' $<; \
	  echo; } >$@.tmp && mv $@.tmp $@

$(BUILD)/cmd/vs.o: $(BUILD)/gen/tools.h
$(BUILD)/cmd/vs.o: VS_CFLAGS += -I$(BUILD)/gen

# The migrations are compiled into the library, so vs-db needs no data files.
$(BUILD)/libvs/migrations.c: $(SQL) scripts/embed-sql
	@mkdir -p $(dir $@)
	scripts/embed-sql $(SQL) > $@.tmp && mv $@.tmp $@

$(BUILD)/libvs/migrations.o: $(BUILD)/libvs/migrations.c | pkg-config-ok
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# C unit-test programs, driven by bats.
TEST_SRC  := $(wildcard tests/unit/*.c)
TEST_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRC))

$(TEST_BINS): $(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(ALL_LDLIBS)

# `make check` and `make demo` work as the first command on a fresh machine:
# install first, then build in a make that reads pkg-config's answers anew
# (with a job per core unless -j was given).
SUBMAKE = $(MAKE) --no-print-directory $(if $(filter -j%,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 2))

# libFuzzer targets (fuzz/*.c) under ASan + UBSan, built with clang: the
# library once more, instrumented for coverage (scripts/fuzz runs them).
FUZZ_CC    ?= clang
FUZZ_BUILD := build/fuzz
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
FUZZ_BINS  := $(patsubst fuzz/%.c,$(FUZZ_BUILD)/%,$(wildcard fuzz/*.c))
FUZZ_OBJ   := $(patsubst libvs/%.c,$(FUZZ_BUILD)/libvs/%.o,$(LIB_SRC)) $(FUZZ_BUILD)/libvs/migrations.o

fuzz: $(FUZZ_BINS)

$(FUZZ_BUILD)/libvs/%.o: libvs/%.c | pkg-config-ok
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(VS_CFLAGS) $(FUZZ_FLAGS) -c -o $@ $<

$(FUZZ_BUILD)/libvs/migrations.o: $(BUILD)/libvs/migrations.c | pkg-config-ok
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(VS_CFLAGS) $(FUZZ_FLAGS) -c -o $@ $<

$(FUZZ_BUILD)/libvs.a: $(FUZZ_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BINS): $(FUZZ_BUILD)/%: fuzz/%.c $(FUZZ_BUILD)/libvs.a
	$(FUZZ_CC) $(VS_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/libvs.a $(VS_LDLIBS)

deps:
	@$(INSTALL_DEPS)

check: deps
	@$(SUBMAKE) all tests
	VS_UNIT_DIR=$(CURDIR)/$(BUILD)/tests VS_SANITIZE=$(SANITIZE) $(RUN_TESTS) $(TESTS)

# LD_PRELOAD shims the tests inject faults with (tests/shim/*.c), built
# without the sanitizers: they go before the program's own libraries.
SHIMS := $(patsubst tests/shim/%.c,$(BUILD)/tests/%.so,$(wildcard tests/shim/*.c))

$(SHIMS): $(BUILD)/tests/%.so: tests/shim/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -fPIC -shared -o $@ $< -ldl

tests: $(TEST_BINS) $(SHIMS)

demo: deps
	@$(SUBMAKE) all
	$(DEMO)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man7 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	    $(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 man/man1/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 man/man7/*.7 $(DESTDIR)$(PREFIX)/share/man/man7/
	for p in $(PROGRAMS); do \
	    install -m 0644 completions/bash/vs $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$p; \
	done
	install -m 0644 completions/zsh/_vs $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_vs

lint-man:
	mandoc -Tlint -Wwarning man/man1/*.1 man/man7/*.7

clean:
	rm -rf build bin

.PHONY: all check demo deps tests fuzz install clean lint-man pkg-config-ok

-include $(shell find build -name '*.d' 2>/dev/null)
