# tgm — build, test, run and install the suite.
#
#   make                 build bin/gatewayd bin/senderd bin/webhookd bin/billingd bin/tgmctl
#   make run             install what is missing, build, start PostgreSQL and all daemons
#   make check           unit tests (C) and integration tests (pytest, real PostgreSQL)
#   make check SANITIZE=1  the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench           throughput against baselines measured in the same run
#   make install         PREFIX=/usr/local DESTDIR=

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(if $(filter /usr/local,$(PREFIX)),/etc,$(PREFIX)/etc))
DATADIR    ?= $(PREFIX)/share/tgm
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
PYTHON     ?= /usr/bin/python3

PKGS    := libevent libpq libcurl yajl openssl libzmq
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CPPFLAGS_ALL := -I. -Ibuild/gen -D_GNU_SOURCE -DTGM_VERSION='"$(VERSION)"' $(shell pkg-config --cflags $(PKGS))
LIBS    := $(shell pkg-config --libs $(PKGS)) -lm

ifeq ($(SANITIZE),1)
  OUT     := build/asan
  BIN     := build/asan/bin
  CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
else
  OUT     := build/obj
  BIN     := bin
endif

DAEMONS  := gatewayd senderd webhookd billingd
PROGRAMS := $(DAEMONS) tgmctl

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(OUT)/%.o) $(OUT)/gen/migrations.o
LIBTGM     := $(OUT)/libtgm.a
MIGRATIONS := $(sort $(wildcard sql/[0-9][0-9][0-9]_*.sql))

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(OUT)/tests/%)

# Test drivers (tests/tools/*.c), one program per file, run by the integration tests.
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(OUT)/tools/%)

.PHONY: all run check unit integration bench install lint clean deps tools
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
	@$$(CC) $$(LDFLAGS) -o $$@ $$^ $(LIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program,$(p))))

$(OUT)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) $(WARN) $(CPPFLAGS_ALL) -MMD -MP -c -o $@ $<

# gatewayd serves its API description, compiled in from docs/openapi.yaml.
build/gen/openapi.c: scripts/embed-file.sh docs/openapi.yaml
	@mkdir -p $(@D)
	sh scripts/embed-file.sh gw_openapi_yaml docs/openapi.yaml > $@.tmp && mv $@.tmp $@

$(OUT)/gen/openapi.o: build/gen/openapi.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) $(CPPFLAGS_ALL) -c -o $@ $<

# gatewayd serves the dashboard at /, its files compiled in from dashboard/.
build/gen/dashboard.c: scripts/embed-assets.sh $(DASHBOARD)
	@mkdir -p $(@D)
	sh scripts/embed-assets.sh $(DASHBOARD) > $@.tmp && mv $@.tmp $@

$(OUT)/gen/dashboard.o: build/gen/dashboard.c gatewayd/static.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) $(CPPFLAGS_ALL) -c -o $@ $<

# The migrations are compiled into libtgm so every program knows the schema it needs.
build/gen/migrations.c: scripts/embed-sql.sh $(MIGRATIONS)
	@mkdir -p $(@D)
	sh scripts/embed-sql.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

$(OUT)/gen/migrations.o: build/gen/migrations.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) $(CPPFLAGS_ALL) -c -o $@ $<

$(LIBTGM): $(COMMON_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(OUT)/tests/%: $(OUT)/tests/unit/%.o $(LIBTGM)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(OUT)/tools/%: $(OUT)/tests/tools/%.o $(LIBTGM)
	@mkdir -p $(@D)
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

tools: $(TOOL_BIN)

deps:
	@sh scripts/deps.sh build

run: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/run.sh

unit: $(UNIT_BIN)
	@sh tests/unit/run.sh $(UNIT_BIN)

integration: all $(TOOL_BIN)
	TGM_BIN=$(CURDIR)/$(BIN) TGM_TOOLS=$(CURDIR)/$(OUT)/tools \
	  $(PYTHON) -m pytest -q tests/integration $(PYTEST_ARGS)

check: all lint unit integration

bench: all build/obj/bench/fakeserver build/obj/bench/curl_loop
	@bash bench/run.sh

build/obj/bench/fakeserver: bench/fakeserver.c
	@mkdir -p $(@D)
	$(CC) -O2 $(WARN) $(shell pkg-config --cflags libevent) -o $@ $< $(shell pkg-config --libs libevent)

build/obj/bench/curl_loop: bench/curl_loop.c
	@mkdir -p $(@D)
	$(CC) -O2 $(WARN) $(shell pkg-config --cflags libcurl) -o $@ $< $(shell pkg-config --libs libcurl)

lint:
	@sh scripts/lint.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/sql $(DESTDIR)$(UNITDIR) \
	  $(DESTDIR)$(SYSCONFDIR)/tgm $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	install -m 0755 $(PROGRAMS:%=$(BIN)/%) $(DESTDIR)$(BINDIR)
	install -m 0644 $(MIGRATIONS) $(DESTDIR)$(DATADIR)/sql
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
