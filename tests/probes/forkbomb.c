/* forkbomb: creates processes until fork fails or MAX exist, to show which
 * limit stops a fork bomb in a sandbox.
 *   forkbomb MAX HOLD_SECONDS
 * forks up to MAX children that only wait, prints "fork count=N ok" (MAX
 * reached) or "fork count=N errno=<N> <NAME>" (the first failure), then
 * keeps them all for HOLD_SECONDS and exits 0 (2 on a usage error). The
 * children end with the sandbox: they are never reaped here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long max, count = 0;
	double hold;
	int err = 0;

	if (argc != 3 || (max = strtol(argv[1], NULL, 10)) <= 0 || (hold = atof(argv[2])) < 0) {
		fprintf(stderr, "usage: forkbomb MAX HOLD_SECONDS\n");
		return 2;
	}
	while (count < max) {
		pid_t pid = fork();

		if (pid == 0) {
			for (;;)
				pause();
		}
		if (pid < 0) {
			err = errno;
			break;
		}
		count++;
	}
	if (err)
		printf("fork count=%ld errno=%d %s\n", count, err, strerrorname_np(err));
	else
		printf("fork count=%ld ok\n", count);
	fflush(stdout);
	nanosleep(&(struct timespec){(time_t)hold, (long)((hold - (double)(time_t)hold) * 1e9)},
		  NULL);
	return 0;
}
