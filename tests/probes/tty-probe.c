/* tty-probe: terminal injection through TIOCSTI.
 *   tty-probe sti TEXT   pushes TEXT and a newline into the input queue of
 *                        the terminal on fd 0, one byte at a time
 * prints "sti ok" or "sti errno=<N> <NAME>" (the first refusal); exits 0
 * (2 on a usage error). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

static int push(const char *text)
{
	for (const char *p = text; *p; p++)
		if (ioctl(0, TIOCSTI, p) < 0)
			return errno;
	return ioctl(0, TIOCSTI, "\n") < 0 ? errno : 0;
}

int main(int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[1], "sti") != 0) {
		fprintf(stderr, "usage: tty-probe sti TEXT\n");
		return 2;
	}
	int e = push(argv[2]);
	if (e)
		printf("sti errno=%d %s\n", e, strerrorname_np(e));
	else
		printf("sti ok\n");
	return 0;
}
