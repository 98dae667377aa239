# filterd -- build, test and benchmark.
#
#   make              build everything (installs missing Debian packages as root)
#   make run          build, then run filterd on config/filterd.conf and wordlists/
#   make test         unit and integration tests, then again under ASan/UBSan
#   make client-test  the protocol document and the Node.js and Python clients against filterd
#   make browser-test the moderators' console in Debian's chromium against filterd
#   make bench-engine engine throughput against raw hs_scan
#   make bench-service filterd against its echo baseline (closed and open loop)
#   make bench        the whole benchmark suite and its report (bench-quick: ~2 min)
#   make bench-soak   a minute of load while the lists reload and workers are killed
#   make explain      the quick start: explain a sample text with the default lists
#   make fuzz         each libFuzzer harness of tests/fuzz for FUZZ_SECONDS (default 600)
#   make install      binaries, libraries, headers, lists, config, unit, man pages;
#                     PREFIX (/usr/local), DESTDIR (staging), SYSCONFDIR (/etc), ...
#
# The folders are the architecture (docs/ARCHITECTURE.md), and each gets only
# the include paths of what it may use:
#   engine/          -> (nothing of ours)          libfilterengine.a
#   wire/            -> (nothing of ours)          libfilterwire.a (msgpack, and the ZMTP codec)
#   client/          -> wire                       libfilterclient.a
#   filterd/         -> engine, wire, client       the daemon (its HTTP front door is a
#                                                  client of its broker: fclient.h)
#   client/filterctl -> client, wire, engine, and filterd's settings.h and answer.h
# tests/layout_test.py checks the arrows, the include graph and the size of every file.

BUILD    ?= build
VERSION  := $(shell cat VERSION)
CC       ?= cc
OPT      ?= -O2 -g
SAN      ?=
PKGS      = libhs icu-uc icu-i18n libzmq msgpack libcjson
WARN      = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-missing-field-initializers
CFLAGS   += -std=c11 -D_POSIX_C_SOURCE=200809L $(OPT) $(WARN) $(SAN) -MMD -MP \
            -DFILTERD_VERSION='"$(VERSION)"' \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lstdc++ -lm -lpthread
TEST_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)
# libmicrohttpd: the daemon's HTTP front door only (filterd/http.c).
HTTP_CFLAGS = $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
HTTP_LIBS   = $(shell pkg-config --libs libmicrohttpd 2>/dev/null)

# Include paths by folder (pattern-specific, so an object sees only its arrows).
$(BUILD)/obj/engine/%.o:           INC = -Iengine
$(BUILD)/obj/wire/%.o:             INC = -Iwire
$(BUILD)/obj/client/%.o:           INC = -Iclient -Iwire
$(BUILD)/obj/client/filterctl/%.o: INC = -Iclient/filterctl -Iclient -Iwire -Iengine -Ifilterd
$(BUILD)/obj/filterd/%.o:          INC = -Ifilterd -Iengine -Iwire -Iclient $(HTTP_CFLAGS)
$(BUILD)/obj/bench/%.o:            INC = -Ibench -Iengine -Iclient -Iwire
$(BUILD)/obj/tests/%.o:            INC = -Itests -Iengine -Iwire -Iclient -Ifilterd
$(BUILD)/obj/tests/fuzz/%.o:       INC = -Iengine -Iwire -Iclient/filterctl -Ifilterd -Iclient $(HTTP_CFLAGS)

