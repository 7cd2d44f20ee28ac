/* thread-name-probe: what CUDA does to name its threads, and what a shell's
 * `>` does to comm.
 *   thread-name-probe check     name another thread with pthread_setname_np
 *                               (glibc opens /proc/self/task/<tid>/comm
 *                               O_RDWR), then write /proc/self/comm opened
 *                               O_WRONLY|O_CREAT|O_TRUNC
 *   thread-name-probe spawn N   run itself N levels down, then "check"
 * prints "check pid=P ppid=Q", "setname-other ok|errno=<N> <NAME>" and
 * "comm-self ok|errno=<N> <NAME>"; exits 0 (2 on a usage error). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int release[2];

static void *idle_thread(void *arg)
{
	char c;
	(void)arg;
	if (read(release[0], &c, 1) < 0)
		return NULL;
	return NULL;
}

static void report(const char *what, int e)
{
	if (e)
		printf("%s errno=%d %s\n", what, e, strerrorname_np(e));
	else
		printf("%s ok\n", what);
}

/* Verifies the name by reading it back: a write that "succeeded" without
 * taking effect is reported as EIO. */
static int name_other_thread(void)
{
	pthread_t t;
	char name[16] = "";
	if (pipe(release) < 0)
		return errno;
	int e = pthread_create(&t, NULL, idle_thread, NULL);
	if (e)
		return e;
	e = pthread_setname_np(t, "lsk-worker");
	if (!e && (pthread_getname_np(t, name, sizeof(name)) || strcmp(name, "lsk-worker")))
		e = EIO;
	if (write(release[1], "x", 1) < 0)
		e = e ? e : errno;
	pthread_join(t, NULL);
	return e;
}

static int write_own_comm(void)
{
	int fd = open("/proc/self/comm", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	int e = write(fd, "lsk-self\n", 9) < 0 ? errno : 0;
	close(fd);
	return e;
}

static int check(void)
{
	printf("check pid=%d ppid=%d\n", (int)getpid(), (int)getppid());
	report("setname-other", name_other_thread());
	report("comm-self", write_own_comm());
	return 0;
}

static int spawn(int depth)
{
	char self[PATH_MAX], level[16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		report("spawn", errno);
		return 1;
	}
	self[n] = '\0';
	snprintf(level, sizeof(level), "%d", depth - 1);
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		report("spawn", errno);
		return 1;
	}
	if (pid == 0) {
		if (depth > 1)
			execl(self, self, "spawn", level, (char *)NULL);
		else
			execl(self, self, "check", (char *)NULL);
		report("spawn-exec", errno);
		_exit(127);
	}
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "check") == 0)
		return check();
	if (argc == 3 && strcmp(argv[1], "spawn") == 0 && atoi(argv[2]) > 0)
		return spawn(atoi(argv[2]));
	fprintf(stderr, "usage: thread-name-probe check | spawn N\n");
	return 2;
}
