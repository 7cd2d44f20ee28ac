/* Creating a named sandbox: reserving its name and state directory, starting
 * it with this process (foreground) or a daemon (detached) as its
 * supervisor, and recording how its main process ended. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "sandbox/record.h"
#include "sandbox/sandbox.h"

#define NAME_ATTEMPTS 16

#define NOTICES_MAX   1536
#define NOTICE_PREFIX "lockshell: "

/* The daemon's start-up report: one write(2), atomic below PIPE_BUF. */
struct start_report {
	int result; /* 0, a LAUNCH_EXIT_* code, or a negative errno */
	char message[ERROR_MESSAGE_MAX];
	char notices[NOTICES_MAX]; /* lockshell's own log lines of the start-up */
};

static int reserve_generated(int state_fd, json_t *rec, struct sandbox_dir *ret, struct error *err)
{
	char name[SANDBOX_NAME_MAX + 1];
	int r = -EEXIST;

	for (int i = 0; r == -EEXIST && i < NAME_ATTEMPTS; i++) {
		r = sandbox_name_generate(name, err);
		if (r >= 0 && record_set_name(rec, name) < 0)
			r = error_set(err, ENOMEM, "sandbox state: out of memory");
		if (r >= 0)
			r = sandbox_dir_create(state_fd, name, rec, ret, err);
	}
	return r;
}

/* The sandbox's directory, locked, holding its first record. */
static int reserve(int state_fd, const struct sandbox_spec *spec, struct sandbox_dir *ret_dir,
		   json_t **ret_rec, struct error *err)
{
	json_t *rec = record_new(spec->name ? spec->name : "", spec);
	int r;

	if (!rec)
		return error_set(err, ENOMEM, "sandbox state: out of memory");
	r = spec->name ? sandbox_dir_create(state_fd, spec->name, rec, ret_dir, err)
		       : reserve_generated(state_fd, rec, ret_dir, err);
	if (r < 0) {
		json_decref(rec);
		return r;
	}
	*ret_rec = rec;
	return 0;
}

/* The sandbox's main process: its PID 1, which a later exec joins, or the
 * workload itself without isolation. */
static pid_t main_pid(const struct supervisor *sup)
{
	return sup->init_pid > 0 ? sup->init_pid : sup->pid;
}

/* Ends a sandbox whose start could not be recorded. */
static void abandon(struct supervisor *sup)
{
	kill(main_pid(sup), SIGKILL);
	supervisor_wait(sup);
}

/* Records the running sandbox and releases the lock; ends it on failure. */
static int record_started(struct sandbox_dir *d, json_t *rec, struct supervisor *sup,
			  struct error *err)
{
	int r = record_set_running(rec, getpid(), main_pid(sup));

	if (r < 0)
		r = error_set(err, -r, "sandbox %s: recording its processes", d->name);
	else
		r = state_write(d, rec, err);
	if (r < 0) {
		abandon(sup);
		return r;
	}
	sandbox_dir_unlock(d);
	log_info("sandbox", "sandbox %s is running, main pid %d", d->name, (int)main_pid(sup));
	return 0;
}

/* The effective policy, with the sandbox's name as its hostname, stored. */
static int effective_prepare(const struct sandbox_spec *spec, const struct sandbox_dir *d,
			     json_t *rec, struct effective *ret, struct error *err)
{
	struct effective_request request = spec->request;
	int r;

	request.hostname = d->name;
	request.workdir = spec->workdir; /* include_workdir applies as with `run` */
	r = effective_build(spec->policy, &request, spec->host, ret, err);
	if (r < 0)
		return r;
	if (record_set_policy(rec, ret) < 0)
		return error_set(err, ENOMEM, "sandbox %s: out of memory", d->name);
	return 0;
}

static int launch(const struct sandbox_spec *spec, const struct sandbox_dir *d, json_t *rec,
		  struct supervisor *sup, struct error *err)
{
	struct effective eff = {0};
	int r = effective_prepare(spec, d, rec, &eff, err);

	if (r >= 0 && !spec->argv && !eff.isolation.enabled)
		r = error_set(err, EOPNOTSUPP,
			      "sandbox %s: an idle sandbox (no command) needs namespaces, and user "
			      "namespaces are unavailable to this user: give it a command",
			      d->name);
	if (r >= 0) {
		struct launch l = {
		    .eff = &eff,
		    .host = spec->host,
		    .argv = spec->argv,
		    .env_extra = spec->env_extra,
		    .workdir = spec->workdir,
		    .kill_after_s = LAUNCH_DEFAULT_KILL_AFTER_S,
		    .isolate = true,
		    .hostname = d->name,
		};
		r = supervisor_start(&l, sup, err);
	}
	effective_free(&eff);
	return r;
}

static int start(int state_fd, const struct sandbox_spec *spec, struct sandbox_dir *d, json_t *rec,
		 struct supervisor *sup, struct error *err)
{
	int r = launch(spec, d, rec, sup, err);

	if (r == 0)
		r = record_started(d, rec, sup, err);
	if (r != 0)
		sandbox_dir_remove(state_fd, d, &(struct error){0});
	return r;
}

