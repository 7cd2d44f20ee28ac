/* namespaces_enter() on the real kernel, as root and as uid 65534 through a
 * user namespace: PID 1 of a new PID namespace that cannot reach host
 * processes, new IPC, UTS (hostname) and network namespaces, a loopback-only
 * network that cannot reach a listener on the host's 127.0.0.1, the id maps,
 * and the distinct error when user namespaces are unavailable. */
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>

#include "isolation-harness.h"

#define HOSTNAME	 "ns-test-sandbox"
#define UNPRIVILEGED_MAP "65534 65534 1"

static const char *ns_state(const char *kind, size_t index)
{
	char link[64];

	ns_link_read(kind, link, sizeof(link));
	return strcmp(link, harness_host_ns[index]) ? "new" : "same";
}

static const char *tcp_connect(uint16_t port)
{
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_port = htons(port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	const char *result = outcome(connect(fd, (struct sockaddr *)&addr, sizeof(addr)));

	close(fd);
	return result;
}

/* A listener and a client on this namespace's loopback: works only when lo
 * is up. */
static const char *loopback_round_trip(void)
{
	uint16_t port;
	int listener = tcp_listener_open(&port);
	const char *result;

	if (listener < 0)
		return strerrorname_np(errno);
	result = tcp_connect(port);
	close(listener);
	return result;
}

static const char *loopback_flags(void)
{
	struct ifreq ifr = {.ifr_name = "lo"};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r = ioctl(fd, SIOCGIFFLAGS, &ifr);

	close(fd);
	if (r < 0)
		return strerrorname_np(errno);
	return ifr.ifr_flags & IFF_UP ? "up" : "down";
}

static void report_interfaces(int fd)
{
	struct if_nameindex *list = if_nameindex();
	char names[512] = "";
	size_t len = 0;

	for (struct if_nameindex *i = list; i && i->if_index; i++)
		if (len < sizeof(names))
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
						len ? " " : "", i->if_name);
	if_freenameindex(list);
	report(fd, "interfaces", "%s", names);
}

/* The single line of an id map, its fields separated by one space. */
static void report_id_map(int fd, const char *key, const char *path)
{
	unsigned inside = 0, outside = 0, count = 0;
	FILE *f = fopen(path, "re");

	if (!f || fscanf(f, "%u %u %u", &inside, &outside, &count) != 3)
		report(fd, key, "unreadable");
	else
		report(fd, key, "%u %u %u", inside, outside, count);
	if (f)
		fclose(f);
}

static void report_word(int fd, const char *key, const char *path)
{
	char word[32] = "";
	FILE *f = fopen(path, "re");

	if (!f || fscanf(f, "%31s", word) != 1)
		snprintf(word, sizeof(word), "unreadable");
	if (f)
		fclose(f);
	report(fd, key, "%s", word);
}

static void probe_namespaces(int fd)
{
	struct utsname uts;
	char key[32];

	report(fd, "pid", "%d", (int)getpid());
	report(fd, "ppid", "%d", (int)getppid());
	/* The test process's pid names no process in the new PID namespace. */
	report(fd, "kill_host_pid", "%s", outcome(kill(harness_host_pid, 0)));
	uname(&uts);
	report(fd, "hostname", "%s", uts.nodename);
	for (size_t i = 0; i < ARRAY_SIZE(harness_ns_kinds); i++) {
		snprintf(key, sizeof(key), "ns:%s", harness_ns_kinds[i]);
		report(fd, key, "%s", ns_state(harness_ns_kinds[i], i));
	}
	report(fd, "uid", "%u", (unsigned)getuid());
	report_id_map(fd, "uid_map", "/proc/self/uid_map");
	report_id_map(fd, "gid_map", "/proc/self/gid_map");
	report_word(fd, "setgroups", "/proc/self/setgroups");
	report_interfaces(fd);
	report(fd, "lo", "%s", loopback_flags());
	report(fd, "connect_host", "%s", tcp_connect(harness_listener_port));
	report(fd, "connect_loopback", "%s", loopback_round_trip());
}

static struct sandbox_case namespaces_case(bool rootless, bool net_none)
{
	return (struct sandbox_case){
	    .spec = {.user_ns = rootless, .net_none = net_none, .hostname = HOSTNAME},
	    .rootless = rootless,
	    .probe = probe_namespaces,
	};
}

static void assert_isolated(const char *text)
{
	assert_sandbox_ready(text);
	assert_string_equal(report_value(text, "pid"), "1");
	assert_string_equal(report_value(text, "ppid"), "0");
	assert_string_equal(report_value(text, "kill_host_pid"), "ESRCH");
	assert_string_equal(report_value(text, "hostname"), HOSTNAME);
	assert_string_equal(report_value(text, "ns:pid"), "new");
	assert_string_equal(report_value(text, "ns:ipc"), "new");
	assert_string_equal(report_value(text, "ns:uts"), "new");
	assert_string_equal(report_value(text, "ns:mnt"), "new");
}

static void assert_network_none(const char *text)
{
	assert_string_equal(report_value(text, "ns:net"), "new");
	assert_string_equal(report_value(text, "interfaces"), "lo");
	assert_string_equal(report_value(text, "lo"), "up");
	assert_string_equal(report_value(text, "connect_loopback"), "ok");
	assert_string_equal(report_value(text, "connect_host"), "ECONNREFUSED");
}

