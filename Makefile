# lockshell — GNU Make build. `make` builds build/lockshell; `make check` runs
# every test suite; `make demo` runs lockshell on its built-in default policy.

CC	?= cc
BUILD	?= build
PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
PYTHON	?= /usr/bin/python3

PKGS	:= yaml-0.1 libseccomp jansson libcap
WARN	:= -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes
CFLAGS	?= -O2 -g
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
GEN	:= $(BUILD)/gen
ALL_CFLAGS = -std=gnu17 $(WARN) $(CFLAGS) -D_GNU_SOURCE -Isrc -I$(GEN) $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS)

# The lockshell binary needs no libseccomp (its filter is compiled in at
# build time, below), and links the other libraries statically when their
# archives are installed (Debian's -dev packages ship them): each start then
# loads and relocates libc alone.
BIN_PKGS := yaml-0.1 jansson libcap
BIN_LIBS := $(shell pkg-config --libs $(BIN_PKGS) 2>/dev/null)
BIN_ARCHIVES := $(foreach l,yaml jansson cap,$(shell $(CC) -print-file-name=lib$(l).a))
ifeq ($(filter-out /%,$(BIN_ARCHIVES)),)
BIN_LIBS := -Wl,-Bstatic $(BIN_LIBS) -Wl,-Bdynamic
endif
# STATIC=1 (the default, when libc.a is installed): lockshell is linked
# statically as a whole, so no dynamic loader runs at each start (about a
# third of `policy check`'s time on a small VM). It looks users and groups
# up in /etc/passwd and /etc/group itself, never through NSS, so a static
# glibc loads nothing at run time. The sanitizer build and valgrind's
# lockshell-dynamic use the dynamic link.
STATIC	?= 1
BIN_DYNAMIC_LIBS := $(BIN_LIBS)
ifeq ($(STATIC)$(filter-out /%,$(shell $(CC) -print-file-name=libc.a)),1)
BIN_LIBS := -static $(shell pkg-config --libs $(BIN_PKGS) 2>/dev/null)
endif

# src/tools/ holds build-time generators, not part of lockshell.
SRC	:= $(sort $(shell find src -name '*.c' -not -path 'src/tools/*'))
LIB_SRC	:= $(filter-out src/cli/%,$(SRC))
CLI_SRC	:= $(filter src/cli/%,$(SRC))
LIB_OBJ	:= $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ	:= $(CLI_SRC:%.c=$(BUILD)/%.o)
LIB	:= $(BUILD)/liblockshell.a
BIN	:= $(BUILD)/lockshell

UNIT_SRC   := $(sort $(wildcard tests/unit/test-*.c))
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
PROBE_SRC  := $(sort $(wildcard tests/probes/*.c))
PROBE_BIN  := $(PROBE_SRC:tests/probes/%.c=$(BUILD)/probes/%)
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz-*.c))

.PHONY: all deps deps-check check unit integration demo install format fuzz clean tests-build

all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(BIN_LIBS)

$(BUILD)/lockshell-dynamic: $(CLI_OBJ) $(LIB)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(BIN_DYNAMIC_LIBS)

# The seccomp filter as a BPF program, compiled by libseccomp from the rules
# table of src/enforce/seccomp.c for the build's architecture.
SECCOMP_BPF := $(GEN)/seccomp-bpf.h
SECCOMP_GEN := $(BUILD)/tools/seccomp-bpf-gen
SECCOMP_GEN_OBJ := $(addprefix $(BUILD)/src/,tools/seccomp-bpf-gen.o enforce/seccomp.o \
	base/error.o base/log.o)

$(BUILD)/src/enforce/seccomp_load.o $(BUILD)/fuzz/obj/src/enforce/seccomp_load.o: $(SECCOMP_BPF)

$(SECCOMP_GEN): $(SECCOMP_GEN_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(SECCOMP_BPF): $(SECCOMP_GEN)
	@mkdir -p $(@D)
	$< > $@.tmp && mv $@.tmp $@

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(ALL_LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS) -lcmocka

# Probes are small programs run inside the sandbox; they report an errno.
# Some are static so they run where no library path is readable.
$(BUILD)/probes/%: tests/probes/%.c
	@mkdir -p $(@D)
	$(CC) -std=gnu17 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $< -lpthread

tests-build: $(BIN) $(UNIT_BIN) $(PROBE_BIN)

deps:
	scripts/deps.sh install

deps-check:
	@scripts/deps.sh check

check: deps-check
	@$(MAKE) --no-print-directory tests-build
	@BUILD=$(BUILD) PYTHON=$(PYTHON) scripts/run-tests.sh

unit: $(UNIT_BIN)
	@BUILD=$(BUILD) PYTHON=$(PYTHON) scripts/run-tests.sh unit

integration: tests-build
	@BUILD=$(BUILD) PYTHON=$(PYTHON) scripts/run-tests.sh integration

demo: deps-check
	@$(MAKE) --no-print-directory $(BIN)
	@BUILD=$(BUILD) scripts/demo.sh

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/lockshell

format:
	clang-format -i $(SRC) $(shell find src -name '*.h') $(UNIT_SRC) $(PROBE_SRC) $(FUZZ_SRC)

# libFuzzer targets: clang with ASan and UBSan. FUZZ_TIME seconds each.
FUZZ_TIME ?= 60
FUZZ_CFLAGS = -std=gnu17 -O1 -g -D_GNU_SOURCE -Isrc -I$(GEN) $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(SECCOMP_BPF)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRC) $(PKG_LIBS)

fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do \
		name=$${f##*/fuzz-}; mkdir -p $(BUILD)/fuzz/corpus-$$name; \
		echo "fuzzing $$name for $(FUZZ_TIME)s"; \
		$$f -max_total_time=$(FUZZ_TIME) -print_final_stats=1 $(BUILD)/fuzz/corpus-$$name tests/fuzz/corpus/$$name || exit 1; \
	done

clean:
	rm -rf $(BUILD)

# Further targets (sanitizers, static analysis, fuzzing), one file each.
-include $(sort $(wildcard mk/*.mk))

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
