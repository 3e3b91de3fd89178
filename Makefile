# ledgerd — verifiable evidence ledger.  See README.md.
#
#   make            build the daemon, the client and the tests
#   make run        install what is missing, build, start ledgerd on 127.0.0.1:8080
#                   (LISTEN=HOST:PORT for another address)
#   make test       install what is missing, build, run every test
#   make SANITIZE=1 test   the same under AddressSanitizer + UBSan (in build/san)
#   make test-valgrind     the client's end-to-end tests with ledgerctl under valgrind
#   make bench      build the benchmarks (run them from build/bench/)
#   make fuzz       build the libFuzzer harnesses (clang, ASan + UBSan) and
#                   replay each saved corpus, then fuzz briefly
#   make deps       install the Debian packages the build needs (as root)

CC ?= cc
PKGS := openssl lmdb libevent libevent_pthreads libevent_openssl jansson
DEB_PKGS := make gcc pkg-config libssl-dev liblmdb-dev libevent-dev libjansson-dev \
	openssl curl python3 python3-jsonschema python3-yaml python3-cryptography clang libclang-rt-14-dev valgrind \
	nginx nodejs chromium chromium-driver python3-selenium libnss3-tools

ifeq ($(SANITIZE),1)
BUILD ?= build/san
# LEDGERD_SANITIZE: the key keeper skips its seccomp allow-list, which the
# sanitizers' own system calls would break (ledgerd/sandbox.h).
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_DEFS := -DLEDGERD_SANITIZE
OPT := -O1 -g
HARDEN :=
else
BUILD ?= build
SAN_FLAGS :=
OPT := -O2 -g
# What Debian's own packages are built with: checked buffer functions,
# stack canaries, a position-independent executable, read-only relocations.
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
HARDEN_LD := -pie -Wl,-z,relro,-z,now
endif

# Quiet by default: one short line per file; `make V=1` shows the commands.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif

# Recursively expanded on purpose: pkg-config runs when a recipe needs it,
# i.e. after `deps` has installed the packages.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter
CFLAGS ?= $(OPT)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(HARDEN) $(SAN_FLAGS) $(SAN_DEFS) -Iinclude \
	$(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS = $(SAN_FLAGS) $(HARDEN_LD) $(LDFLAGS)
LIBS = $(PKG_LIBS) -lpthread

LIB_SRCS := $(wildcard lib/*.c)
DAEMON_SRCS := $(wildcard ledgerd/*.c)
CLIENT_SRCS := $(wildcard client/*.c)
TEST_SRCS := $(wildcard tests/test_*.c)
TEST_SUPPORT_SRCS := $(filter-out $(TEST_SRCS), $(wildcard tests/*.c))
BENCH_SUPPORT_SRCS := bench/events.c
BENCH_SRCS := $(filter-out $(BENCH_SUPPORT_SRCS), $(wildcard bench/*.c))

OBJ := $(BUILD)/obj
LIB_OBJS := $(LIB_SRCS:%.c=$(OBJ)/%.o)
# The supervisor console's files (console/, but not its tests) are compiled
# into the daemon: console/embed.py writes them as C arrays.
CONSOLE_FILES := $(sort $(filter-out console/test/%, \
	$(wildcard console/*.html console/*.css console/js/*.js)))
CONSOLE_GEN := $(BUILD)/gen/console_files.c
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(OBJ)/%.o) $(OBJ)/gen/console_files.o
CLIENT_OBJS := $(CLIENT_SRCS:%.c=$(OBJ)/%.o)
TEST_SUPPORT_OBJS := $(TEST_SUPPORT_SRCS:%.c=$(OBJ)/%.o)
TEST_BINS := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
BENCH_SUPPORT_OBJS := $(BENCH_SUPPORT_SRCS:%.c=$(OBJ)/%.o)
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

LIBLEDGER := $(BUILD)/libledger.a
LEDGERD := $(BUILD)/ledgerd
# The daemon the fault-injection tests run: crash points built in (crash.h).
LEDGERD_FAULTS := $(BUILD)/ledgerd-faults
FAULTS_OBJS := $(filter-out $(OBJ)/ledgerd/crash.o, $(DAEMON_OBJS)) \
	$(OBJ)/ledgerd/crash-faults.o
LEDGERCTL := $(BUILD)/ledgerctl

.PHONY: all build-all test check check-console run deps bench clean fuzz fuzz-build test-valgrind
.DEFAULT_GOAL := all
# Keep the objects of test and benchmark programs: make would otherwise
# delete them as intermediates and rebuild them every time.
.SECONDARY:

all: deps
	@$(MAKE) --no-print-directory build-all

build-all: $(LIBLEDGER) $(if $(DAEMON_SRCS),$(LEDGERD) $(LEDGERD_FAULTS)) \
	$(if $(CLIENT_SRCS),$(LEDGERCTL)) $(TEST_BINS) $(BUILD)/tests/clockshim.so

test: deps
	@$(MAKE) --no-print-directory build-all
	@$(MAKE) --no-print-directory check

# Tests find the programs under test through these.
export LEDGERD_BIN = $(abspath $(LEDGERD))
export LEDGERD_FAULTS_BIN = $(abspath $(LEDGERD_FAULTS))
export LEDGERCTL_BIN = $(abspath $(LEDGERCTL))

# Runs the already built tests; the runner prints `N passed, N failed`.
# Besides the C test programs: the JSON Schema checks, every exchange the C
# tests recorded held against schema/openapi.yaml, the sample configs, and
# the cosignature code held against an independent one (Python's
# cryptography).
check:
	@: > $(BUILD)/responses.jsonl
	@BUILD=$(BUILD) LEDGER_TEST_RECORD=$(abspath $(BUILD))/responses.jsonl tests/run.sh \
		$(TEST_BINS) tests/console_unit.sh tests/console_browser.py \
		tests/schema_check.py tests/openapi_check.py tests/configs/check.sh \
		tests/cosignature_check.py

# The console alone: its verification code under node, then the real
# daemon driven by headless chromium (screenshots in $(BUILD)/console-shots).
check-console:
	@BUILD=$(BUILD) tests/run.sh tests/console_unit.sh tests/console_browser.py

# The client's end-to-end tests with every ledgerctl run under valgrind
# (memory errors and definite leaks fail the run): against the real daemon,
# on compliance bundles, against a lying server, and on mirrors served by
# nginx with witness policies.
test-valgrind: deps
	@$(MAKE) --no-print-directory build-all
	@LEDGER_TEST_VALGRIND=1 BUILD=$(BUILD) tests/run.sh $(BUILD)/tests/test_ctl \
		$(BUILD)/tests/test_bundle $(BUILD)/tests/test_malicious \
		$(BUILD)/tests/test_mirror

# LISTEN=HOST:PORT picks another address (plain HTTP: loopback only).
LISTEN ?= 127.0.0.1:8080
run: deps
	@$(MAKE) --no-print-directory build-all
	$(LEDGERD) serve --data var --listen $(LISTEN)

bench: deps
	@$(MAKE) --no-print-directory $(BENCH_BINS)

deps:
	@missing=""; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' \
			|| missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq --no-install-recommends $$missing; \
		else \
			echo "missing Debian packages; run:"; \
			echo "  sudo apt-get update && sudo apt-get install -y$$missing"; \
			exit 1; \
		fi; \
	fi

$(LIBLEDGER): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(Q)rm -f $@
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^

$(LEDGERD): $(DAEMON_OBJS) $(LIBLEDGER)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(DAEMON_OBJS) $(LIBLEDGER) $(LIBS)

$(LEDGERD_FAULTS): $(FAULTS_OBJS) $(LIBLEDGER)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(FAULTS_OBJS) $(LIBLEDGER) $(LIBS)

$(OBJ)/ledgerd/crash-faults.o: ledgerd/crash.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -DLEDGERD_FAULT_INJECTION -c -o $@ $<

$(LEDGERCTL): $(CLIENT_OBJS) $(LIBLEDGER)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(CLIENT_OBJS) $(LIBLEDGER) $(LIBS)

$(BUILD)/tests/%: $(OBJ)/tests/%.o $(TEST_SUPPORT_OBJS) $(LIBLEDGER)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(TEST_SUPPORT_OBJS) $(LIBLEDGER) $(LIBS)

# Preloaded into ledgerd by test_faults to step its wall clock back.
$(BUILD)/tests/clockshim.so: tests/shim/clockshim.c
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) -shared -fPIC -O2 -Wall -Werror -o $@ $< -ldl

$(BUILD)/bench/%: $(OBJ)/bench/%.o $(BENCH_SUPPORT_OBJS) $(LIBLEDGER)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(BENCH_SUPPORT_OBJS) $(LIBLEDGER) $(LIBS)

# This one commits through the daemon's own store and indexer.
$(BUILD)/bench/bench_commit: $(OBJ)/bench/bench_commit.o $(BENCH_SUPPORT_OBJS) \
    $(filter-out %/main.o,$(DAEMON_OBJS)) $(LIBLEDGER)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBLEDGER) $(LIBS)

# This one tests a module of the daemon's on its own.
$(BUILD)/tests/test_cosigned: $(OBJ)/tests/test_cosigned.o $(OBJ)/ledgerd/cosigned.o \
    $(TEST_SUPPORT_OBJS) $(LIBLEDGER)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBLEDGER) $(LIBS)

# This one tests the daemon's answer to an append on its own.
$(BUILD)/tests/test_append_answer: $(OBJ)/tests/test_append_answer.o \
    $(filter-out %/main.o,$(DAEMON_OBJS)) $(TEST_SUPPORT_OBJS) $(LIBLEDGER)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBLEDGER) $(LIBS)

# This one tests the daemon's authentication throttle on its own.
$(BUILD)/tests/test_auth_throttle: $(OBJ)/tests/test_auth_throttle.o \
    $(filter-out %/main.o,$(DAEMON_OBJS)) $(TEST_SUPPORT_OBJS) $(LIBLEDGER)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBLEDGER) $(LIBS)

# This one drives the daemon's own store and indexer, and starts a daemon.
$(BUILD)/bench/bench_provenance: $(OBJ)/bench/bench_provenance.o \
    $(filter-out %/main.o,$(DAEMON_OBJS)) $(TEST_SUPPORT_OBJS) $(LIBLEDGER)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBLEDGER) $(LIBS)

# This one tests the daemon's key store and the key keeper's frames in its
# own process.
$(BUILD)/tests/test_keystore: $(OBJ)/tests/test_keystore.o \
    $(filter-out %/main.o,$(DAEMON_OBJS)) $(TEST_SUPPORT_OBJS) $(LIBLEDGER)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBLEDGER) $(LIBS)

# This one times the daemon's keyring, in-process and behind the key keeper.
$(BUILD)/bench/bench_keeper: $(OBJ)/bench/bench_keeper.o $(BENCH_SUPPORT_OBJS) \
    $(filter-out %/main.o,$(DAEMON_OBJS)) $(LIBLEDGER)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBLEDGER) $(LIBS)

# This one starts a daemon and talks to it with the tests' HTTP client.
$(BUILD)/bench/loop_latency: $(OBJ)/bench/loop_latency.o $(TEST_SUPPORT_OBJS) \
    $(LIBLEDGER)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBLEDGER) $(LIBS)

# This one drives the daemon's store, index tail and merges in process.
$(BUILD)/tests/test_tail_index: $(OBJ)/tests/test_tail_index.o \
    $(filter-out %/main.o,$(DAEMON_OBJS)) $(TEST_SUPPORT_OBJS) $(LIBLEDGER)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBLEDGER) $(LIBS)

# This one drives the daemon's store on its own, and starts a daemon.
$(BUILD)/tests/test_tree_store: $(OBJ)/tests/test_tree_store.o \
    $(filter-out %/main.o,$(DAEMON_OBJS)) $(TEST_SUPPORT_OBJS) $(LIBLEDGER)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBLEDGER) $(LIBS)

$(CONSOLE_GEN): console/embed.py $(CONSOLE_FILES)
	@mkdir -p $(@D)
	$(call say,GEN,$@)
	$(Q)python3 console/embed.py $@ $(CONSOLE_FILES)

$(OBJ)/gen/console_files.o: $(CONSOLE_GEN)
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -Iledgerd -c -o $@ $<

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Fuzz harnesses (tests/fuzz/fuzz_*.c): every object built by clang with
# libFuzzer's coverage, ASan and UBSan in FUZZ_BUILD.  Each harness replays
# tests/fuzz/corpus/<name>/ and then fuzzes for at most FUZZ_RUNS inputs or
# FUZZ_SECONDS seconds (tests/fuzz/run.sh).
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS = $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzzers/%)
FUZZ_BUILD ?= build/fuzz
FUZZ_CC ?= clang
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
FUZZ_RUNS ?= 2000
FUZZ_SECONDS ?= 20

fuzz: deps
	@$(MAKE) --no-print-directory CC=$(FUZZ_CC) BUILD=$(FUZZ_BUILD) \
		SAN_FLAGS="$(FUZZ_SAN)" OPT="-O1 -g" HARDEN= HARDEN_LD= fuzz-build
	@tests/fuzz/run.sh -r $(FUZZ_RUNS) -t $(FUZZ_SECONDS) $(FUZZ_BUILD)/fuzzers/fuzz_*

fuzz-build: $(FUZZ_BINS)

# These harnesses drive the daemon's modules directly: all but its main().
FUZZ_DAEMON_BINS = $(BUILD)/fuzzers/fuzz_config $(BUILD)/fuzzers/fuzz_http \
	$(BUILD)/fuzzers/fuzz_http_framing $(BUILD)/fuzzers/fuzz_cosigned \
	$(BUILD)/fuzzers/fuzz_keeper_proto
$(FUZZ_DAEMON_BINS): $(BUILD)/fuzzers/%: $(OBJ)/tests/fuzz/%.o \
		$(filter-out $(OBJ)/ledgerd/main.o,$(DAEMON_OBJS)) $(LIBLEDGER)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

# These harnesses drive the client's modules directly: all but its main().
FUZZ_CLIENT_BINS = $(BUILD)/fuzzers/fuzz_entry_diff $(BUILD)/fuzzers/fuzz_client_http \
	$(BUILD)/fuzzers/fuzz_client_tile
$(FUZZ_CLIENT_BINS): $(BUILD)/fuzzers/%: $(OBJ)/tests/fuzz/%.o \
		$(filter-out $(OBJ)/client/main.o,$(CLIENT_OBJS)) $(LIBLEDGER)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

$(BUILD)/fuzzers/%: $(OBJ)/tests/fuzz/%.o $(LIBLEDGER)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

clean:
	rm -rf build

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
