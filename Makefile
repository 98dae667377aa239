# filterd -- build, test and benchmark.
#
#   make              build everything (installs missing Debian packages as root)
#   make run          build, then run filterd on config/filterd.conf and wordlists/
#   make test         unit and integration tests, then again under ASan/UBSan
#   make bench-engine engine throughput against raw hs_scan
#   make bench-service filterd against its echo baseline (closed and open loop)
#   make bench        the whole benchmark suite and its report (bench-quick: ~1 min)
#   make explain      the quick start: explain a sample text with the default lists
#   make fuzz         each libFuzzer harness of tests/fuzz for FUZZ_SECONDS (default 600)
#
# The folders are the architecture (docs/ARCHITECTURE.md), and each gets only
# the include paths of what it may use:
#   engine/          -> (nothing of ours)          libfilterengine.a
#   wire/            -> (nothing of ours)          libfilterwire.a
#   client/          -> wire                       libfilterclient.a
#   filterd/         -> engine, wire               the daemon
#   client/filterctl -> client, wire, engine, and filterd's settings.h and answer.h
# tests/layout_test.py checks the arrows, the include graph and the size of every file.

BUILD    ?= build
CC       ?= cc
OPT      ?= -O2 -g
SAN      ?=
PKGS      = libhs icu-uc icu-i18n libzmq msgpack libcjson
WARN      = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-missing-field-initializers
CFLAGS   += -std=c11 -D_POSIX_C_SOURCE=200809L $(OPT) $(WARN) $(SAN) -MMD -MP \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lstdc++ -lm -lpthread
TEST_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

# Include paths by folder (pattern-specific, so an object sees only its arrows).
$(BUILD)/obj/engine/%.o:           INC = -Iengine
$(BUILD)/obj/wire/%.o:             INC = -Iwire
$(BUILD)/obj/client/%.o:           INC = -Iclient -Iwire
$(BUILD)/obj/client/filterctl/%.o: INC = -Iclient/filterctl -Iclient -Iwire -Iengine -Ifilterd
$(BUILD)/obj/filterd/%.o:          INC = -Ifilterd -Iengine -Iwire
$(BUILD)/obj/bench/%.o:            INC = -Ibench -Iengine -Iclient -Iwire
$(BUILD)/obj/tests/%.o:            INC = -Itests -Iengine -Iwire -Iclient -Ifilterd
$(BUILD)/obj/tests/fuzz/%.o:       INC = -Iengine -Iwire -Iclient/filterctl -Ifilterd

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

