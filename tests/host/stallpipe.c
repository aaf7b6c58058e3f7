/* Run a command whose stdout is a console consumer that stopped reading: a pipe shrunk to one page, whose
 * read end a reader holds open and never reads, so the command's writes block once a page is pending.
 * The reader leaves when the command's end of the pipe closes. The command replaces this program (same
 * process id), so a caller can signal it directly.
 * Usage: stallpipe COMMAND [ARGS...] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#define PIPE_PAGE 4096

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: stallpipe COMMAND [ARGS...]\n");
		return 2;
	}
	int p[2];
	if (pipe(p) < 0 || fcntl(p[1], F_SETPIPE_SZ, PIPE_PAGE) < 0) {
		perror("stallpipe: pipe");
		return 2;
	}
	pid_t reader = fork();
	if (reader < 0) {
		perror("stallpipe: fork");
		return 2;
	}
	if (reader == 0) {
		/* The reader: holds the pipe, reads nothing, waits until no writer is left (poll reads no data). */
		close(p[1]);
		struct pollfd pfd = { .fd = p[0], .events = 0 };
		while (poll(&pfd, 1, -1) >= 0 && !(pfd.revents & (POLLHUP | POLLERR)))
			;
		_exit(0);
	}
	close(p[0]);
	if (dup2(p[1], STDOUT_FILENO) < 0) {
		perror("stallpipe: dup2");
		return 2;
	}
	close(p[1]);
	execvp(argv[1], argv + 1);
	perror("stallpipe: exec");
	return 127;
}
