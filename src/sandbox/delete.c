/* `sandbox delete`: the supervisor is asked to end (SIGTERM), given a grace
 * period, then killed; the sandbox's PID 1 is waited for too, and the state
 * removed. Signals and waits go through pidfds opened while the recorded
 * start times still matched, so a reused pid is never signalled. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "sandbox/record.h"
#include "sandbox/sandbox.h"

/* How long a SIGKILLed process may take to be gone. */
#define GONE_TIMEOUT_S 10.0

/* A pidfd on the recorded process while it is the one recorded, else -1. */
static int pidfd_of(const json_t *rec, const char *which)
{
	struct record_process p;
	int fd;

	if (!rec || record_process(rec, which, &p) < 0 || !process_matches(p.pid, p.start_time))
		return -1;
	fd = pidfd_open(p.pid, 0);
	if (fd >= 0 && !process_matches(p.pid, p.start_time)) {
		close(fd);
		return -1;
	}
	return fd;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whether the process has exited within timeout_s. */
static bool pidfd_wait(int fd, double timeout_s)
{
	double deadline = now_s() + timeout_s;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int n;

	do {
		double left = deadline - now_s();
		n = poll(&p, 1, left > 0 ? (int)(left * 1000) + 1 : 0);
	} while (n < 0 && errno == EINTR);
	return n > 0;
}

/* SIGKILL, then waiting until the process is gone. */
static int kill_and_wait(int fd, const char *name, const char *what, struct error *err)
{
	pidfd_send_signal(fd, SIGKILL, NULL, 0);
	if (!pidfd_wait(fd, GONE_TIMEOUT_S))
		return error_set(err, ETIMEDOUT,
				 "sandbox %s: its %s is still there %gs after SIGKILL", name, what,
				 GONE_TIMEOUT_S);
	return 0;
}

static int terminate(const char *name, int sup_fd, int main_fd, double grace_s, struct error *err)
{
	int r = 0;

	if (sup_fd >= 0) {
		pidfd_send_signal(sup_fd, SIGTERM, NULL, 0);
		if (!pidfd_wait(sup_fd, grace_s)) {
			log_info("sandbox_delete",
				 "sandbox %s: the supervisor did not end within %gs: SIGKILL", name,
				 grace_s);
			r = kill_and_wait(sup_fd, name, "supervisor", err);
		}
	}
	/* PID 1 dies with its supervisor; a short wait covers the usual case. */
	if (r >= 0 && main_fd >= 0 && !pidfd_wait(main_fd, sup_fd >= 0 ? 1.0 : 0))
		r = kill_and_wait(main_fd, name, "main process", err);
	return r;
}

/* Marks the sandbox as being deleted, so that its supervisor leaves the
 * state alone when it ends, then ends it without holding the lock. When the
 * mark cannot be written (a full or read-only disk) the processes are ended
 * all the same: a sandbox must never outlive a delete for want of space. */
static int end_processes(struct sandbox_dir *d, json_t *rec, int sup_fd, int main_fd,
			 double grace_s, struct error *err)
{
	struct error write_err = {0};
	int r;

	if (record_set_status(rec, STATUS_DELETING) < 0)
		return error_set(err, ENOMEM, "sandbox %s: out of memory", d->name);
	if (state_write(d, rec, &write_err) < 0)
		log_warning("sandbox_state", "%s; ending its processes anyway", write_err.message);
	sandbox_dir_unlock(d);
	r = terminate(d->name, sup_fd, main_fd, grace_s, err);
	if (r < 0)
		return r;
	return sandbox_dir_lock(d, LOCK_EX, err);
}

int sandbox_delete(int state_fd, const char *name, double grace_s, struct error *err)
{
	struct sandbox_dir d = SANDBOX_DIR_INIT;
	_cleanup_close_ int sup_fd = -1;
	_cleanup_close_ int main_fd = -1;
	struct error read_err = {0};
	json_t *rec = NULL;
	int r;

	r = sandbox_dir_open(state_fd, name, LOCK_EX, &d, err);
	if (r < 0)
		return r;
	if (state_read(&d, &rec, &read_err) < 0)
		log_warning("sandbox_state", "%s: removing it anyway", read_err.message);
	sup_fd = pidfd_of(rec, "supervisor");
	main_fd = pidfd_of(rec, "main");
	if (sup_fd >= 0 || main_fd >= 0)
		r = end_processes(&d, rec, sup_fd, main_fd, grace_s, err);
	if (r >= 0)
		r = sandbox_dir_remove(state_fd, &d, err);
	/* Removed by a concurrent delete after its processes ended: gone as asked. */
	if (r == -ENOENT && (sup_fd >= 0 || main_fd >= 0))
		r = 0;
	json_decref(rec);
	sandbox_dir_close(&d);
	return r;
}
