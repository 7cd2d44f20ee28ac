/* Landlock right names and the rights each ABI handles: the vocabulary the
 * effective policy, its emitters and the Landlock layer share. */
#include "policy/effective.h"

#include <stddef.h>

static const char *const right_names[] = {
	"execute",   "write_file", "read_file", "read_dir",	 "remove_dir", "remove_file",
	"make_char", "make_dir",   "make_reg",	"make_sock",	 "make_fifo",  "make_block",
	"make_sym",  "refer",	   "truncate",	"ioctl_dev",
};

uint64_t access_handled_by_abi(int abi)
{
	if (abi <= 0)
		return 0;
	if (abi == 1)
		return ACCESS_MAKE_SYM * 2 - 1;
	if (abi == 2)
		return ACCESS_REFER * 2 - 1;
	if (abi <= 4)
		return ACCESS_TRUNCATE * 2 - 1;
	return ACCESS_ALL;
}

const char *access_right_name(uint64_t bit)
{
	for (size_t i = 0; i < sizeof(right_names) / sizeof(right_names[0]); i++)
		if (bit == 1ULL << i)
			return right_names[i];
	return NULL;
}

const char *entry_source_name(enum entry_source s)
{
	switch (s) {
	case SOURCE_POLICY:
		return "policy";
	case SOURCE_WORKDIR:
		return "workdir";
	case SOURCE_GPU:
		return "gpu";
	}
	return "unknown";
}

const char *network_mode_name(enum network_mode m)
{
	return m == NETWORK_NONE ? "none" : "host";
}
