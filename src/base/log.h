/* Events: one call records a step of lockshell's work. The command line
 * decides where events go (stderr above a threshold, JSON lines to a file);
 * library code only emits them. */
#pragma once

#include <stdbool.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERROR };

/* Parses "debug", "info", "warning"/"warn", "error"; -EINVAL otherwise. */
int log_level_parse(const char *s, enum log_level *ret_level);
const char *log_level_name(enum log_level level);

/* stderr threshold and an optional JSON-lines file descriptor (-1: none). */
void log_setup(enum log_level stderr_threshold, int json_fd);
/* The file descriptor of the JSON log, so a launch sequence can keep it away
 * from the workload. */
int log_json_fd(void);
bool log_enabled(enum log_level level);

void log_event(enum log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_debug(ev, ...)   log_event(LOG_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...)    log_event(LOG_INFO, ev, __VA_ARGS__)
#define log_warning(ev, ...) log_event(LOG_WARNING, ev, __VA_ARGS__)
#define log_error(ev, ...)   log_event(LOG_ERROR, ev, __VA_ARGS__)
