/* The least a launcher that supervises its command can cost: a static
 * program (as lockshell is) that forks, execs its arguments in the child and
 * waits for it, with no namespace, no policy and no confinement. Built and
 * timed by bench/startup.sh next to lockshell. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: launch-floor CMD [ARG...]\n");
		return 2;
	}
	pid = fork();
	if (pid < 0)
		return 125;
	if (pid == 0) {
		execv(argv[1], argv + 1);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return 125;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
