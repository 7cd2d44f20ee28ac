/* libFuzzer target for the policy loader: any input must load or be refused
 * with diagnostics, never crash; an input that loads must survive the
 * canonical round trip (YAML and JSON) unchanged. */
#include <stdio.h>
#include <stdlib.h>

#include "policy/emit.h"
#include "policy/loader.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Emits p in fmt and loads the text again; aborts when the model changed. */
static void check_round_trip(const struct policy *p, enum output_format fmt)
{
	struct diagnostics d = {0};
	struct policy again = {0};
	struct error err = {0};
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	json_t *doc = policy_to_json(p);

	if (!out || !doc || document_emit(doc, fmt, out, &err) < 0 || fclose(out) != 0)
		abort();
	if (policy_load_buffer("<round-trip>", text, len, &again, &d) < 0 ||
	    !policy_equal(p, &again)) {
		fprintf(stderr, "round trip changed the policy:\n%s\n", text);
		abort();
	}
	json_decref(doc);
	policy_free(&again);
	diag_free(&d);
	free(text);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct diagnostics d = {0};
	struct policy p = {0};

	if (policy_load_buffer("<fuzz>", (const char *)data, size, &p, &d) == 0) {
		check_round_trip(&p, FORMAT_YAML);
		check_round_trip(&p, FORMAT_JSON);
		policy_free(&p);
	} else if (d.n_errors == 0) {
		abort(); /* refused without saying why */
	}
	diag_free(&d);
	return 0;
}
