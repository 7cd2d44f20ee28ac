/* libFuzzer target for the --gpu selection: any text parses to a selection
 * that means what it says or is refused with a message; a selection the fake
 * hosts accept builds an effective policy that survives its stored form. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/gpu-fixtures.h"
#include "policy/effective_load.h"
#include "policy/gpu.h"
#include "policy/loader.h"

#define SELECTION_MAX 4096

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void fail(const char *what, const char *text)
{
	fprintf(stderr, "%s: '%s'\n", what, text);
	abort();
}

/* Indices as a comma list, the form `lockshell --gpu=` takes. */
static void format_indices(const struct gpu_selection *sel, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sel->n_indices && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%u", i ? "," : "",
					sel->indices[i]);
}

/* What a parsed selection must satisfy, checked against the text itself. */
static void check_parsed(const char *text, const struct gpu_selection *sel)
{
	struct gpu_selection again = {0};
	struct error err = {0};
	char buf[GPU_SELECTION_MAX * 11];

	if (!sel->requested)
		fail("a parsed selection is not requested", text);
	if (sel->all) {
		if (*text && strcmp(text, "all") != 0)
			fail("only '' and 'all' select every GPU", text);
		return;
	}
	if (sel->n_indices == 0 || sel->n_indices > GPU_SELECTION_MAX ||
	    strspn(text, "0123456789,") != strlen(text))
		fail("indices parsed from a text that is not a list of numbers", text);
	for (size_t i = 0; i < sel->n_indices; i++)
		for (size_t j = 0; j < i; j++)
			if (sel->indices[i] == sel->indices[j])
				fail("an index is selected twice", text);
	format_indices(sel, buf, sizeof(buf));
	if (gpu_selection_parse(buf, &again, &err) < 0 || again.n_indices != sel->n_indices ||
	    memcmp(again.indices, sel->indices, sel->n_indices * sizeof(sel->indices[0])) != 0)
		fail("the selection does not parse back from its indices", text);
}

/* effective_to_json() -> effective_from_json() -> effective_to_json() is the
 * path from `sandbox create` to `sandbox exec`: nothing may change. */
static void check_stored_form(const struct effective *eff, const char *text)
{
	json_t *doc = effective_to_json(eff), *again_doc = NULL;
	struct effective again = {0};
	struct error err = {0};

	if (!doc)
		fail("effective_to_json failed", text);
	if (effective_from_json(doc, eff->policy, &again, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		fail("the stored effective policy does not load", text);
	}
	again_doc = effective_to_json(&again);
	if (!again_doc || !json_equal(doc, again_doc))
		fail("the stored effective policy changed on reload", text);
	json_decref(again_doc);
	json_decref(doc);
	effective_free(&again);
}

/* The hosts the selection is checked against: sparse GPUs 0, 1 and 3 with
 * MIG capabilities, WSL2 (only /dev/dxg) and no GPU at all. */
static struct fixture *hosts(void)
{
	static struct fixture f[3];
	static bool ready;

	if (ready)
		return f;
	for (size_t i = 0; i < 3; i++)
		fixture_init(&f[i]);
	fixture_nvidia_host(&f[0], 2);
	f[0].host.gpus[f[0].host.n_gpus++] = (struct host_gpu){.index = 3, .pci_bdf = "0000:3b:00.0"};
	fixture_present(&f[0], "/dev/nvidia3");
	fixture_present(&f[0], "/sys/bus/pci/devices/0000:3b:00.0");
	fixture_present(&f[0], "/dev/nvidia-caps/nvidia-cap1");
	fixture_present(&f[0], "/dev/nvidia-caps/nvidia-cap2");
	fixture_wsl_host(&f[1]);
	fixture_plain_host(&f[2]);
	ready = true;
	return f;
}

static void check_on_host(const struct gpu_selection *sel, const struct host *host,
			  const struct policy *policy, const char *text)
{
	struct effective_request req = {.gpu = *sel, .isolate = true, .hostname = "fuzz"};
	struct effective eff = {0};
	struct error err = {0};

	if (gpu_selection_check(sel, host, &err) < 0) {
		if (!err.message[0])
			fail("a selection refused without a message", text);
		return;
	}
	if (effective_build(policy, &req, host, &eff, &err) < 0) {
		if (!err.message[0])
			fail("effective_build failed without a message", text);
		return;
	}
	check_stored_form(&eff, text);
	effective_free(&eff);
}

static const struct policy *default_policy(void)
{
	static struct policy p;
	static bool ready;
	struct diagnostics d = {0};

	if (!ready && policy_load_default(&p, &d) < 0)
		abort();
	diag_free(&d);
	ready = true;
	return &p;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct gpu_selection sel = {0};
	struct error err = {0};
	char text[SELECTION_MAX + 1];
	struct fixture *f = hosts();

	if (size > SELECTION_MAX)
		return -1;
	memcpy(text, data, size);
	text[size] = '\0';
	if (gpu_selection_parse(text, &sel, &err) < 0) {
		if (!err.message[0])
			fail("a selection refused without a message", text);
		return 0;
	}
	check_parsed(text, &sel);
	for (size_t i = 0; i < 3; i++)
		check_on_host(&sel, &f[i].host, default_policy(), text);
	return 0;
}
