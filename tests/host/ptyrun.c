/* Run a command on a pseudo-terminal (the test host's busybox has no script(1)), as a user at a terminal
 * would: its stdin and stdout are the terminal, its stderr is ours. Everything it writes is copied to our
 * stdout; once that output contains WAIT, the bytes SEND are typed (C escapes: \xHH, \n). At the end one
 * line says whether the terminal's modes are back as they were before the command ran:
 *   PTYRUN: terminal restored=yes|no
 * Exits with the command's status (128 + signal when a signal ended it); 124 when LIMIT seconds pass.
 * Usage: ptyrun LIMIT WAIT SEND COMMAND [ARGS...] */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define SEEN_MAX 65536
#define SEND_MAX 256
#define POLL_MS 100
#define EXIT_LIMIT 124

/* Decode C escapes (\xHH, \n, \r, \\) of text into out; returns the length. */
static size_t unescape(const char *text, char *out, size_t max)
{
	size_t n = 0;
	for (const char *p = text; *p && n < max; p++) {
		if (*p != '\\' || !p[1]) {
			out[n++] = *p;
			continue;
		}
		p++;
		if (*p == 'x' && p[1] && p[2]) {
			char hex[3] = { p[1], p[2], 0 };
			out[n++] = (char)strtoul(hex, NULL, 16);
			p += 2;
		} else {
			out[n++] = *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p;
		}
	}
	return n;
}

static int open_pty(int *master, char *slave_name, size_t len)
{
	*master = posix_openpt(O_RDWR | O_NOCTTY);
	if (*master < 0 || grantpt(*master) < 0 || unlockpt(*master) < 0 || ptsname_r(*master, slave_name, len))
		return -1;
	return 0;
}

static void run_child(const char *slave_name, char **argv)
{
	setsid();
	int slave = open(slave_name, O_RDWR); /* the first terminal a session leader opens becomes its own */
	if (slave < 0 || dup2(slave, STDIN_FILENO) < 0 || dup2(slave, STDOUT_FILENO) < 0) {
		perror("ptyrun: terminal");
		_exit(127);
	}
	if (slave > STDERR_FILENO)
		close(slave);
	execvp(argv[0], argv);
	perror("ptyrun: exec");
	_exit(127);
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: ptyrun LIMIT WAIT SEND COMMAND [ARGS...]\n");
		return 2;
	}
	int limit = atoi(argv[1]);
	const char *wait_for = argv[2];
	char send[SEND_MAX];
	size_t send_len = unescape(argv[3], send, sizeof(send));

	int master;
	char slave_name[128];
	struct termios before, after;
	if (open_pty(&master, slave_name, sizeof(slave_name)) < 0 || tcgetattr(master, &before) < 0) {
		perror("ptyrun: pseudo-terminal");
		return 2;
	}
	pid_t child = fork();
	if (child < 0) {
		perror("ptyrun: fork");
		return 2;
	}
	if (child == 0)
		run_child(slave_name, argv + 4);

	/* Keep the terminal alive after the child closes it, so that its modes can still be read. */
	int keep = open(slave_name, O_RDWR | O_NOCTTY);
	static char seen[SEEN_MAX + 1];
	size_t seen_len = 0;
	int sent = 0, status = 0, exited = 0;
	time_t end = time(NULL) + limit;
	while (!exited && time(NULL) < end) {
		struct pollfd pfd = { .fd = master, .events = POLLIN };
		if (poll(&pfd, 1, POLL_MS) > 0 && (pfd.revents & POLLIN)) {
			char buf[4096];
			ssize_t n = read(master, buf, sizeof(buf));
			if (n > 0) {
				fwrite(buf, 1, (size_t)n, stdout);
				fflush(stdout);
				size_t take = (size_t)n < SEEN_MAX - seen_len ? (size_t)n : SEEN_MAX - seen_len;
				memcpy(seen + seen_len, buf, take);
				seen_len += take;
				seen[seen_len] = 0;
			}
		}
		if (!sent && memmem(seen, seen_len, wait_for, strlen(wait_for))) {
			if (write(master, send, send_len) != (ssize_t)send_len) {
				perror("ptyrun: write");
				break;
			}
			sent = 1;
		}
		exited = waitpid(child, &status, WNOHANG) == child;
	}
	if (!exited) {
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
		printf("PTYRUN: no exit within %d s\n", limit);
		return EXIT_LIMIT;
	}
	int restored = keep >= 0 && tcgetattr(master, &after) == 0 && after.c_iflag == before.c_iflag &&
		       after.c_oflag == before.c_oflag && after.c_lflag == before.c_lflag &&
		       after.c_cflag == before.c_cflag;
	printf("PTYRUN: sent=%s terminal restored=%s\n", sent ? "yes" : "no", restored ? "yes" : "no");
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
