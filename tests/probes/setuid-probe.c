/* setuid-probe: prints the identity it runs with, "ruid=R euid=E suid=S
 * rgid=G egid=G sgid=G", then tries setuid(0) and prints "setuid0 ok" or
 * "setuid0 errno=<N> <NAME>". Installed as a setuid-root copy, it shows
 * whether the setuid bit raised its privileges. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	getresuid(&ruid, &euid, &suid);
	getresgid(&rgid, &egid, &sgid);
	printf("ruid=%u euid=%u suid=%u rgid=%u egid=%u sgid=%u\n", ruid, euid, suid, rgid, egid,
	       sgid);
	if (setuid(0) < 0)
		printf("setuid0 errno=%d %s\n", errno, strerrorname_np(errno));
	else
		printf("setuid0 ok\n");
	return 0;
}
