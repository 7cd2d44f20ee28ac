/* libFuzzer target for the readers of kernel files: /proc/self/status
 * ("Seccomp:"), a GPU's /proc/driver/nvidia/gpus/<bdf>/information ("Device
 * Minor:"), sysctls, the LSM list and /proc/PID/stat. Each text is one of
 * those files; what a reader returns must come from the text. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"
#include "sandbox/state.h"

#define TEXT_MAX 8192

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void fail(const char *what, const char *text)
{
	fprintf(stderr, "%s:\n%s\n", what, text);
	abort();
}

/* Whether key starts a line of text. */
static bool starts_a_line(const char *text, const char *key)
{
	size_t len = strlen(key);

	for (const char *line = text; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (strncmp(line, key, len) == 0)
			return true;
	}
	return false;
}

static void check_field(const char *text, const char *key)
{
	long v = -12345;

	if (host_field_long(text, key, &v) && !starts_a_line(text, key))
		fail("a field was read where no line starts with its key", text);
}

static void check_classify(const char *text)
{
	static const int errnos[] = {ENOSYS, EPERM, EOPNOTSUPP, EINVAL};

	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		for (int mode = 0; mode <= 2; mode++) {
			enum landlock_status s = host_classify_landlock(errnos[i], mode, text);

			if (s < LANDLOCK_AVAILABLE || s > LANDLOCK_OTHER || s == LANDLOCK_AVAILABLE)
				fail("an unavailable Landlock classified out of range", text);
			if (!*landlock_status_name(s) || !*landlock_status_advice(s))
				fail("a classification without a name or advice", text);
		}
}

static void check_proc_stat(const char *text)
{
	uint64_t start = 0;
	char state = 0;

	if (proc_stat_parse(text, &start, &state) == 0 &&
	    (!strrchr(text, ')') || state == ' ' || state == '\0'))
		fail("a process state read from a malformed stat line", text);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char text[TEXT_MAX + 1];
	long v;

	if (size > TEXT_MAX)
		return -1;
	memcpy(text, data, size);
	text[size] = '\0';
	check_field(text, "Seccomp:");
	check_field(text, "Device Minor:");
	host_sysctl_long(text, &v);
	check_classify(text);
	check_proc_stat(text);
	return 0;
}
