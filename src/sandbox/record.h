/* The state document of one sandbox (state.json, described in sandbox.h):
 * building it, its status transitions, the processes it records, and the
 * summary that list and get show. Internal to src/sandbox/. */
#pragma once

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox/sandbox.h"

#define STATUS_CREATING "creating"
#define STATUS_RUNNING	"running"
#define STATUS_EXITED	"exited"
#define STATUS_DELETING "deleting"
#define STATE_STOPPED	"stopped"

/* A process the record names: "supervisor" or "main". */
struct record_process {
	pid_t pid;
	uint64_t start_time;
};

/* A new record, status creating, naming this process as its supervisor.
 * NULL when out of memory. */
json_t *record_new(const char *name, const struct sandbox_spec *spec);
/* Stores the policy as written and the effective policy; -ENOMEM. */
int record_set_policy(json_t *rec, const struct effective *eff);
int record_set_name(json_t *rec, const char *name);
int record_set_status(json_t *rec, const char *status);
/* Status running, with the supervisor's and the main process's pids and
 * start times; -ESRCH when either is already gone. */
int record_set_running(json_t *rec, pid_t supervisor, pid_t main_pid);
/* Status exited with the main process's exit code and the time. */
int record_set_exited(json_t *rec, int exit_code);

const char *record_status(const json_t *rec);
/* -ENOENT when the record names no such process (yet). */
int record_process(const json_t *rec, const char *which, struct record_process *ret);
/* What users see: the status, except "stopped" for any status but exited
 * whose supervisor no longer lives. */
const char *record_state(const json_t *rec);

/* name, state, main_pid, supervisor_pid, created, gpu, network, command,
 * workdir, exit_code (exited only). New reference; NULL without memory. */
json_t *record_summary(const json_t *rec);