ENGINE_LIB = $(BUILD)/libfilterengine.a
WIRE_LIB   = $(BUILD)/libfilterwire.a
CLIENT_LIB = $(BUILD)/libfilterclient.a
ENGINE_OBJ = $(call obj,$(wildcard engine/*.c))
WIRE_OBJ   = $(call obj,$(wildcard wire/*.c))
CLIENT_OBJ = $(call obj,$(wildcard client/*.c))
DAEMON_OBJ = $(call obj,$(wildcard filterd/*.c))
CTL_OBJ    = $(call obj,$(wildcard client/filterctl/*.c))
# filterctl's offline commands run the daemon's own settings and answer code.
CTL_SHARED = $(call obj,filterd/settings.c filterd/answer.c)

UNIT     = test_taxonomy test_settings test_fold test_wordlist test_engine test_robust \
           test_fclient test_rules test_wire test_cache
UNIT_BIN = $(UNIT:%=$(BUILD)/tests/%)

INTEG_BIN = $(BUILD)/tests/integration_test
# secs: the whole integration run, daemons included
INTEG_TIMEOUT = 600

BINS     = $(BUILD)/filterd $(CLIENT_LIB) $(INTEG_BIN) $(BUILD)/filterctl \
           $(BUILD)/bench/bench_engine $(UNIT_BIN) $(BUILD)/bench/filterbench $(BUILD)/bench/echod

.PHONY: all run deps test unit-test integration-test asan-test bench-engine explain clean \
        bench bench-quick bench-service layout-test fuzz fuzz-smoke fuzz-bins
all: deps $(BINS)

# Keep the objects of pattern-rule chains (tests, bench) instead of deleting them.
.SECONDARY:

# Installs missing packages when root, otherwise names them and stops.
deps:
	@sh scripts/deps.sh

$(BUILD)/obj/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC) -c $< -o $@

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

$(ENGINE_LIB): $(ENGINE_OBJ)
	$(AR) rcs $@ $^
$(WIRE_LIB): $(WIRE_OBJ)
	$(AR) rcs $@ $^
$(CLIENT_LIB): $(CLIENT_OBJ)
	$(AR) rcs $@ $^

# The daemon: supervisor, broker, workers and reload helper in one binary.
$(BUILD)/filterd: $(DAEMON_OBJ) $(ENGINE_LIB) $(WIRE_LIB)
	@if [ -d $@ ]; then rm -rf $@; fi  # objects of an older layout
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

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

$(BUILD)/bench/echod: $(call obj,bench/echod.c)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# Unit tests: the engine's, the wire module's, the daemon's settings.
$(BUILD)/tests/%: $(call obj,tests/%.c tests/testutil.c tests/tu_msgpack.c filterd/settings.c) \
                 $(ENGINE_LIB) $(WIRE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) $(TEST_LIBS)

# The client library against a scripted server (no daemon needed).
$(BUILD)/tests/test_fclient: $(call obj,tests/test_fclient.c) $(CLIENT_LIB) $(WIRE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) $(TEST_LIBS)

# The real daemon through the real client, in temporary run dirs (tests/integration_test.c).
$(INTEG_BIN): $(call obj,tests/integration_test.c tests/tu_msgpack.c) $(CLIENT_LIB) $(WIRE_LIB) $(ENGINE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) $(TEST_LIBS)

integration-test: deps $(INTEG_BIN) $(BUILD)/filterd $(BUILD)/filterctl
	timeout -k 10 $(INTEG_TIMEOUT) $(INTEG_BIN) $(BUILD)/filterd $(BUILD)/filterctl

layout-test:
	@python3 tests/layout_test.py

# Unit tests run from the repository root (they read tests/data, wordlists).
unit-test: deps $(UNIT_BIN) $(BUILD)/filterctl
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done
	@sh tests/cli_test.sh $(BUILD)/filterctl
	@sh tests/eval_test.sh $(BUILD)/filterctl

asan-test: deps
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	        SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" unit-test integration-test

test: all layout-test unit-test integration-test asan-test fuzz-smoke

# libFuzzer harnesses (tests/fuzz/README.md), built with clang under ASan/UBSan in
# build-fuzz/. make fuzz runs each for FUZZ_SECONDS; make test runs each for
# FUZZ_SMOKE seconds so that CI exercises them.
FUZZ_TARGETS = request reply wordlist config scan jsonl csv
FUZZ_SECONDS ?= 600
FUZZ_SMOKE   ?= 10
FUZZ_BUILD    = build-fuzz
FUZZ_FLAGS    = BUILD=$(FUZZ_BUILD) CC=clang OPT="-O1 -g -fno-omit-frame-pointer" \
                SAN="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all"

$(BUILD)/fuzz/fuzz_%: $(call obj,tests/fuzz/fuzz_%.c filterd/settings.c client/filterctl/jsonl.c \
                        client/filterctl/csv.c) $(ENGINE_LIB) $(WIRE_LIB)
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

# filterd vs filterd --echo, interleaved; the suite writes bench/results/<time>/.
BENCH_DEPS = deps $(BUILD)/filterd $(BUILD)/bench/filterbench $(BUILD)/bench/echod \
             $(BUILD)/bench/bench_engine
bench-service: $(BENCH_DEPS)
	sh bench/run.sh --service

bench: $(BENCH_DEPS)
	sh bench/run.sh --full

bench-quick: $(BENCH_DEPS)
	sh bench/run.sh --quick

# The quick start: the daemon in the foreground on the default config and lists.
run: all
	$(BUILD)/filterd --config config/filterd.conf

explain: all
	$(BUILD)/filterctl explain --lists wordlists "加我微信 abc12345 领红包，發票代開，ｆ.u.c.k"

clean:
	rm -rf build build-asan build-fuzz
