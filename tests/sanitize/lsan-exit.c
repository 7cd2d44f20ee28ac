/* Linked only into the sanitizer build. Extends LeakSanitizer to the
 * processes it would not check: forked children that leave with _exit(2)
 * are checked too, and a process where LeakSanitizer cannot work (it needs
 * to spawn a tracer in its own PID namespace, ptrace its threads and read
 * /proc/self) is not checked but recorded, with the reason, in the file
 * named by LOCKSHELL_LSAN_SKIPS so that no gap goes unreported. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* LeakSanitizer's exit status when it found leaks. */
#define LEAK_EXIT_CODE 23

int __lsan_do_recoverable_leak_check(void);
int __lsan_is_turned_off(void);

static bool same_link(const char *a, const char *b)
{
	char la[64] = "", lb[64] = "";

	if (readlink(a, la, sizeof(la) - 1) < 0 || readlink(b, lb, sizeof(lb) - 1) < 0)
		return false;
	return strcmp(la, lb) == 0;
}

/* The value of FIELD in /proc/self/status, -1 when unreadable. */
static long status_field(const char *field)
{
	char line[256];
	long value = -1;
	size_t len = strlen(field);
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			value = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return value;
}

static bool can_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0666);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* CAP_SYS_PTRACE in the effective set. */
static bool can_ptrace_any(void)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "CapEff:", 7) == 0) {
			found = (strtoull(line + 7, NULL, 16) >> 19) & 1; /* CAP_SYS_PTRACE */
			break;
		}
	fclose(f);
	return found;
}

/* The tracer shares the process's credentials; without CAP_SYS_PTRACE the
 * kernel lets it attach only when real, effective and saved ids agree. */
static bool ids_agree(void)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return false;
	return ru == eu && eu == su && rg == eg && eg == sg;
}

/* Why LeakSanitizer cannot check this process, NULL when it can. */
static const char *blocker(void)
{
	const char *skips = getenv("LOCKSHELL_LSAN_SKIPS");

	if (!can_open("/proc/self/maps", O_RDONLY) ||
	    !can_open("/proc/self/task", O_RDONLY | O_DIRECTORY))
		return "/proc/self is not readable (Landlock, or a /proc of another PID namespace)";
	if (skips && !can_open(skips, O_WRONLY | O_APPEND | O_CREAT))
		return "its reports cannot be written (Landlock, or another mount namespace)";
	if (!same_link("/proc/self/ns/pid", "/proc/self/ns/pid_for_children"))
		return "its children go to another PID namespace (unshare or setns of "
		       "CLONE_NEWPID), where the tracer cannot be spawned or cannot ptrace it";
	if (status_field("TracerPid") > 0)
		return "it is traced already (PTRACE_TRACEME or an attached tracer), and a "
		       "process has one tracer at most";
	if (status_field("Seccomp") > 0)
		return "a seccomp filter is loaded (it may refuse the tracer's clone or ptrace)";
	if (!ids_agree() && !can_ptrace_any())
		return "its real, effective and saved ids differ and it lacks CAP_SYS_PTRACE, "
		       "so its tracer may not ptrace it";
	return NULL;
}

/* The tracer may ptrace a non-dumpable process only with CAP_SYS_PTRACE
 * where the process was executed, and it does not start under every
 * personality(2) (an address-space limit, for one); the process is about to
 * end, so it is made dumpable and given the default personality for the
 * check. */
static const char *prepare(void)
{
	const char *reason = blocker();

	if (!reason && prctl(PR_GET_DUMPABLE) != 1 && prctl(PR_SET_DUMPABLE, 1) < 0)
		reason = "it is not dumpable and cannot become so";
	if (!reason && personality(0xffffffff) != PER_LINUX && personality(PER_LINUX) < 0)
		reason = "its personality(2) cannot be reset to PER_LINUX";
	return reason;
}

static void record_skip(const char *how, const char *reason)
{
	const char *path = getenv("LOCKSHELL_LSAN_SKIPS");
	char exe[256] = "?", line[768];
	ssize_t n;
	int fd, len;

	if (!path)
		return;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 1] = '\0';
	len = snprintf(line, sizeof(line), "%s (pid %d, %s): not leak-checked: %s\n",
		       strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe, (int)getpid(), how, reason);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0) {
		/* unrecorded: say so where it is seen */
		(void)!write(STDERR_FILENO, line, (size_t)len);
		return;
	}
	(void)!write(fd, line, (size_t)len);
	close(fd);
}

/* Called by LeakSanitizer before its check at exit(3). */
int __lsan_is_turned_off(void)
{
	const char *reason = prepare();

	if (!reason)
		return 0;
	record_skip("exit", reason);
	return 1;
}

/* _exit(2) of the program (libc's own exit path does not come here): the
 * leak check first, where it can run, then the real exit. */
void _exit(int status)
{
	const char *reason = prepare();

	if (reason)
		record_skip("_exit", reason);
	else if (__lsan_do_recoverable_leak_check())
		status = LEAK_EXIT_CODE;
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}
