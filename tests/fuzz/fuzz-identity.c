/* libFuzzer target for run_as_user/run_as_group resolution against this
 * host's users and groups: the input is "USER\nGROUP" (an empty line: not
 * named). A resolved identity is never root nor the invalid id, and never
 * another user's when lockshell runs unprivileged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enforce/creds.h"

#define INPUT_MAX	 1024
#define UNPRIVILEGED_UID 1000
#define UNPRIVILEGED_GID 1000

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void fail(const char *what, const char *user, const char *group)
{
	fprintf(stderr, "%s (user '%s', group '%s')\n", what, user ? user : "(none)",
		group ? group : "(none)");
	abort();
}

static void check_resolve(const char *user, const char *group, uid_t uid, gid_t gid)
{
	struct creds c = {0};
	struct error err = {0};

	if (creds_resolve(user, group, uid, gid, &c, &err) < 0) {
		if (!err.message[0])
			fail("refused without a message", user, group);
		return;
	}
	if (c.uid == 0 || c.gid == 0 || c.uid == (uid_t)-1 || c.gid == (gid_t)-1)
		fail("resolved to root or to the invalid id", user, group);
	for (size_t i = 0; i < c.n_groups; i++)
		if (c.groups[i] == 0)
			fail("resolved with supplementary group 0", user, group);
	if (uid != 0 && (c.change || c.uid != uid || c.gid != gid))
		fail("an unprivileged invoker resolved to another identity", user, group);
	if (!c.home || !c.user)
		fail("resolved without HOME or USER", user, group);
	creds_free(&c);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char buf[INPUT_MAX + 1], *group;
	const char *user = buf;

	if (size > INPUT_MAX)
		return -1;
	memcpy(buf, data, size);
	buf[size] = '\0';
	group = strchr(buf, '\n');
	if (group)
		*group++ = '\0';
	user = *user ? user : NULL;
	group = group && *group ? group : NULL;
	check_resolve(user, group, 0, 0);
	check_resolve(user, group, UNPRIVILEGED_UID, UNPRIVILEGED_GID);
	return 0;
}
