# Fuzzing: the library is compiled once with the fuzzing flags into
# $(BUILD)/fuzz/liblockshell.a and every tests/fuzz/fuzz-NAME.c is linked
# against it. `make fuzz-smoke` runs each target for FUZZ_SMOKE_TIME seconds
# from its corpus (tests/fuzz/corpus/NAME), with tests/fuzz/NAME.dict when
# there is one, and fails on any crash, leak or timeout. docs/fuzzing.md describes the targets.

FUZZ_SMOKE_TIME ?= 30
FUZZ_TIMEOUT	?= 10
FUZZ_OBJ	:= $(LIB_SRC:%.c=$(BUILD)/fuzz/obj/%.o)
FUZZ_LIB	:= $(BUILD)/fuzz/liblockshell.a
FUZZ_OPTS	= -timeout=$(FUZZ_TIMEOUT) -rss_limit_mb=2048 -print_final_stats=1

.PHONY: fuzz-build fuzz-smoke

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

# A shorter stem than the Makefile's $(BUILD)/fuzz/% rule, so this one wins:
# targets link the archive instead of compiling every source again.
$(BUILD)/fuzz/fuzz-%: tests/fuzz/fuzz-%.c $(FUZZ_LIB)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -MMD -MP -o $@ $< $(filter %.o,$^) $(FUZZ_LIB) $(PKG_LIBS)

# The command-line parsers live outside the library.
$(BUILD)/fuzz/fuzz-cli: $(BUILD)/fuzz/obj/src/cli/options.o

fuzz-build: $(FUZZ_BIN)

# One line per target: "fuzz-smoke NAME: passed (...)" or "... FAILED (...)".
# Each target is its own rule, so `make -jN fuzz-smoke` runs N at once.
FUZZ_SMOKE := $(FUZZ_BIN:$(BUILD)/fuzz/fuzz-%=fuzz-smoke/%)
.PHONY: $(FUZZ_SMOKE)

fuzz-smoke: $(FUZZ_SMOKE)

$(FUZZ_SMOKE): fuzz-smoke/%: $(BUILD)/fuzz/fuzz-%
	@name=$*; f=$<; work=$(BUILD)/fuzz/smoke-$$name; \
	rm -rf $$work; mkdir -p $$work/corpus; dict=; \
	[ -f tests/fuzz/$$name.dict ] && dict=-dict=tests/fuzz/$$name.dict; \
	if $$f $(FUZZ_OPTS) $$dict -max_total_time=$(FUZZ_SMOKE_TIME) \
		-artifact_prefix=$$work/ $$work/corpus tests/fuzz/corpus/$$name \
		>$$work/log 2>&1; then result=passed; \
	else result=FAILED; tail -n 40 $$work/log; fi; \
	stats=$$(grep -E '^#[0-9]+.*(DONE|cov:)' $$work/log | tail -n 1 | \
		grep -oE 'cov: [0-9]+ ft: [0-9]+'); \
	runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$work/log); \
	echo "fuzz-smoke $$name: $$result ($${runs:-0} runs, $${stats:-no coverage}, log $$work/log)"; \
	[ $$result = passed ]
