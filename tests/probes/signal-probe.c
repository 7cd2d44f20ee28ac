/* signal-probe: sends a signal and reports what the kernel said.
 *   signal-probe kill PID SIG   signal PID (SIG 0 checks permission only)
 *   signal-probe parent SIG     signal the parent process
 *   signal-probe child          fork a child, SIGTERM it, check it died of it
 * prints "kill PID ok", "kill PID errno=<N> <NAME>", "child ok" or
 * "child failed <why>"; exits 0 (2 on a usage error). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int report_kill(pid_t pid, int sig)
{
	if (kill(pid, sig) < 0)
		printf("kill %d errno=%d %s\n", (int)pid, errno, strerrorname_np(errno));
	else
		printf("kill %d ok\n", (int)pid);
	return 0;
}

static int kill_own_child(void)
{
	pid_t pid = fork();
	if (pid < 0) {
		printf("child failed fork errno=%d %s\n", errno, strerrorname_np(errno));
		return 0;
	}
	if (pid == 0) {
		for (;;)
			pause();
	}
	int status;
	if (kill(pid, SIGTERM) < 0) {
		printf("child failed kill errno=%d %s\n", errno, strerrorname_np(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 0;
	}
	if (waitpid(pid, &status, 0) < 0)
		printf("child failed waitpid errno=%d %s\n", errno, strerrorname_np(errno));
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)
		printf("child ok\n");
	else
		printf("child failed status=0x%x\n", status);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "kill") == 0)
		return report_kill((pid_t)atoi(argv[2]), atoi(argv[3]));
	if (argc == 3 && strcmp(argv[1], "parent") == 0)
		return report_kill(getppid(), atoi(argv[2]));
	if (argc == 2 && strcmp(argv[1], "child") == 0)
		return kill_own_child();
	fprintf(stderr, "usage: signal-probe kill PID SIG | parent SIG | child\n");
	return 2;
}
