/* Emitters: the policy model as canonical JSON (jansson) and YAML (libyaml's
 * emitter, from the same JSON tree so both formats always agree). */
#pragma once

#include <jansson.h>
#include <stdio.h>

#include "base/error.h"
#include "policy/policy.h"

enum output_format { FORMAT_YAML, FORMAT_JSON };
int output_format_parse(const char *s, enum output_format *ret);

/* The canonical form: every key with its default made explicit. New ref. */
json_t *policy_to_json(const struct policy *p);
/* Writes doc as YAML or JSON; -errno with err filled on failure. */
int document_emit(const json_t *doc, enum output_format fmt, FILE *out, struct error *err);
