/* unix-probe: unix stream sockets, abstract ("@NAME") and pathname.
 *   unix-probe listen-abstract NAME | listen-path PATH
 *       bind and listen, print "listening NAME", then accept until killed
 *   unix-probe connect-abstract NAME | connect-path PATH
 *   unix-probe pair-abstract NAME | pair-path PATH
 *       bind, listen and connect to itself in one process
 * prints "OP NAME ok" or "OP NAME errno=<N> <NAME>"; exits 0 (2 on a usage
 * error). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static socklen_t make_addr(const char *name, int abstract, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	size_t n = strlen(name);
	if (n > sizeof(sa->sun_path) - 2)
		n = sizeof(sa->sun_path) - 2;
	if (abstract) {
		memcpy(sa->sun_path + 1, name, n);
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	}
	memcpy(sa->sun_path, name, n);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
}

/* Returns a listening socket or -errno. */
static int listen_on(const char *name, int abstract)
{
	struct sockaddr_un sa;
	socklen_t len = make_addr(name, abstract, &sa);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 16) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* Returns 0 or an errno. */
static int connect_to(const char *name, int abstract)
{
	struct sockaddr_un sa;
	socklen_t len = make_addr(name, abstract, &sa);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	int r = connect(fd, (struct sockaddr *)&sa, len) < 0 ? errno : 0;
	close(fd);
	return r;
}

static int serve(const char *name, int abstract)
{
	int fd = listen_on(name, abstract);
	if (fd < 0) {
		printf("listen %s errno=%d %s\n", name, -fd, strerrorname_np(-fd));
		return 1;
	}
	printf("listening %s\n", name);
	fflush(stdout);
	for (;;) {
		int c = accept(fd, NULL, NULL);
		if (c >= 0)
			close(c);
	}
}

static int pair(const char *name, int abstract)
{
	int fd = listen_on(name, abstract);
	if (fd < 0)
		return -fd;
	int r = connect_to(name, abstract);
	close(fd);
	return r;
}

static void report(const char *op, const char *name, int e)
{
	if (e)
		printf("%s %s errno=%d %s\n", op, name, e, strerrorname_np(e));
	else
		printf("%s %s ok\n", op, name);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: unix-probe OP NAME\n");
		return 2;
	}
	const char *op = argv[1], *name = argv[2];
	int abstract = strstr(op, "-abstract") != NULL;
	if (strncmp(op, "listen-", 7) == 0)
		return serve(name, abstract);
	if (strncmp(op, "connect-", 8) == 0)
		report(op, name, connect_to(name, abstract));
	else if (strncmp(op, "pair-", 5) == 0)
		report(op, name, pair(name, abstract));
	else {
		fprintf(stderr, "unix-probe: unknown operation '%s'\n", op);
		return 2;
	}
	return 0;
}