# ---- where make install puts things -------------------------------------------
# The Debian way: programs and data under PREFIX, the configuration in
# SYSCONFDIR/filterd, a 'filterd' system user and a 'filterd-admin' group
# (sysusers.d), /var/lib/filterd/wordlists seeded from the default lists and
# /var/cache/filterd (tmpfiles.d), /run/filterd (the unit's RuntimeDirectory).
# With DESTDIR empty, make install also creates the user and the folders and
# tells systemd; with DESTDIR set it only writes the staging tree.
PREFIX        ?= /usr/local
BINDIR        ?= $(PREFIX)/bin
SBINDIR       ?= $(PREFIX)/sbin
LIBDIR        ?= $(PREFIX)/lib
INCLUDEDIR    ?= $(PREFIX)/include
DATADIR       ?= $(PREFIX)/share
MANDIR        ?= $(DATADIR)/man
SYSCONFDIR    ?= /etc
LOCALSTATEDIR ?= /var
RUNSTATEDIR   ?= /run
UNITDIR       ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR   ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR   ?= $(PREFIX)/lib/tmpfiles.d
PKGCONFIGDIR  ?= $(LIBDIR)/pkgconfig

# The files made from templates: @NAME@ replaced by the paths above.
DIST = $(BUILD)/dist/filterd.service $(BUILD)/dist/filterd.tmpfiles $(BUILD)/dist/filterd.pc \
       $(BUILD)/dist/filterd-engine.pc \
       $(BUILD)/dist/filterd.conf $(BUILD)/man/filterd.8 $(BUILD)/man/filterctl.1 \
       $(BUILD)/man/filterd.conf.5
SUBST = sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@PREFIX@|$(PREFIX)|g' \
        -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
        -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@DATADIR@|$(DATADIR)|g' \
        -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@LOCALSTATEDIR@|$(LOCALSTATEDIR)|g' \
        -e 's|@RUNSTATEDIR@|$(RUNSTATEDIR)|g'

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

