/* Run a command as another uid/gid (the test host's busybox has no setuidgid): used to check what lbvm
 * says to a user without permission on /dev/kvm. Usage: runas UID GID COMMAND [ARGS...] */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: runas UID GID COMMAND [ARGS...]\n");
		return 2;
	}
	gid_t gid = (gid_t)strtoul(argv[2], NULL, 10);
	if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid((uid_t)strtoul(argv[1], NULL, 10)) < 0) {
		perror("runas");
		return 2;
	}
	execvp(argv[3], argv + 3);
	perror("runas: exec");
	return 127;
}