/* The main process has ended: its code is recorded, or the sandbox removed
 * when it is not kept. A sandbox being deleted is left to the deletion. */
static void record_exit(int state_fd, const char *name, bool keep, int code)
{
	struct sandbox_dir d = SANDBOX_DIR_INIT;
	struct error err = {0};
	struct record_process sup;
	json_t *rec = NULL;
	int r;

	r = sandbox_dir_open(state_fd, name, LOCK_EX, &d, &err);
	if (r >= 0)
		r = state_read(&d, &rec, &err);
	if (r >= 0 && record_process(rec, "supervisor", &sup) == 0 && sup.pid == getpid() &&
	    strcmp(record_status(rec), STATUS_DELETING) != 0) {
		if (!keep)
			r = sandbox_dir_remove(state_fd, &d, &err);
		else if (record_set_exited(rec, code) < 0)
			r = error_set(&err, ENOMEM, "sandbox %s: out of memory", name);
		else
			r = state_write(&d, rec, &err);
	}
	if (r < 0 && err.code != ENOENT)
		log_warning("sandbox_state", "recording the end of sandbox %s: %s", name,
			    err.message);
	json_decref(rec);
	sandbox_dir_close(&d);
}

int sandbox_create_foreground(int state_fd, const struct sandbox_spec *spec,
			      struct sandbox_session *ret, struct error *err)
{
	struct sandbox_dir d = SANDBOX_DIR_INIT;
	json_t *rec = NULL;
	int r;

	if (!spec->argv)
		return error_set(err, EINVAL, "a sandbox in the foreground needs a command");
	r = reserve(state_fd, spec, &d, &rec, err);
	if (r < 0)
		return r;
	r = start(state_fd, spec, &d, rec, &ret->sup, err);
	if (r == 0) {
		ret->state_fd = state_fd;
		ret->keep = spec->keep;
		memcpy(ret->name, d.name, sizeof(ret->name));
	}
	sandbox_dir_close(&d);
	json_decref(rec);
	return r;
}

int sandbox_session_wait(struct sandbox_session *s)
{
	int code = supervisor_wait(&s->sup);

	record_exit(s->state_fd, s->name, s->keep, code);
	return code;
}

/* --- detached: the daemon -------------------------------------------------- */

/* lockshell's own lines ("lockshell: ...") in the new sandbox's log: the
 * events of the start-up, which the creator reports as its own. */
static void notices_collect(int log_fd, char *buf, size_t size)
{
	char text[4 * NOTICES_MAX];
	ssize_t n = pread(log_fd, text, sizeof(text) - 1, 0);
	size_t len = 0;

	buf[0] = '\0';
	text[n > 0 ? n : 0] = '\0';
	for (char *line = text, *end; *line; line = end) {
		end = line + strcspn(line, "\n");
		if (*end)
			*end++ = '\0';
		if (strncmp(line, NOTICE_PREFIX, strlen(NOTICE_PREFIX)) == 0 &&
		    len + strlen(line) + 2 <= size)
			len += (size_t)snprintf(buf + len, size - len, "%s\n", line);
	}
}

/* Emits the daemon's start-up events again, in this process. */
static void notices_replay(const char *notices)
{
	static const struct {
		const char *tag;
		enum log_level level;
	} tags[] = {{"warning: ", LOG_WARNING}, {"error: ", LOG_ERROR}};

	for (const char *line = notices; *line;) {
		size_t len = strcspn(line, "\n");
		const char *text = line + strlen(NOTICE_PREFIX);
		enum log_level level = LOG_INFO;

		for (size_t i = 0; i < ARRAY_SIZE(tags); i++)
			if (strncmp(text, tags[i].tag, strlen(tags[i].tag)) == 0) {
				level = tags[i].level;
				text += strlen(tags[i].tag);
			}
		log_event(level, "sandbox_start", "%.*s", (int)(line + len - text), text);
		line += len + (line[len] == '\n');
	}
}

static void report_send(int fd, int log_fd, int result, const struct error *err)
{
	struct start_report rep = {.result = result};

	if (result != 0)
		memcpy(rep.message, err->message, sizeof(rep.message));
	if (log_fd >= 0)
		notices_collect(log_fd, rep.notices, sizeof(rep.notices));
	(void)!write(fd, &rep, sizeof(rep));
}

