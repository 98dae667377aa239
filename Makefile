# filterd -- build, test and benchmark.
#
#   make              build everything (installs missing Debian packages as root)
#   make test         unit and integration tests, then again under ASan/UBSan
#   make bench-engine engine throughput against raw hs_scan
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

ENGINE_SRC = filterd/taxonomy.c filterd/errors.c filterd/config.c filterd/fold.c \
             filterd/wordlist.c filterd/validate.c filterd/engine.c
ENGINE_OBJ = $(ENGINE_SRC:%.c=$(BUILD)/%.o)
ENGINE_LIB = $(BUILD)/libfilterengine.a

CTL_SRC  = client/filterctl.c client/jsonout.c client/cmd_offline.c
CTL_OBJ  = $(CTL_SRC:%.c=$(BUILD)/%.o)

UNIT     = test_taxonomy test_config test_fold test_wordlist test_engine test_robust
UNIT_BIN = $(UNIT:%=$(BUILD)/tests/%)

BINS     = $(BUILD)/filterctl $(BUILD)/bench/bench_engine $(UNIT_BIN)

.PHONY: all deps test unit-test asan-test bench-engine explain clean
all: deps $(BINS)

# Installs missing packages when root, otherwise names them and stops.
deps:
	@sh scripts/deps.sh

$(BUILD)/%.o: %.c $(wildcard filterd/*.h client/*.h tests/*.h) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(ENGINE_LIB): $(ENGINE_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/filterctl: $(CTL_OBJ) $(ENGINE_LIB)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/bench/bench_engine: $(BUILD)/bench/bench_engine.o $(ENGINE_LIB)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/tests/testutil.o $(ENGINE_LIB)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) $(TEST_LIBS)

# Unit tests run from the repository root (they read tests/data, wordlists).
unit-test: deps $(UNIT_BIN) $(BUILD)/filterctl
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done
	@sh tests/cli_test.sh $(BUILD)/filterctl

asan-test: deps
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	        SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" unit-test

test: all unit-test asan-test

# The big list (50,000+ terms) is generated, not committed: bench/mklist.sh.
bench-engine: deps $(BUILD)/bench/bench_engine
	sh bench/mklist.sh $(BUILD)/biglist
	$(BUILD)/bench/bench_engine --lists $(BUILD)/biglist bench/data/posts.txt

explain: all
	$(BUILD)/filterctl explain --lists wordlists "加我微信 abc12345 领红包，發票代開，ｆ.u.c.k"

clean:
	rm -rf build build-asan
