/* Event sink: human lines on stderr above a threshold, JSON lines to a file. */
#include "base/log.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level stderr_threshold = LOG_WARNING;
static int json_fd = -1;

static const char *const level_names[] = {
	[LOG_DEBUG] = "debug",
	[LOG_INFO] = "info",
	[LOG_WARNING] = "warning",
	[LOG_ERROR] = "error",
};

int log_level_parse(const char *s, enum log_level *ret_level)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0) {
			*ret_level = (enum log_level)i;
			return 0;
		}
	if (strcmp(s, "warn") == 0) {
		*ret_level = LOG_WARNING;
		return 0;
	}
	return -EINVAL;
}

const char *log_level_name(enum log_level level)
{
	return level_names[level];
}

void log_setup(enum log_level threshold, int fd)
{
	stderr_threshold = threshold;
	json_fd = fd;
}

int log_json_fd(void)
{
	return json_fd;
}

bool log_enabled(enum log_level level)
{
	return level >= stderr_threshold || json_fd >= 0;
}

static void log_write_json(enum log_level level, const char *event, const char *message)
{
	struct timespec ts;
	json_t *obj;
	char *line;

	clock_gettime(CLOCK_REALTIME, &ts);
	obj = json_pack("{s:f, s:s, s:s, s:s, s:i}", "ts", (double)ts.tv_sec + (double)ts.tv_nsec / 1e9, "level",
			level_names[level], "event", event, "message", message, "pid", (int)getpid());
	if (!obj)
		return;
	line = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (!line)
		return;
	dprintf(json_fd, "%s\n", line);
	free(line);
}

void log_event(enum log_level level, const char *event, const char *fmt, ...)
{
	char message[4096];
	int saved = errno;
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (level >= stderr_threshold)
		fprintf(stderr, "lockshell: %s%s%s\n", level >= LOG_WARNING ? level_names[level] : "",
			level >= LOG_WARNING ? ": " : "", message);
	if (json_fd >= 0)
		log_write_json(level, event, message);
	errno = saved;
}