static int report_receive(int fd, const char *name, struct error *err)
{
	struct start_report rep;
	ssize_t n;

	do
		n = read(fd, &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	if (n != sizeof(rep))
		return error_set(err, EIO, "sandbox %s: its supervisor exited during start-up",
				 name);
	rep.notices[sizeof(rep.notices) - 1] = '\0';
	notices_replay(rep.notices);
	if (rep.result == 0)
		return 0;
	rep.message[sizeof(rep.message) - 1] = '\0';
	error_set(err, rep.result < 0 ? -rep.result : EIO, "%s", rep.message);
	return rep.result;
}

/* Puts fd at target (clearing close-on-exec there) and closes fd. */
static int fd_move(int fd, int target)
{
	if (fd == target)
		return fcntl(fd, F_SETFD, 0);
	if (dup2(fd, target) < 0)
		return -1;
	close(fd);
	return 0;
}

/* stdin from /dev/null, stdout and stderr appended to the sandbox's log;
 * ret_log_fd reads the log back (it outlives a removal of the file). */
static int daemon_stdio(const struct sandbox_dir *d, int *ret_log_fd, struct error *err)
{
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int log_fd;

	if (null_fd < 0 || fd_move(null_fd, STDIN_FILENO) < 0)
		return error_set_errno(err, errno, "sandbox %s: stdin from /dev/null", d->name);
	log_fd = openat(d->dir_fd, STATE_LOG_FILE,
			O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (log_fd < 0 || dup2(log_fd, STDERR_FILENO) < 0 || fd_move(log_fd, STDOUT_FILENO) < 0)
		return error_set_errno(err, errno, "sandbox %s: opening its log file", d->name);
	*ret_log_fd = openat(d->dir_fd, STATE_LOG_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (*ret_log_fd < 0)
		return error_set_errno(err, errno, "sandbox %s: opening its log file", d->name);
	return 0;
}

static int int_compare(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Closes every descriptor but those in keep (which it sorts). */
static void fds_close_except(int *keep, size_t n)
{
	unsigned from = 0;

	qsort(keep, n, sizeof(*keep), int_compare);
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)keep[i] > from)
			close_range(from, (unsigned)keep[i] - 1, 0);
		if ((unsigned)keep[i] >= from)
			from = (unsigned)keep[i] + 1;
	}
	close_range(from, ~0U, 0);
}

static int daemon_prepare(int state_fd, struct sandbox_dir *d, int report_fd, int *ret_log_fd,
			  struct error *err)
{
	int r = daemon_stdio(d, ret_log_fd, err);
	int keep[] = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO, state_fd,
		      d->dir_fd,    d->lock_fd,	   report_fd,	  *ret_log_fd};

	if (r < 0)
		return r;
	fds_close_except(keep, ARRAY_SIZE(keep));
	if (chdir("/") < 0)
		return error_set_errno(err, errno, "chdir /");
	return 0;
}

/* Starts the sandbox, reports to the creator, supervises, records the end. */
static noreturn void daemon_main(int state_fd, const struct sandbox_spec *spec,
				 struct sandbox_dir *d, json_t *rec, int report_fd)
{
	struct supervisor sup;
	struct error err = {0};
	int log_fd = -1;
	int r;

	r = daemon_prepare(state_fd, d, report_fd, &log_fd, &err);
	if (r == 0)
		r = start(state_fd, spec, d, rec, &sup, &err);
	else
		sandbox_dir_remove(state_fd, d, &(struct error){0});
	/* The workload runs already: ignoring SIGPIPE here reaches only the
	 * daemon, whose creator may be gone. */
	(void)signal(SIGPIPE, SIG_IGN);
	report_send(report_fd, log_fd, r, &err);
	closep(&log_fd);
	close(report_fd);
	sandbox_dir_close(d);
	if (r != 0)
		_exit(1);
	r = supervisor_wait(&sup);
	record_exit(state_fd, d->name, spec->keep, r);
	_exit(0);
}

/* A new session, then the daemon, which init adopts when this exits. */
static noreturn void intermediate_main(int state_fd, const struct sandbox_spec *spec,
				       struct sandbox_dir *d, json_t *rec, int report_fd)
{
	struct error err = {0};
	pid_t pid = setsid() < 0 ? -1 : fork();

	if (pid == 0)
		daemon_main(state_fd, spec, d, rec, report_fd);
	if (pid < 0) {
		error_set_errno(&err, errno, "starting the daemon of sandbox %s", d->name);
		sandbox_dir_remove(state_fd, d, &(struct error){0});
		report_send(report_fd, -1, -err.code, &err);
	}
	_exit(0);
}

int sandbox_create_detached(int state_fd, const struct sandbox_spec *spec,
			    char ret_name[static SANDBOX_NAME_MAX + 1], struct error *err)
{
	struct sandbox_dir d = SANDBOX_DIR_INIT;
	json_t *rec = NULL;
	int fds[2] = {-1, -1};
	pid_t pid = -1;
	int r;

	r = reserve(state_fd, spec, &d, &rec, err);
	if (r < 0)
		return r;
	if (pipe2(fds, O_CLOEXEC) == 0)
		pid = fork();
	if (pid == 0) {
		close(fds[0]);
		intermediate_main(state_fd, spec, &d, rec, fds[1]);
	}
	closep(&fds[1]);
	if (pid < 0) {
		r = error_set_errno(err, errno, "starting sandbox %s", d.name);
		sandbox_dir_remove(state_fd, &d, &(struct error){0});
	} else {
		waitpid(pid, NULL, 0);
		r = report_receive(fds[0], d.name, err);
	}
	closep(&fds[0]);
	if (r == 0)
		memcpy(ret_name, d.name, SANDBOX_NAME_MAX + 1);
	sandbox_dir_close(&d);
	json_decref(rec);
	return r;
}
