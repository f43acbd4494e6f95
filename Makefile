# tgm — build, test, run and install the suite.
#
#   make                 build bin/gatewayd bin/senderd bin/webhookd bin/billingd bin/tgmctl
#   make run             install what is missing, build, start PostgreSQL and all daemons
#   make run SANDBOX=1   the same against a simulated Telegram, with a ready bot to try
#   make check           unit tests (C) and integration tests (pytest, real PostgreSQL)
#   make check SANITIZE=1  the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench           throughput against baselines measured in the same run
#   make fuzz            every libFuzzer target for FUZZ_SECONDS (60) each (docs/fuzzing.md)
#   make install         PREFIX=/usr/local DESTDIR=

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(if $(filter /usr/local,$(PREFIX)),/etc,$(PREFIX)/etc))
DATADIR    ?= $(PREFIX)/share/tgm
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
MANDIR     ?= $(PREFIX)/share/man
PYTHON     ?= /usr/bin/python3

PKGS    := libevent libpq libcurl yajl openssl libzmq
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

# CPPFLAGS, CFLAGS and LDFLAGS from the environment are honoured (dpkg-buildflags style);
# the hardening below is added to them: stack protector, PIE, full RELRO, and
# _FORTIFY_SOURCE=2 when optimising and the caller did not choose a level.
CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
LIBS    := $(shell pkg-config --libs $(PKGS)) -lm

ifeq ($(SANITIZE),1)
  OUT     := build/asan
  BIN     := build/asan/bin
  CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
  FORTIFY :=
else
  OUT     := build/obj
  BIN     := bin
  FORTIFY := $(if $(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS)),,$(if \
               $(filter-out -O0,$(filter -O%,$(CFLAGS))),-D_FORTIFY_SOURCE=2))
endif
HARDEN_CFLAGS  := -fstack-protector-strong -fPIE
HARDEN_LDFLAGS := -pie -Wl,-z,relro,-z,now
CPPFLAGS_ALL := -I. -Ibuild/gen -D_GNU_SOURCE $(FORTIFY) $(CPPFLAGS) \
                $(shell pkg-config --cflags $(PKGS))
CFLAGS_ALL   := $(HARDEN_CFLAGS) $(CFLAGS)
LDFLAGS_ALL  := $(HARDEN_LDFLAGS) $(LDFLAGS)

