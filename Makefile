# filterd -- build, test and benchmark.
#
#   make              build everything (installs missing Debian packages as root)
#   make run          build, then run filterd on config/filterd.conf and wordlists/
#   make test         unit and integration tests, then again under ASan/UBSan
#   make bench-engine engine throughput against raw hs_scan
#   make bench-service filterd against its echo baseline (closed and open loop)
#   make bench        the whole benchmark suite and its report (bench-quick: ~1 min)
#   make explain      the quick start: explain a sample text with the default lists

BUILD    ?= build
CC       ?= cc
OPT      ?= -O2 -g
SAN      ?=
PKGS      = libhs icu-uc icu-i18n libzmq msgpack libcjson
WARN      = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-missing-field-initializers
CFLAGS   += -std=c11 -D_POSIX_C_SOURCE=200809L $(OPT) $(WARN) $(SAN) -Ifilterd -Iclient -Itests \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lstdc++ -lm -lpthread
TEST_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

ENGINE_SRC = filterd/taxonomy.c filterd/errors.c filterd/strutil.c filterd/config.c filterd/fold.c \
             filterd/wordlist.c filterd/validate.c filterd/engine.c
# filterd/*.c compile into $(BUILD)/obj/filterd/: $(BUILD)/filterd is the daemon.
ENGINE_OBJ = $(ENGINE_SRC:%.c=$(BUILD)/obj/%.o)
ENGINE_LIB = $(BUILD)/libfilterengine.a

CLIENT_SRC = client/fclient.c
CLIENT_OBJ = $(CLIENT_SRC:%.c=$(BUILD)/%.o)
CLIENT_LIB = $(BUILD)/libfilterclient.a

DAEMON_SRC = filterd/filterd.c filterd/broker.c filterd/slots.c filterd/admin.c filterd/worker.c \
             filterd/helper.c filterd/proto.c filterd/log.c filterd/stats.c
DAEMON_OBJ = $(DAEMON_SRC:%.c=$(BUILD)/obj/%.o)

CTL_SRC  = client/filterctl.c client/jsonout.c client/cmd_offline.c client/cmd_online.c \
           client/cmd_eval.c client/csv.c client/cliopt.c
CTL_OBJ  = $(CTL_SRC:%.c=$(BUILD)/%.o)

UNIT     = test_taxonomy test_config test_fold test_wordlist test_engine test_robust test_fclient test_rules
UNIT_BIN = $(UNIT:%=$(BUILD)/tests/%)

INTEG_BIN = $(BUILD)/tests/integration_test
# secs: the whole integration run, daemons included
INTEG_TIMEOUT = 600

BINS     = $(BUILD)/filterd $(CLIENT_LIB) $(INTEG_BIN) $(BUILD)/filterctl $(BUILD)/bench/bench_engine $(UNIT_BIN) \
           $(BUILD)/bench/filterbench $(BUILD)/bench/echod

.PHONY: all run deps test unit-test integration-test asan-test bench-engine explain clean \
        bench bench-quick bench-service
all: deps $(BINS)

# Keep the objects of pattern-rule chains (tests, bench) instead of deleting them.
.SECONDARY:

# Installs missing packages when root, otherwise names them and stops.
deps:
	@sh scripts/deps.sh

$(BUILD)/%.o: %.c $(wildcard filterd/*.h client/*.h tests/*.h bench/*.h) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.c $(wildcard filterd/*.h) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(ENGINE_LIB): $(ENGINE_OBJ)
	$(AR) rcs $@ $^

# The daemon: supervisor, broker, workers and reload helper in one binary.
$(BUILD)/filterd: $(DAEMON_OBJ) $(ENGINE_LIB)
	@if [ -d $@ ]; then rm -rf $@; fi  # objects of an older layout
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(CLIENT_LIB): $(CLIENT_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/filterctl: $(CTL_OBJ) $(CLIENT_LIB) $(ENGINE_LIB)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/bench/bench_engine: $(BUILD)/bench/bench_engine.o $(BUILD)/bench/posts.o $(ENGINE_LIB)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# Load generator (closed / open loop) and the no-broker echo floor: bench/README.md.
$(BUILD)/bench/filterbench: $(BUILD)/bench/filterbench.o $(BUILD)/bench/hist.o $(BUILD)/bench/posts.o $(CLIENT_LIB) $(ENGINE_LIB)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/bench/echod: $(BUILD)/bench/echod.o
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/tests/testutil.o $(ENGINE_LIB)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) $(TEST_LIBS)

# The client library against a scripted server (no daemon needed).
$(BUILD)/tests/test_fclient: $(BUILD)/tests/test_fclient.o $(CLIENT_LIB)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) $(TEST_LIBS)

# The real daemon through the real client, in temporary run dirs (tests/integration_test.c).
$(INTEG_BIN): $(BUILD)/tests/integration_test.o $(CLIENT_LIB) $(ENGINE_LIB)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) $(TEST_LIBS)

integration-test: deps $(INTEG_BIN) $(BUILD)/filterd $(BUILD)/filterctl
	timeout -k 10 $(INTEG_TIMEOUT) $(INTEG_BIN) $(BUILD)/filterd $(BUILD)/filterctl

# Unit tests run from the repository root (they read tests/data, wordlists).
unit-test: deps $(UNIT_BIN) $(BUILD)/filterctl
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done
	@sh tests/cli_test.sh $(BUILD)/filterctl
	@sh tests/eval_test.sh $(BUILD)/filterctl

asan-test: deps
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	        SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" unit-test integration-test

test: all unit-test integration-test asan-test

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
	rm -rf build build-asan