ENGINE_LIB = $(BUILD)/libfilterengine.a
WIRE_LIB   = $(BUILD)/libfilterwire.a
CLIENT_LIB = $(BUILD)/libfilterclient.a
ENGINE_OBJ = $(call obj,$(wildcard engine/*.c))
WIRE_OBJ   = $(call obj,$(wildcard wire/*.c))
CLIENT_OBJ = $(call obj,$(wildcard client/*.c))
DAEMON_OBJ = $(call obj,$(wildcard filterd/*.c)) $(BUILD)/obj/gen/console_assets.o
CTL_OBJ    = $(call obj,$(wildcard client/filterctl/*.c))
# filterctl's offline commands run the daemon's own settings and answer code.
CTL_SHARED = $(call obj,filterd/settings.c filterd/answer.c)

UNIT     = test_taxonomy test_settings test_fold test_wordlist test_engine test_robust test_views \
           test_fclient test_rules test_wire test_http test_cache test_zmtp \
           test_hugemem
UNIT_BIN = $(UNIT:%=$(BUILD)/tests/%)

INTEG_BIN = $(BUILD)/tests/integration_test
# secs: the whole integration run, daemons included
INTEG_TIMEOUT = 600

BINS     = $(BUILD)/filterd $(CLIENT_LIB) $(INTEG_BIN) $(BUILD)/filterctl \
           $(BUILD)/bench/bench_engine $(UNIT_BIN) $(BUILD)/bench/filterbench $(BUILD)/bench/echod \
           $(BUILD)/bench/linkbench

.PHONY: all run deps test unit-test integration-test asan-test bench-engine explain clean \
        bench bench-quick bench-service bench-soak layout-test install install-test client-test \
        browser-test FORCE \
        fuzz fuzz-smoke fuzz-bins
all: deps $(BINS) $(DIST)

# Keep the objects of pattern-rule chains (tests, bench) instead of deleting them.
.SECONDARY:

# Installs missing packages when root, otherwise names them and stops.
deps:
	@sh scripts/deps.sh

$(BUILD)/obj/%.o: %.c VERSION | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC) $(DEFS) -c $< -o $@

# Where filterd and filterctl look for the installed configuration (settings.h):
# compiled in, and rebuilt when SYSCONFDIR changes.
$(BUILD)/obj/filterd/settings.o: DEFS = -DFD_SYSCONFDIR='"$(SYSCONFDIR)"'
$(BUILD)/obj/filterd/settings.o: $(BUILD)/sysconfdir
# Where the console finds filterctl when it is not beside filterd (installed: SBINDIR).
$(BUILD)/obj/filterd/console.o: DEFS = -DFD_BINDIR='"$(BINDIR)"'
$(BUILD)/obj/filterd/console.o: $(BUILD)/paths
$(BUILD)/sysconfdir: FORCE
	@mkdir -p $(BUILD)
	@echo '$(SYSCONFDIR)' | cmp -s - $@ || echo '$(SYSCONFDIR)' > $@

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

$(ENGINE_LIB): $(ENGINE_OBJ)
	$(AR) rcs $@ $^
$(WIRE_LIB): $(WIRE_OBJ)
	$(AR) rcs $@ $^
$(CLIENT_LIB): $(CLIENT_OBJ)
	$(AR) rcs $@ $^

# The console's pages, embedded into filterd (scripts/embed.sh): an edited page rebuilds it.
CONSOLE_PAGES = $(sort $(wildcard filterd/console/*))
$(BUILD)/gen/console_assets.c: $(CONSOLE_PAGES) scripts/embed.sh
	@mkdir -p $(dir $@)
	sh scripts/embed.sh $@ $(CONSOLE_PAGES)
$(BUILD)/obj/gen/console_assets.o: $(BUILD)/gen/console_assets.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ifilterd -Iengine -Iwire -Iclient $(HTTP_CFLAGS) -c $< -o $@

# The daemon: supervisor, broker, workers and reload helper in one binary.
$(BUILD)/filterd: $(DAEMON_OBJ) $(CLIENT_LIB) $(ENGINE_LIB) $(WIRE_LIB)
	@if [ -d $@ ]; then rm -rf $@; fi  # objects of an older layout
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) $(HTTP_LIBS)

$(BUILD)/filterctl: $(CTL_OBJ) $(CTL_SHARED) $(CLIENT_LIB) $(ENGINE_LIB) $(WIRE_LIB)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/bench/bench_engine: $(call obj,bench/bench_engine.c bench/posts.c) $(ENGINE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# Load generator (closed / open loop) and the no-broker echo floor: bench/README.md.
$(BUILD)/bench/filterbench: $(call obj,bench/filterbench.c bench/loadgen.c bench/hist.c bench/posts.c) \
                            $(CLIENT_LIB) $(WIRE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/bench/echod: $(call obj,bench/echod.c) $(CLIENT_LIB) $(WIRE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# The broker-to-worker hop alone: ZeroMQ ipc against a unix socket.
$(BUILD)/bench/linkbench: $(call obj,bench/linkbench.c)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# Unit tests: the engine's, the wire module's, the daemon's settings.
$(BUILD)/tests/%: $(call obj,tests/%.c tests/testutil.c tests/tu_msgpack.c filterd/settings.c) \
                 $(ENGINE_LIB) $(WIRE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) $(TEST_LIBS)

# The HTTP front door's pure parts: JSON bodies, tokens, addresses (no daemon needed).
$(BUILD)/tests/test_http: $(call obj,tests/test_http.c filterd/httpjson.c filterd/tokens.c) \
                          $(WIRE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) $(TEST_LIBS)

# The ZMTP codec of the broker and the client (wire/zmtp.c: pure, no sockets).
$(BUILD)/tests/test_zmtp: $(call obj,tests/test_zmtp.c wire/zmtp.c)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) $(TEST_LIBS)

# The client library against a scripted libzmq ROUTER (no daemon needed), on
# its own ZMTP DEALER (client/zdealer.c) and on libzmq's.
$(BUILD)/tests/test_fclient: $(call obj,tests/test_fclient.c) $(CLIENT_LIB) $(WIRE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) $(TEST_LIBS)

# The real daemon through the real client, in temporary run dirs (tests/integration_test.c),
# its HTTP front door through real HTTP clients (tests/http_test.py), and the
# moderators' console's API (tests/console_test.py: filterctl is the one next to filterd).
$(INTEG_BIN): $(call obj,tests/integration_test.c tests/tu_msgpack.c) $(CLIENT_LIB) $(WIRE_LIB) $(ENGINE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) $(TEST_LIBS)

integration-test: deps $(INTEG_BIN) $(BUILD)/filterd $(BUILD)/filterctl
	timeout -k 10 $(INTEG_TIMEOUT) $(INTEG_BIN) $(BUILD)/filterd $(BUILD)/filterctl
	timeout -k 10 $(INTEG_TIMEOUT) python3 tests/http_test.py $(BUILD)/filterd $(BUILD)/filterctl
	timeout -k 10 $(INTEG_TIMEOUT) $(PY) tests/console_test.py $(BUILD)/filterd

layout-test:
	@python3 tests/layout_test.py

# Debian's python3 (python3-zmq, python3-msgpack, python3-pytest): not a python3
# of another installation that may come first on PATH.
PY ?= /usr/bin/python3
PYTEST = PYTHONDONTWRITEBYTECODE=1 FILTERD=$(abspath $(BUILD)/filterd) \
         timeout -k 10 600 $(PY) -m pytest -q -p no:cacheprovider
# $(call npm_ci,DIR,SRC): the npm dependencies of SRC's package-lock.json into DIR under
# build/ (not the source tree), their install scripts not run.
define npm_ci
	@mkdir -p $(1)
	cp $(2)/package.json $(2)/package-lock.json $(1)/
	cd $(1) && npm ci --ignore-scripts --no-audit --no-fund
endef
# client/node's, into build/node: zeromq's addon comes prebuilt.
NODE_DIR = $(BUILD)/node
NODE_MODULES = $(NODE_DIR)/node_modules/.package-lock.json
$(NODE_MODULES): client/node/package.json client/node/package-lock.json | deps
	$(call npm_ci,$(NODE_DIR),client/node)
	ln -sfn $(abspath client/node) $(NODE_DIR)/node_modules/filterd-client
	@touch $@

# docs/protocol.md rule by rule against the real daemon, then the clients.
client-test: deps $(BUILD)/filterd $(NODE_MODULES)
	cd tests && $(PYTEST) protocol_test.py
	cd client/python && $(PYTEST) tests
	FILTERD=$(abspath $(BUILD)/filterd) NODE_PATH=$(abspath $(NODE_DIR)/node_modules) \
	    timeout -k 10 600 node --test client/node/test/*.test.js

# The console (filterd/console/) in Debian's chromium, driven by puppeteer-core from
# tests/browser/package-lock.json (into build/browser; it downloads no browser), against
# the real daemon; the pages' screenshots go to build/screenshots.
BROWSER_DIR = $(BUILD)/browser
BROWSER_MODULES = $(BROWSER_DIR)/node_modules/.package-lock.json
$(BROWSER_MODULES): tests/browser/package.json tests/browser/package-lock.json | deps
	$(call npm_ci,$(BROWSER_DIR),tests/browser)
	@touch $@

browser-test: deps $(BUILD)/filterd $(BUILD)/filterctl $(BROWSER_MODULES)
	FILTERD=$(abspath $(BUILD)/filterd) SCREENSHOTS=$(abspath $(BUILD)/screenshots) \
	    NODE_PATH=$(abspath $(BROWSER_DIR)/node_modules) \
	    timeout -k 10 1800 node --test tests/browser/console.test.js

# make install into a staging tree, then the installed daemon, unit, man pages.
install-test: all
	@sh tests/install_test.sh $(BUILD)

# Unit tests run from the repository root (they read tests/data, wordlists).
unit-test: deps $(UNIT_BIN) $(BUILD)/filterctl
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done
	@sh tests/cli_test.sh $(BUILD)/filterctl
	@sh tests/eval_test.sh $(BUILD)/filterctl

asan-test: deps
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	        SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" unit-test integration-test

test: all layout-test unit-test integration-test install-test client-test browser-test asan-test \
      fuzz-smoke

# libFuzzer harnesses (tests/fuzz/README.md), built with clang under ASan/UBSan in
# build-fuzz/. make fuzz runs each for FUZZ_SECONDS; make test runs each for
# FUZZ_SMOKE seconds so that CI exercises them.
FUZZ_TARGETS = request reply wordlist config scan jsonl csv http zmtp
FUZZ_SECONDS ?= 600
FUZZ_SMOKE   ?= 10
FUZZ_BUILD    = build-fuzz
FUZZ_FLAGS    = BUILD=$(FUZZ_BUILD) CC=clang OPT="-O1 -g -fno-omit-frame-pointer" \
                SAN="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all"

$(BUILD)/fuzz/fuzz_%: $(call obj,tests/fuzz/fuzz_%.c filterd/settings.c client/filterctl/jsonl.c \
                        client/filterctl/csv.c) $(ENGINE_LIB) $(WIRE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer $^ -o $@ $(LDLIBS)

# The HTTP front door's body parser (filterd/httpjson.c).
$(BUILD)/fuzz/fuzz_http: $(call obj,tests/fuzz/fuzz_http.c filterd/httpjson.c)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer $^ -o $@ $(LDLIBS)

# The ZMTP codec (wire/zmtp.c).
$(BUILD)/fuzz/fuzz_zmtp: $(call obj,tests/fuzz/fuzz_zmtp.c wire/zmtp.c)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer $^ -o $@ $(LDLIBS)

fuzz-bins: deps $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)

fuzz: deps
	$(MAKE) $(FUZZ_FLAGS) fuzz-bins
	sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: deps
	$(MAKE) $(FUZZ_FLAGS) fuzz-bins
	sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SMOKE) $(FUZZ_TARGETS)

# The big list (50,000+ terms) is generated, not committed: bench/mklist.sh.
bench-engine: deps $(BUILD)/bench/bench_engine
	sh bench/mklist.sh $(BUILD)/biglist
	$(BUILD)/bench/bench_engine --lists $(BUILD)/biglist bench/data/posts.txt

# filterd vs filterd --echo, echod and the baseline filterd of commit BENCH_BASE
# (built into build/bench/base-<rev>; BENCH_BASE= skips it), interleaved; the
# suite writes bench/results/<time>/.
BENCH_BASE ?= 5db5c22
BENCH_DEPS = deps $(BUILD)/filterd $(BUILD)/filterctl $(BUILD)/bench/filterbench $(BUILD)/bench/echod \
             $(BUILD)/bench/bench_engine $(BUILD)/bench/linkbench $(NODE_MODULES)
bench-service: $(BENCH_DEPS)
	BENCH_BASE=$(BENCH_BASE) sh bench/run.sh --service

bench: $(BENCH_DEPS)
	BENCH_BASE=$(BENCH_BASE) sh bench/run.sh --full

bench-quick: $(BENCH_DEPS)
	BENCH_BASE=$(BENCH_BASE) sh bench/run.sh --quick

# 60 s at 80% of the maximum, a reload every 5 s, a worker killed every 10 s.
bench-soak: $(BENCH_DEPS) $(BUILD)/filterctl
	python3 bench/soak.py

# The quick start: the daemon in the foreground on the default config and lists.
run: all
	$(BUILD)/filterd --config config/filterd.conf

explain: all
	$(BUILD)/filterctl explain --lists wordlists "加我微信 abc12345 领红包，發票代開，ｆ.u.c.k"

clean:
	rm -rf build build-asan build-fuzz

# ---- install ---------------------------------------------------------------
# The paths are baked into these files: rebuild them when one changes.
PATHS = $(VERSION) $(PREFIX) $(BINDIR) $(SBINDIR) $(LIBDIR) $(INCLUDEDIR) $(DATADIR) \
        $(SYSCONFDIR) $(LOCALSTATEDIR) $(RUNSTATEDIR)
$(BUILD)/paths: FORCE
	@mkdir -p $(BUILD)
	@echo '$(PATHS)' | cmp -s - $@ || echo '$(PATHS)' > $@

$(BUILD)/dist/%: dist/%.in $(BUILD)/paths
	@mkdir -p $(dir $@)
	$(SUBST) $< > $@
$(BUILD)/man/%: man/%.in $(BUILD)/paths
	@mkdir -p $(dir $@)
	$(SUBST) $< > $@
# filterd.conf(5): the page's frame, and every setting as config/filterd.conf documents it.
$(BUILD)/man/filterd.conf.5: man/filterd.conf.5.in config/filterd.conf scripts/conf2man.awk \
                             $(BUILD)/paths
	@mkdir -p $(dir $@)
	$(SUBST) man/filterd.conf.5.in | awk -f scripts/conf2man.awk config/filterd.conf - > $@
# The installed configuration: the repository's, with the installed paths.
$(BUILD)/dist/filterd.conf: config/filterd.conf scripts/install-conf.sh $(BUILD)/paths
	@mkdir -p $(dir $@)
	sh scripts/install-conf.sh config/filterd.conf $(LOCALSTATEDIR) $(RUNSTATEDIR) > $@

HEADERS = engine/engine.h engine/errors.h engine/fold.h engine/taxonomy.h wire/wire.h \
          client/fclient.h

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR) \
	    $(DESTDIR)$(INCLUDEDIR)/filterd $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(DATADIR)/filterd \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(SYSCONFDIR)/filterd $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(TMPFILESDIR)
	install -m 755 $(BUILD)/filterd $(DESTDIR)$(SBINDIR)/filterd
	install -m 755 $(BUILD)/filterctl $(DESTDIR)$(BINDIR)/filterctl
	install -m 644 $(ENGINE_LIB) $(WIRE_LIB) $(CLIENT_LIB) $(DESTDIR)$(LIBDIR)
	install -m 644 $(HEADERS) $(DESTDIR)$(INCLUDEDIR)/filterd
	install -m 644 $(BUILD)/dist/filterd.pc $(BUILD)/dist/filterd-engine.pc $(DESTDIR)$(PKGCONFIGDIR)
	rm -rf $(DESTDIR)$(DATADIR)/filterd/wordlists
	cp -R wordlists $(DESTDIR)$(DATADIR)/filterd/wordlists
	chmod -R u=rwX,go=rX $(DESTDIR)$(DATADIR)/filterd/wordlists
	install -m 644 $(BUILD)/man/filterctl.1 $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(BUILD)/man/filterd.conf.5 $(DESTDIR)$(MANDIR)/man5
	install -m 644 $(BUILD)/man/filterd.8 $(DESTDIR)$(MANDIR)/man8
	@# an operator's edited configuration is kept; the new one goes beside it
	if [ -e $(DESTDIR)$(SYSCONFDIR)/filterd/filterd.conf ]; then \
	    install -m 644 $(BUILD)/dist/filterd.conf $(DESTDIR)$(SYSCONFDIR)/filterd/filterd.conf.new; \
	else install -m 644 $(BUILD)/dist/filterd.conf $(DESTDIR)$(SYSCONFDIR)/filterd/filterd.conf; fi
	install -m 644 $(BUILD)/dist/filterd.service $(DESTDIR)$(UNITDIR)/filterd.service
	install -m 644 dist/filterd.sysusers $(DESTDIR)$(SYSUSERSDIR)/filterd.conf
	install -m 644 $(BUILD)/dist/filterd.tmpfiles $(DESTDIR)$(TMPFILESDIR)/filterd.conf
	@if [ -z "$(DESTDIR)" ]; then \
	    echo "systemd-sysusers, systemd-tmpfiles: the filterd user and its folders"; \
	    systemd-sysusers $(SYSUSERSDIR)/filterd.conf && \
	    systemd-tmpfiles --create $(TMPFILESDIR)/filterd.conf && \
	    if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
	fi