static void test_namespaces_as_root(void **state)
{
	struct sandbox_case c = namespaces_case(false, true);
	char *text;

	(void)state;
	skip_unless_root();
	text = sandbox_run(&c);
	assert_isolated(text);
	assert_network_none(text);
	assert_string_equal(report_value(text, "ns:user"), "same");
	assert_string_equal(report_value(text, "uid"), "0");
	free(text);
}

/* uid 65534 with no capability: the user namespace makes the rest work, with
 * the invoking ids mapped to themselves and setgroups denied. */
static void test_namespaces_rootless(void **state)
{
	struct sandbox_case c = namespaces_case(true, true);
	char *text;

	(void)state;
	skip_unless_root();
	text = sandbox_run(&c);
	assert_isolated(text);
	assert_network_none(text);
	assert_string_equal(report_value(text, "enter_userns"), "new");
	assert_string_equal(report_value(text, "ns:user"), "new");
	assert_string_equal(report_value(text, "uid"), "65534");
	assert_string_equal(report_value(text, "uid_map"), UNPRIVILEGED_MAP);
	assert_string_equal(report_value(text, "gid_map"), UNPRIVILEGED_MAP);
	assert_string_equal(report_value(text, "setgroups"), "deny");
	free(text);
}

/* Without net_none the host's network namespace is kept: the host's
 * listener answers. */
static void test_namespaces_network_host(void **state)
{
	struct sandbox_case c = namespaces_case(true, false);
	char *text;

	(void)state;
	skip_unless_root();
	text = sandbox_run(&c);
	assert_isolated(text);
	assert_string_equal(report_value(text, "ns:net"), "same");
	assert_string_equal(report_value(text, "connect_host"), "ok");
	free(text);
}

static void write_or_fail(int fd, const char *path, const char *content)
{
	int f = open(path, O_WRONLY | O_CLOEXEC);

	harness_require(fd, f >= 0, path);
	harness_require(fd, write(f, content, strlen(content)) == (ssize_t)strlen(content), path);
	close(f);
}

/* Disables user namespaces the way an administrator does, but only below
 * this process: root of a fresh user namespace sets that namespace's own
 * user.max_user_namespaces to 0. */
static void disable_user_namespaces(int fd)
{
	harness_require(fd, unshare(CLONE_NEWUSER) == 0, "unshare(CLONE_NEWUSER)");
	write_or_fail(fd, "/proc/self/setgroups", "deny");
	write_or_fail(fd, "/proc/self/uid_map", "0 0 1");
	write_or_fail(fd, "/proc/self/gid_map", "0 0 1");
	write_or_fail(fd, "/proc/sys/user/max_user_namespaces", "0");
}

static void test_namespaces_userns_unavailable(void **state)
{
	struct sandbox_case c = namespaces_case(false, true);
	char rc[16];
	char *text;

	(void)state;
	skip_unless_root();
	c.spec.user_ns = true;
	c.before_enter = disable_user_namespaces;
	text = sandbox_run(&c);
	snprintf(rc, sizeof(rc), "%d", NAMESPACES_USERNS_UNAVAILABLE);
	assert_string_equal(report_value(text, "enter_rc"), rc);
	assert_string_equal(report_value(text, "enter_msg"),
			    "unshare(CLONE_NEWUSER): No space left on device: user namespaces are "
			    "unavailable to this user (user.max_user_namespaces is 0)");
	/* Nothing changed: the caller can go on with Landlock and seccomp. */
	assert_string_equal(report_value(text, "enter_userns"), "same");
	assert_string_equal(report_value(text, "setup_rc"), "(missing)");
	free(text);
}

static void test_namespaces_hostname_too_long(void **state)
{
	struct sandbox_case c = namespaces_case(false, false);
	char name[80];
	char *text;

	(void)state;
	skip_unless_root();
	memset(name, 'h', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	c.spec.hostname = name;
	text = sandbox_run(&c);
	assert_string_equal(report_value(text, "enter_rc"), "-22");
	assert_non_null(strstr(report_value(text, "enter_msg"), "sethostname(\"hhhh"));
	free(text);
}

/* network_loopback_up() on its own, in a fresh network namespace whose lo
 * starts down. */
static void test_network_loopback_up(void **state)
{
	struct error err = {0};
	int status;
	pid_t pid;

	(void)state;
	skip_unless_root();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) < 0)
			_exit(10);
		if (strcmp(loopback_flags(), "down") != 0 ||
		    strcmp(loopback_round_trip(), "ENETUNREACH") != 0)
			_exit(11);
		if (network_loopback_up(&err) < 0)
			_exit(12);
		if (strcmp(loopback_flags(), "up") != 0 || strcmp(loopback_round_trip(), "ok") != 0)
			_exit(13);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_namespaces_as_root),
	    cmocka_unit_test(test_namespaces_rootless),
	    cmocka_unit_test(test_namespaces_network_host),
	    cmocka_unit_test(test_namespaces_userns_unavailable),
	    cmocka_unit_test(test_namespaces_hostname_too_long),
	    cmocka_unit_test(test_network_loopback_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
