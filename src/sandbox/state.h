/* Named sandboxes on disk: the state directory, one directory per sandbox
 * holding a lock file, state.json (written atomically) and the detached
 * supervisor's log; sandbox names; whether a recorded process still lives.
 *
 * Locking: every change to a sandbox's files happens under an exclusive
 * flock(2) on its lock file. A sandbox directory appears fully formed and
 * locked (built under a temporary name, then renamed without replacing), so
 * of two creators of one name exactly one wins. Removal unlinks the lock
 * file before the directory; whoever then obtains the lock sees the file
 * unlinked and treats the sandbox as gone. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

#define SANDBOX_NAME_MAX 63
#define STATE_DIR_ENV	 "LOCKSHELL_STATE_DIR"
#define STATE_FILE	 "state.json"
#define STATE_LOG_FILE	 "log"

/* The state directory of the calling user: $LOCKSHELL_STATE_DIR, else
 * /run/lockshell for root, $XDG_RUNTIME_DIR/lockshell, or /tmp/lockshell-UID
 * when XDG_RUNTIME_DIR is unset. Created (mode 0700) when missing; refused
 * when it is not a directory owned by the caller, or is writable by others.
 * Returns its path and an O_DIRECTORY descriptor. */
int state_dir_open(char **ret_path, int *ret_fd, struct error *err);

/* [A-Za-z0-9][A-Za-z0-9_.-]{0,62} */
bool sandbox_name_valid(const char *name);
/* -EINVAL with a message quoting name and the rule when it is not valid. */
int sandbox_name_check(const char *name, struct error *err);
/* A fresh name such as "quiet-otter-4821" (two words and four digits). */
int sandbox_name_generate(char ret[static SANDBOX_NAME_MAX + 1], struct error *err);

/* Field 22 of /proc/PID/stat (start time in clock ticks after boot), also
 * of a zombie; -ESRCH when the process is gone. */
int process_start_time(pid_t pid, uint64_t *ret);
/* Whether pid is alive (not a zombie) and is still the process that started
 * at start_time (not a later process that reused the pid). */
bool process_matches(pid_t pid, uint64_t start_time);
/* The state and start time of the text of a /proc/PID/stat; -EIO when it
 * does not hold them. */
int proc_stat_parse(const char *text, uint64_t *ret_start, char *ret_state);

/* An open sandbox directory. lock_fd holds the flock while locked. */
struct sandbox_dir {
	int dir_fd;
	int lock_fd;
	char name[SANDBOX_NAME_MAX + 1];
};
#define SANDBOX_DIR_INIT                                                                           \
	{                                                                                          \
		.dir_fd = -1, .lock_fd = -1                                                        \
	}

void sandbox_dir_close(struct sandbox_dir *d);

/* Creates the sandbox directory NAME holding state, and returns it locked
 * exclusively. -EEXIST with a message naming it when NAME exists. */
int sandbox_dir_create(int state_fd, const char *name, const json_t *state, struct sandbox_dir *ret,
		       struct error *err);
/* Opens the sandbox NAME and takes the lock (LOCK_SH or LOCK_EX); -ENOENT
 * with "no sandbox named NAME" when there is none or it was removed while
 * this call waited for the lock. */
int sandbox_dir_open(int state_fd, const char *name, int how, struct sandbox_dir *ret,
		     struct error *err);
/* Takes the lock again after sandbox_dir_unlock(); -ENOENT as above. */
int sandbox_dir_lock(struct sandbox_dir *d, int how, struct error *err);
void sandbox_dir_unlock(struct sandbox_dir *d);
/* Removes every file of the sandbox, then its directory; the caller holds
 * the exclusive lock. */
int sandbox_dir_remove(int state_fd, struct sandbox_dir *d, struct error *err);

/* state.json: written to a temporary file, fsync'ed, renamed over the old
 * one, and the directory fsync'ed; read back whole. */
int state_write(const struct sandbox_dir *d, const json_t *state, struct error *err);
int state_read(const struct sandbox_dir *d, json_t **ret, struct error *err);
/* The text of a state.json of sandbox name: -EINVAL with a message saying
 * it is corrupt unless it holds a JSON object. */
int state_parse(const char *name, const char *text, size_t len, json_t **ret, struct error *err);
