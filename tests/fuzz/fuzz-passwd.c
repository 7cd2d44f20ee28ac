/* libFuzzer target for the /etc/passwd and /etc/group readers lockshell uses
 * instead of NSS: the input is "NAME\n" followed by the text of a passwd or
 * group file; an entry found is the one asked for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enforce/creds.h"

#define INPUT_MAX 8192

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void fail(const char *what, const char *name)
{
	fprintf(stderr, "%s ('%s')\n", what, name);
	abort();
}

static void check_passwd(FILE *f, const char *name)
{
	struct passwd *pw;

	/* A NIS compat line ("+name", "-name") yields an entry without a home
	 * or shell: the lookups accept it, and their callers must too. */
	pw = creds_passwd_find(f, name, 0);
	if (pw && strcmp(pw->pw_name, name) != 0)
		fail("a passwd entry that is not the one asked for", name);
	rewind(f);
	pw = creds_passwd_find(f, NULL, CREDS_SANDBOX_ID);
	if (pw && pw->pw_uid != CREDS_SANDBOX_ID)
		fail("a passwd entry with another uid", name);
}

static void check_group(FILE *f, const char *name)
{
	struct group *gr = creds_group_find(f, name);

	if (gr && strcmp(gr->gr_name, name) != 0)
		fail("a group entry that is not the one asked for", name);
	for (size_t i = 0; gr && gr->gr_mem[i]; i++)
		if (!*gr->gr_mem[i])
			fail("an empty group member", name);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char buf[INPUT_MAX + 1], *text;
	FILE *f;

	if (size > INPUT_MAX)
		return -1;
	memcpy(buf, data, size);
	buf[size] = '\0';
	text = strchr(buf, '\n');
	if (!text)
		return 0;
	*text++ = '\0';
	f = fmemopen(text, strlen(text) + 1, "r");
	if (!f)
		abort();
	check_passwd(f, buf);
	rewind(f);
	check_group(f, buf);
	fclose(f);
	return 0;
}