DAEMONS  := gatewayd senderd webhookd billingd
PROGRAMS := $(DAEMONS) tgmctl

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(OUT)/%.o) $(OUT)/gen/migrations.o $(OUT)/gen/version.o
LIBTGM     := $(OUT)/libtgm.a
MIGRATIONS := $(sort $(wildcard sql/[0-9][0-9][0-9]_*.sql))
FUNCTIONS  := $(sort $(wildcard sql/functions/*.sql))

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(OUT)/tests/%)

# Test drivers (tests/tools/*.c), one program per file, run by the integration tests.
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(OUT)/tools/%)

.PHONY: all run check check-deps unit integration bench install lint format clean deps tools man \
	fuzz fuzz-smoke fuzz-need fuzz-build
.SUFFIXES:
.SECONDARY:

all: $(PROGRAMS:%=$(BIN)/%)

# One program = every .c file of its folder, linked against libtgm.
gatewayd_EXTRA := $(OUT)/gen/openapi.o $(OUT)/gen/dashboard.o
DASHBOARD := $(sort $(shell find dashboard -type f 2>/dev/null))

define program
$(1)_OBJ := $$(patsubst %.c,$(OUT)/%.o,$$(wildcard $(1)/*.c)) $$($(1)_EXTRA)
$(BIN)/$(1): $$($(1)_OBJ) $(LIBTGM)
	@mkdir -p $$(@D)
	@echo "  LINK    $$@"
	@$$(CC) $$(CFLAGS_ALL) $$(LDFLAGS_ALL) -o $$@ $$^ $(LIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program,$(p))))

$(OUT)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_ALL) $(WARN) $(CPPFLAGS_ALL) -MMD -MP -c -o $@ $<

# gatewayd serves its API description, compiled in from docs/openapi.yaml.
build/gen/openapi.c: scripts/embed-file.sh docs/openapi.yaml
	@mkdir -p $(@D)
	sh scripts/embed-file.sh gw_openapi_yaml docs/openapi.yaml > $@.tmp && mv $@.tmp $@

$(OUT)/gen/openapi.o: build/gen/openapi.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(WARN) $(CPPFLAGS_ALL) -c -o $@ $<

# gatewayd serves the dashboard at /, its files compiled in from dashboard/.
build/gen/dashboard.c: scripts/embed-assets.sh $(DASHBOARD)
	@mkdir -p $(@D)
	sh scripts/embed-assets.sh $(DASHBOARD) > $@.tmp && mv $@.tmp $@

$(OUT)/gen/dashboard.o: build/gen/dashboard.c gatewayd/static.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) $(CPPFLAGS_ALL) -c -o $@ $<

# The migrations and function files are compiled into libtgm so every program knows the
# schema it needs. sql.list names them, rewritten only when the list changes, so that a
# file removed (no longer a prerequisite, newer or not) still rebuilds the embedding.
build/gen/sql.list: FORCE
	@mkdir -p $(@D)
	@echo '$(MIGRATIONS) $(FUNCTIONS)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

build/gen/migrations.c: scripts/embed-sql.sh $(MIGRATIONS) $(FUNCTIONS) build/gen/sql.list
	@mkdir -p $(@D)
	sh scripts/embed-sql.sh $(MIGRATIONS) $(FUNCTIONS) > $@.tmp && mv $@.tmp $@

$(OUT)/gen/migrations.o: build/gen/migrations.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(WARN) $(CPPFLAGS_ALL) -c -o $@ $<

# The version lives in one generated file, rewritten only when it changes, so a commit
# relinks every program with it (a -D flag would leave unchanged objects behind).
build/gen/version.c: FORCE
	@mkdir -p $(@D)
	@printf 'const char tgm_version[] = "%s";\n' '$(VERSION)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(OUT)/gen/version.o: build/gen/version.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(WARN) $(CPPFLAGS_ALL) -c -o $@ $<

.PHONY: FORCE
FORCE:

$(LIBTGM): $(COMMON_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(OUT)/tests/%: $(OUT)/tests/unit/%.o $(LIBTGM)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $(filter %.o,$^) $(LIBTGM) $(LIBS)

# Unit tests of a daemon's pure files (no I/O) link those files' objects too.
$(OUT)/tests/test_senderd_limits: $(OUT)/senderd/ratelimit.o $(OUT)/senderd/backoff.o
$(OUT)/tests/test_senderd_flight: $(OUT)/senderd/flight.o
$(OUT)/tests/test_gatewayd_limits: $(OUT)/gatewayd/ratelimit.o
$(OUT)/tests/test_validate: $(OUT)/gatewayd/validate.o
$(OUT)/tests/test_billingd_say: $(OUT)/billingd/say.o $(OUT)/billingd/render.o \
	$(OUT)/billingd/autorecharge.o

$(OUT)/tools/%: $(OUT)/tests/tools/%.o $(LIBTGM)
	@mkdir -p $(@D)
	@echo "  LINK    $@"
	@$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

tools: $(TOOL_BIN)

deps:
	@sh scripts/deps.sh build

run: deps
	@$(MAKE) --no-print-directory all
	@TGM_SANDBOX=$(if $(SANDBOX),$(SANDBOX),0) bash scripts/run.sh

unit: $(UNIT_BIN)
	@sh tests/unit/run.sh $(UNIT_BIN)

integration: all $(TOOL_BIN)
	TGM_BIN=$(CURDIR)/$(BIN) TGM_TOOLS=$(CURDIR)/$(OUT)/tools \
	  $(PYTHON) -m pytest -q tests/integration $(PYTEST_ARGS)

# check installs what the tests need when it is missing, then builds and runs every test.
check: check-deps
	@$(MAKE) --no-print-directory all lint unit fuzz-smoke integration

check-deps:
	@sh scripts/deps.sh test
	@$(MAKE) --no-print-directory -s tests/node_modules

tests/node_modules: tests/package.json tests/package-lock.json
	npm ci --prefix tests --no-audit --no-fund --loglevel=error </dev/null
	@touch $@

# bench installs what it uses when it is missing (the test set: wrk, Node and its
# packages for the grammY loops, Chromium), like check.
bench: check-deps all build/obj/bench/fakeserver build/obj/bench/curl_loop
	@bash bench/run.sh

build/obj/bench/fakeserver: bench/fakeserver.c
	@mkdir -p $(@D)
	$(CC) -O2 $(WARN) $(shell pkg-config --cflags libevent) -o $@ $< $(shell pkg-config --libs libevent)

build/obj/bench/curl_loop: bench/curl_loop.c
	@mkdir -p $(@D)
	$(CC) -O2 $(WARN) $(shell pkg-config --cflags libcurl) -o $@ $< $(shell pkg-config --libs libcurl)

lint:
	@sh scripts/lint.sh

# format lays out every C file as .clang-format says (make lint checks it); scripts/fence.py
# first fences the hand-laid string constants clang-format would re-align
FORMAT_SRC = $(shell find common gatewayd senderd webhookd billingd tgmctl tests/unit \
	       tests/tools tests/fuzz bench -name '*.[ch]' | sort)
format:
	@command -v clang-format >/dev/null || \
	  { echo "make format: clang-format is missing (Debian package clang-format)"; exit 1; }
	@$(PYTHON) scripts/fence.py $(FORMAT_SRC)
	@clang-format -i $(FORMAT_SRC)

# libFuzzer targets (tests/fuzz/*.c, docs/fuzzing.md): each built with clang, libFuzzer,
# ASan and UBSan into build/fuzz/, linked against the parsers it feeds, and run over its
# seed corpus tests/fuzz/corpus/<name>/; what it finds goes to build/fuzz/, never to tests/.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE   ?= 3
FUZZ_OUT     := build/fuzz
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
                -fno-sanitize-recover=undefined
FUZZ_SRC     := $(wildcard tests/fuzz/*.c)
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_OUT)/%)
# the parsers under test: common/ whole, and gatewayd's request readers
FUZZ_LIB_SRC := $(COMMON_SRC) build/gen/migrations.c build/gen/version.c build/gen/openapi.c \
                build/gen/dashboard.c \
                $(filter-out gatewayd/main.c,$(wildcard gatewayd/*.c)) \
                $(filter-out webhookd/main.c,$(wildcard webhookd/*.c))
FUZZ_LIB     := $(FUZZ_OUT)/libtgm-fuzz.a

$(FUZZ_OUT)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) $(WARN) $(CPPFLAGS_ALL) -MMD -MP -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_SRC:%.c=$(FUZZ_OUT)/obj/%.o)
	@rm -f $@
	@ar rcs $@ $^

$(FUZZ_OUT)/%: $(FUZZ_OUT)/obj/tests/fuzz/%.o $(FUZZ_LIB)
	@echo "  LINK    $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

fuzz-need:
	@FUZZ_CC=$(FUZZ_CC) sh scripts/fuzz.sh need

fuzz-build: $(FUZZ_BIN)
	@:

fuzz: fuzz-need
	@$(MAKE) --no-print-directory fuzz-build
	@sh scripts/fuzz.sh run $(FUZZ_SECONDS) $(FUZZ_BIN)

# fuzz-smoke: a few seconds each, for make check; fails naming the target and the input
fuzz-smoke: fuzz-need
	@$(MAKE) --no-print-directory fuzz-build
	@sh scripts/fuzz.sh smoke $(FUZZ_SMOKE) $(FUZZ_BIN)

# Man pages: tgmctl(8) and tgm-daemons(8) are written by hand; tgm.conf(5) is generated
# from `tgmctl config --defaults`, i.e. from common/config.c's table, so it cannot drift.
man: build/man/tgm.conf.5

build/man/tgm.conf.5: man/tgm.conf.5.sh $(BIN)/tgmctl
	@mkdir -p $(@D)
	sh man/tgm.conf.5.sh $(BIN)/tgmctl > $@.tmp && mv $@.tmp $@

install: all man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/sql/functions $(DESTDIR)$(UNITDIR) \
	  $(DESTDIR)$(SYSCONFDIR)/tgm $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
	  $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 man/tgmctl.8 man/tgm-daemons.8 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 build/man/tgm.conf.5 $(DESTDIR)$(MANDIR)/man5
	install -m 0755 $(PROGRAMS:%=$(BIN)/%) $(DESTDIR)$(BINDIR)
	install -m 0644 $(MIGRATIONS) $(DESTDIR)$(DATADIR)/sql
	install -m 0644 $(FUNCTIONS) $(DESTDIR)$(DATADIR)/sql/functions
	for f in systemd/*.in; do \
	  sed -e 's|@bindir@|$(BINDIR)|g' -e 's|@sysconfdir@|$(SYSCONFDIR)|g' $$f \
	    > $(DESTDIR)$(UNITDIR)/$$(basename $$f .in); done
	install -m 0644 systemd/tgm.target $(DESTDIR)$(UNITDIR)
	install -m 0644 systemd/tgm.sysusers $(DESTDIR)$(SYSUSERSDIR)/tgm.conf
	install -m 0644 systemd/tgm.tmpfiles $(DESTDIR)$(TMPFILESDIR)/tgm.conf
	@# tgm.conf holds no secret (those go to credentials or secrets.env): readable by the tgm user
	[ -e $(DESTDIR)$(SYSCONFDIR)/tgm/tgm.conf ] || \
	  install -m 0644 etc/tgm.conf $(DESTDIR)$(SYSCONFDIR)/tgm/tgm.conf

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
