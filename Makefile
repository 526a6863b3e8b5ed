# vs — video streaming as Unix tools.  Plain GNU make.
#
#   make                    build every program into bin/
#   make check              run every test (bats)
#   make SANITIZE=1 check   the same, built with ASan + UBSan
#   make demo               install what is missing, build, run the main job
#   make install PREFIX=/usr/local [DESTDIR=...]

VERSION := 0.1.0
PREFIX  ?= /usr/local
DESTDIR ?=

CC      ?= gcc
PKGS    := libavformat libavcodec libavfilter libswscale libswresample libavutil \
           libcurl libpq openssl jansson fcgi
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c17 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wformat=2 \
           -Wno-missing-field-initializers -MMD -MP \
           -DVS_VERSION='"$(VERSION)"' -Ilibvs $(PKG_CFLAGS)
LDLIBS  += $(PKG_LIBS) -lpthread -lm
# Each program loads only the libraries it uses: vs-cgi, started per request
# as a CGI, would otherwise spend 80 ms loading FFmpeg's 140 libraries.
LDFLAGS += -Wl,--as-needed

ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
BUILD   := build/sanitize
else
BUILD   := build/default
endif

PROGRAMS := vs vs-cgi vs-db vs-ingest vs-encode vs-package vs-progress vs-publish vs-queue vs-report vs-sign
LIB_SRC  := $(wildcard libvs/*.c)
LIB_OBJ  := $(patsubst libvs/%.c,$(BUILD)/libvs/%.o,$(LIB_SRC)) $(BUILD)/libvs/migrations.o
LIB      := $(BUILD)/libvs.a
BINS     := $(addprefix bin/,$(PROGRAMS))
SQL      := $(sort $(wildcard sql/[0-9]*.sql))

all: $(BINS)

# bin/ always holds the flavour built last; a stamp makes switching
# between SANITIZE=1 and a plain build relink every program.
bin/.flavour-$(notdir $(BUILD)):
	@mkdir -p bin
	@rm -f bin/.flavour-*
	@touch $@

bin/%: $(BUILD)/cmd/%.o $(LIB) bin/.flavour-$(notdir $(BUILD))
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(LIB): $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# The migrations are compiled into the library, so vs-db needs no data files.
$(BUILD)/libvs/migrations.c: $(SQL) scripts/embed-sql
	@mkdir -p $(dir $@)
	scripts/embed-sql $(SQL) > $@.tmp && mv $@.tmp $@

$(BUILD)/libvs/migrations.o: $(BUILD)/libvs/migrations.c
	$(CC) $(CFLAGS) -c -o $@ $<

# C unit-test programs, driven by bats.
TEST_SRC  := $(wildcard tests/unit/*.c)
TEST_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRC))

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

deps:
	@scripts/install-deps

check: deps all $(TEST_BINS)
	VS_UNIT_DIR=$(CURDIR)/$(BUILD)/tests scripts/run-tests

demo: deps all
	scripts/demo

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

.PHONY: all check demo deps install clean lint-man

-include $(shell find build -name '*.d' 2>/dev/null)
