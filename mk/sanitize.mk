# Sanitizer build: the binary, the unit tests and the probes built again by
# clang with AddressSanitizer (LeakSanitizer included) and
# UndefinedBehaviorSanitizer into $(BUILD)/asan. Every sanitized program also
# links tests/sanitize/lsan-exit.c, which extends the leak check to children
# that leave with _exit(2). `make sanitize` runs
# scripts/check.d/10-sanitizers.sh, which builds with `sanitize-build`.

ASAN_BUILD	:= $(BUILD)/asan
SANITIZE_FLAGS	:= -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LSAN_EXIT_OBJ	:= $(ASAN_BUILD)/sanitize/lsan-exit.o

.PHONY: sanitize-build sanitize

# A new hook object is linked only into programs linked after it.
$(LSAN_EXIT_OBJ): tests/sanitize/lsan-exit.c
	@mkdir -p $(@D)
	clang -std=gnu17 $(WARN) -O1 -g $(SANITIZE_FLAGS) -D_GNU_SOURCE -c $< -o $@
	rm -f $(ASAN_BUILD)/lockshell $(ASAN_BUILD)/tools/* $(ASAN_BUILD)/tests/unit/test-*

sanitize-build: $(LSAN_EXIT_OBJ)
	@$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) CC=clang STATIC=0 \
		CFLAGS="-O1 -g $(SANITIZE_FLAGS)" \
		LDFLAGS="-fsanitize=address,undefined $(abspath $(LSAN_EXIT_OBJ))" tests-build

sanitize:
	@BUILD=$(BUILD) PYTHON=$(PYTHON) bash scripts/check.d/10-sanitizers.sh
