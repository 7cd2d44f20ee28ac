# Static analysis of src/ (the build-time generators of src/tools/ included):
# cppcheck, and clang-tidy with the checks of .clang-tidy. Each fails on any
# finding. `make analyze` runs both; scripts/check.d/20-static-analysis.sh
# runs them as checks of `make check`. A finding that is a tool's mistake is
# silenced on its line (// NOLINT(check) or // cppcheck-suppress id) with the
# reason next to it.

ANALYZE_SRC	:= $(sort $(shell find src -name '*.c'))
ANALYZE_FLAGS	= -std=gnu17 -D_GNU_SOURCE -Isrc -I$(GEN) $(PKG_CFLAGS)
CPPCHECK	?= cppcheck
CLANG_TIDY	?= clang-tidy
# One target per file, so that `make -jN clang-tidy` runs N at once.
TIDY_TARGETS	:= $(ANALYZE_SRC:%=clang-tidy/%)

.PHONY: analyze cppcheck clang-tidy $(TIDY_TARGETS)

analyze: cppcheck clang-tidy

cppcheck: $(SECCOMP_BPF)
	$(CPPCHECK) --quiet --error-exitcode=1 --inline-suppr --suppressions-list=mk/cppcheck.supp --std=c11 \
		--enable=warning,style,performance,portability -D_GNU_SOURCE \
		-Isrc -I$(GEN) \
		--template='{file}:{line}:{column}: {severity}: {message} [{id}]' $(ANALYZE_SRC)

clang-tidy: $(TIDY_TARGETS)

# seccomp_load.c includes the generated filter; every file waits for it, as
# a finding in a half-built tree would say nothing.
$(TIDY_TARGETS): clang-tidy/%: % $(SECCOMP_BPF)
	@out=$$($(CLANG_TIDY) --quiet $< -- $(ANALYZE_FLAGS) 2>&1); rc=$$?; \
	printf '%s\n' "$$out" | grep -v -E '^([0-9]+ warnings? (and [0-9]+ errors? )?generated\.)?$$'; \
	exit $$rc
