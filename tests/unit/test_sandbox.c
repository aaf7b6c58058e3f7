/* The seccomp policies of common/sandbox.c, one thread kind at a time, each in a child process: what the
 * thread needs works, on its own descriptors only; a call outside its list, or the test hook
 * LBVM_TEST_FORBIDDEN_SYSCALL, ends the process with exit status 10 and one line naming the thread and the
 * call. (The vCPU's KVM ioctls are checked against a stand-in descriptor: the filter lets KVM_RUN through
 * to the kernel, which answers ENOTTY for a pipe; any other request never gets there.) */
#include "check_run.h"
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/exit_codes.h"
#include "common/sandbox.h"
#include "common/guest_mem.h"
#include "common/layout.h"
#include "devices/acpi_pm.h"
#include "devices/cmos_rtc.h"
#include "devices/disk_image.h"
#include "devices/i8042.h"
#include "devices/ide.h"
#include "devices/sysctl_a.h"
#include "devices/uart16550.h"
#include "firmware/abi.h"
#include "firmware/int13.h"
#include "firmware/service.h"
#include "vmm/console_watch.h"

struct job {
	enum sandbox_kind kind;
	struct sandbox_fds fds;
	void (*body)(struct job *j); /* runs confined; returning means it survived */
	int fd_a, fd_b;              /* descriptors the body uses */
	int result;
};

static void *thread_main(void *opaque)
{
	struct job *j = opaque;
	struct error err = { 0 };
	if (sandbox_enter(j->kind, &j->fds, &err) < 0) {
		fprintf(stderr, "sandbox_enter: %s\n", err.msg);
		j->result = -1;
		return NULL;
	}
	j->body(j);
	return NULL;
}

/* Fork; in the child run J's body on a new confined thread (the main thread stays unconfined, as lbvm's
 * does) and exit 0 if it came back; return the child's wait status and its stderr. */
static int run_job(struct job *j, char *text, size_t cap)
{
	int pipefd[2];
	ck_assert_int_eq(pipe(pipefd), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		pthread_t t;
		if (pthread_create(&t, NULL, thread_main, j) != 0)
			_exit(99);
		pthread_join(t, NULL);
		_exit(j->result == 0 ? 0 : 98);
	}
	close(pipefd[1]);
	size_t used = 0;
	ssize_t n;
	while (used + 1 < cap && (n = read(pipefd[0], text + used, cap - 1 - used)) > 0)
		used += (size_t)n;
	text[used] = '\0';
	close(pipefd[0]);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void expect_survives(struct job *j)
{
	char text[1024];
	int status = run_job(j, text, sizeof(text));
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s thread died: status 0x%x, stderr: %s",
		      sandbox_kind_name(j->kind), status, text);
}

static void expect_stopped(struct job *j, const char *call)
{
	char text[1024], want[256];
	int status = run_job(j, text, sizeof(text));
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SANDBOX, "%s: status 0x%x, stderr: %s",
		      sandbox_kind_name(j->kind), status, text);
	snprintf(want, sizeof(want), "lbvm: sandbox: the %s thread made a forbidden system call: %s (",
		 sandbox_kind_name(j->kind), call);
	ck_assert_msg(strstr(text, want) != NULL, "stderr: %s (want %s)", text, want);
	ck_assert_ptr_nonnull(strstr(text, "lbvm stops (exit status 10, docs/security.md)\n"));
}

static struct job job_of(enum sandbox_kind kind, void (*body)(struct job *))
{
	struct job j;
	memset(&j, 0, sizeof(j));
	j.kind = kind;
	j.body = body;
	j.fds.vcpu_fd = j.fds.vm_fd = -1;
	j.fds.dir_fd = j.fds.listen_fd = -1;
	j.fd_a = j.fd_b = -1;
	return j;
}

/* ---- bodies ---- */

static void nothing(struct job *j) { (void)j; }

static void open_a_file(struct job *j)
{
	(void)j;
	syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
}

static void write_a(struct job *j)
{
	if (write(j->fd_a, "x", 1) != 1)
		j->result = -1;
}

static void write_b(struct job *j)
{
	ssize_t ignored = write(j->fd_b, "x", 1);
	(void)ignored;
}

static void malloc_and_free(struct job *j)
{
	void *big = malloc(8 << 20), *small = malloc(100);
	if (!big || !small)
		j->result = -1;
	else
		memset(big, 1, 8 << 20);
	free(big);
	free(small);
}

static void map_executable(struct job *j)
{
	(void)j;
	syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void exec_shell(struct job *j)
{
	(void)j;
	char *argv[] = { "sh", NULL };
	syscall(SYS_execve, "/bin/sh", argv, NULL);
}

static void socket_out(struct job *j)
{
	(void)j;
	syscall(SYS_socket, 2 /* AF_INET */, 1 /* SOCK_STREAM */, 0);
}

static void kvm_run_on_a(struct job *j)
{
	/* the filter passes it, the kernel answers: a pipe is not a vCPU */
	if (syscall(SYS_ioctl, j->fd_a, KVM_RUN, 0) != -1 || errno != ENOTTY)
		j->result = -1;
}

static void kvm_samples_on_a(struct job *j)
{
	/* reading where the vCPU is (vmm/fate.h) passes the filter; the kernel refuses a pipe */
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_mp_state mp;
	if (syscall(SYS_ioctl, j->fd_a, KVM_GET_REGS, &regs) != -1 || errno != ENOTTY ||
	    syscall(SYS_ioctl, j->fd_a, KVM_GET_SREGS, &sregs) != -1 || errno != ENOTTY ||
	    syscall(SYS_ioctl, j->fd_a, KVM_GET_MP_STATE, &mp) != -1 || errno != ENOTTY)
		j->result = -1;
}

static void kvm_other_request(struct job *j)
{
	struct kvm_regs regs = { 0 };
	syscall(SYS_ioctl, j->fd_a, KVM_SET_REGS, &regs);
}

static void irq_line_on_b(struct job *j)
{
	struct kvm_irq_level irq = { .irq = 4, .level = 1 };
	if (syscall(SYS_ioctl, j->fd_b, KVM_IRQ_LINE, &irq) != -1 || errno != ENOTTY)
		j->result = -1;
}

static void disk_io_on_a(struct job *j)
{
	char buf[512] = { 0 };
	if (pwrite(j->fd_a, buf, sizeof(buf), 512) != 512 || pread(j->fd_a, buf, sizeof(buf), 0) != 512 ||
	    fdatasync(j->fd_a) != 0)
		j->result = -1;
}

static void disk_io_on_b(struct job *j)
{
	char buf[16];
	ssize_t ignored = pread(j->fd_b, buf, sizeof(buf), 0);
	(void)ignored;
}

static void read_and_poll_a(struct job *j)
{
	struct pollfd p = { .fd = j->fd_a, .events = POLLIN };
	char c;
	if (poll(&p, 1, 1000) != 1 || read(j->fd_a, &c, 1) != 1)
		j->result = -1;
}

static void wait_for_signals(struct job *j)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	struct timespec tick = { 0, 1000000 };
	struct timespec now;
	if (sigtimedwait(&set, NULL, &tick) != -1 || clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		j->result = -1;
}

/* The network's thread: a Unix stream socket, connected (to fd_a's listening socket), written and read;
 * a poll on it; the card's interrupt on the VM's stand-in descriptor fd_b. */
static struct sockaddr_un listen_addr;

static void unix_socket_round_trip(struct job *j)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct pollfd p = { .fd = s, .events = POLLOUT };
	int flags = fcntl(s, F_GETFL);
	if (s < 0 || flags < 0 || fcntl(s, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    (connect(s, (struct sockaddr *)&listen_addr, sizeof(listen_addr)) < 0 && errno != EINPROGRESS) ||
	    poll(&p, 1, 1000) != 1 || send(s, "x", 1, 0) != 1 || shutdown(s, SHUT_WR) < 0 || close(s) < 0)
		j->result = -1;
	struct kvm_irq_level irq = { .irq = 16, .level = 1 };
	if (syscall(SYS_ioctl, j->fd_b, KVM_IRQ_LINE, &irq) != -1 || errno != ENOTTY)
		j->result = -1;
}

static void udp_socket(struct job *j)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || close(s) < 0)
		j->result = -1;
}

static void stat_resolv_conf(struct job *j)
{
	struct stat st;
	if (stat("/", &st) < 0)
		j->result = -1;
}

/* The mirror: openat under its directory only, read-only, no link followed; accept4 on its socket. */
static void open_in_dir_a(struct job *j)
{
	int fd = openat(j->fd_a, "file", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	char c;
	if (fd < 0 || fstat(fd, &st) < 0 || pread(fd, &c, 1, 0) != 1 || read(fd, &c, 1) != 1 || close(fd) < 0)
		j->result = -1;
}

static void open_in_dir_a_for_writing(struct job *j)
{
	openat(j->fd_a, "file", O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
}

static void open_in_dir_b(struct job *j)
{
	openat(j->fd_b, "file", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
}

static void accept_on_b(struct job *j)
{
	int fd = accept4(j->fd_b, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd >= 0 || errno != EAGAIN)
		j->result = -1;
}

static pid_t test_pid; /* the test process, parent of the confined child */

static void kill_parent(struct job *j)
{
	(void)j;
	syscall(SYS_kill, test_pid, 0);
}

/* The device models the vCPU thread runs, driven inside its sandbox in a fresh process: any libc call
 * among them that does I/O of its own on first use (gmtime_r loading /etc/localtime did) traps here. */
static void noop_irq(void *opaque, unsigned gsi, int level) { (void)opaque, (void)gsi, (void)level; }
static void noop_tx(void *opaque, uint8_t byte, bool polled) { (void)opaque, (void)byte, (void)polled; }
static void noop_reset(void *opaque) { (void)opaque; }

static void drive_device_models(struct job *j)
{
	(void)j;
	struct cmos_rtc rtc;
	cmos_rtc_init(&rtc, 1700000000);
	for (uint8_t reg = 0; reg < 0x40; reg++) {
		uint8_t v;
		cmos_rtc_io_write(&rtc, 0, &reg, 1);
		cmos_rtc_io_read(&rtc, 1, &v, 1);
		v = (uint8_t)(v + 1);
		cmos_rtc_io_write(&rtc, 1, &v, 1);
	}
	struct uart16550 u;
	uart_init(&u, (struct irq_line){ .set = noop_irq }, noop_tx, NULL);
	for (unsigned r = 0; r < UART_PORTS; r++) {
		uint8_t v = 0x0f;
		uart_io_write(&u, r, &v, 1);
		uart_io_read(&u, r, &v, 1);
	}
	uart_feed(&u, (const uint8_t *)"typed\n", 6);
	uart_destroy(&u);
	struct i8042 kbc;
	i8042_init(&kbc, noop_reset, NULL);
	uint8_t cmd = 0xaa, v;
	i8042_cmd_write(&kbc, 0, &cmd, 1);
	i8042_data_read(&kbc, 0, &v, 1);
	struct console_watch w;
	console_watch_init(&w);
	const char *lines = "[    0.000000] Linux version 6.1.0\nlbvm-mark: stage\nKernel panic - not syncing: x\n";
	for (const char *c = lines; *c; c++)
		console_watch_byte(&w, (uint8_t)*c);
}

/* The firmware mode's devices (lbvm boot --firmware) on the vCPU thread: port 92h, ACPI's PM and reset
 * registers, the IDE channel (IDENTIFY, PIO read and write, FLUSH CACHE) and the firmware's INT 13h
 * service (extended read and write), on a disk image whose descriptor the sandbox was given. */
#define FW_RAM_BYTES (1024 * KiB)
#define FW_DAP       0x6000u
#define FW_BUF       0x10000u
static struct disk_image *fw_disk;
static uint8_t *fw_ram;

static void ide_out(struct ide_channel *ch, unsigned reg, uint8_t v) { ide_cmd_write(ch, reg, &v, 1); }

static uint8_t ide_status(struct ide_channel *ch)
{
	uint8_t v = 0;
	ide_cmd_read(ch, IDE_REG_STATUS, &v, 1);
	return v;
}

static void ide_command(struct job *j, struct ide_channel *ch, uint8_t cmd, bool out)
{
	ide_out(ch, IDE_REG_DEVICE, IDE_DEV_OBS | IDE_DEV_LBA);
	ide_out(ch, IDE_REG_NSECT, 1);
	ide_out(ch, IDE_REG_LBAL, 3);
	ide_out(ch, IDE_REG_LBAM, 0);
	ide_out(ch, IDE_REG_LBAH, 0);
	ide_out(ch, IDE_REG_STATUS, cmd);
	for (unsigned i = 0; i < 256; i++) {
		uint16_t w = (uint16_t)i;
		if (out)
			ide_cmd_write(ch, IDE_REG_DATA, &w, 2);
		else
			ide_cmd_read(ch, IDE_REG_DATA, &w, 2);
	}
	if (ide_status(ch) & 0x01) /* ERR */
		j->result = -1;
}

static void int13_ext(struct fw_service *svc, uint8_t fn)
{
	memset(fw_ram + FW_DAP, 0, 16);
	fw_ram[FW_DAP] = 16;
	fw_ram[FW_DAP + 2] = 2;                  /* two sectors ... */
	fw_ram[FW_DAP + 7] = FW_BUF >> 12;       /* ... at FW_BUF >> 4 : 0 ... */
	fw_ram[FW_DAP + 8] = 5;                  /* ... from LBA 5 */
	struct int13_frame f = { .ax = (uint16_t)(fn << 8), .dx = 0x80, .ds = FW_DAP >> 4, .si = FW_DAP & 15 };
	uint8_t raw[FW_FRAME_SIZE];
	int13_frame_encode(raw, &f);
	memcpy(fw_ram + LAYOUT_FW_INT13_FRAME, raw, sizeof(raw));
	uint8_t any = 0;
	fw_service_io_write(svc, FW_PORT_INT13, &any, 1);
}

static void drive_firmware_devices(struct job *j)
{
	struct sysctl_a port92;
	sysctl_a_init(&port92, noop_reset, NULL);
	uint8_t v = SYSCTL_A_RESET;
	sysctl_a_write(&port92, 0, &v, 1);
	sysctl_a_read(&port92, 0, &v, 1);
	struct acpi_pm pm;
	acpi_pm_init(&pm, (struct irq_line){ .set = noop_irq }, noop_reset, noop_reset, NULL);
	v = ACPI_PM_RESET_VALUE;
	acpi_pm_reset_write(&pm, 0, &v, 1);
	uint16_t cnt = (uint16_t)(ACPI_PM1_SLP_EN | ACPI_PM_SLP_TYP_S5 << ACPI_PM1_SLP_TYP_SHIFT);
	acpi_pm_cnt_write(&pm, 0, &cnt, 2);

	struct ide_channel ch;
	ide_init(&ch, &fw_disk, 1, (struct irq_line){ .set = noop_irq, .gsi = LAYOUT_IRQ_IDE });
	ide_command(j, &ch, 0xec, false); /* IDENTIFY DEVICE */
	ide_command(j, &ch, 0x20, false); /* READ SECTORS */
	ide_command(j, &ch, 0x30, true);  /* WRITE SECTORS */
	ide_out(&ch, IDE_REG_STATUS, 0xe7); /* FLUSH CACHE */
	if (ide_status(&ch) & 0x01)
		j->result = -1;

	struct guest_mem mem;
	guest_mem_wrap(&mem, fw_ram, FW_RAM_BYTES);
	struct fw_service svc;
	fw_service_init(&svc, &mem, &fw_disk, 1, NULL, NULL);
	int13_ext(&svc, 0x42);
	int13_ext(&svc, 0x43);
	struct int13_frame f;
	int13_frame_decode(&f, fw_ram + LAYOUT_FW_INT13_FRAME);
	if (f.flags & FW_FRAME_CF)
		j->result = -1;
}

/* ---- tests ---- */

START_TEST(every_kind_has_a_name)
{
	for (int k = 0; k < SANDBOX_KIND_COUNT; k++)
		ck_assert_str_ne(sandbox_kind_name((enum sandbox_kind)k), "unknown");
	ck_assert_str_eq(sandbox_kind_name(SANDBOX_VCPU), "vcpu");
}
END_TEST

/* What no confined thread may do, whatever its kind. */
START_TEST(no_kind_opens_execs_maps_code_or_connects)
{
	void (*forbidden[])(struct job *) = { open_a_file, exec_shell, map_executable, socket_out, kill_parent };
	const char *calls[] = { "openat", "execve", "mmap", "socket", "kill" };
	for (int k = 0; k < SANDBOX_KIND_COUNT; k++) {
		for (size_t f = 0; f < sizeof(forbidden) / sizeof(forbidden[0]); f++) {
			if (k == SANDBOX_NET_ONLINE && forbidden[f] == socket_out)
				continue; /* --net user: its sockets to the outside (net_online_sockets) */
			struct job j = job_of((enum sandbox_kind)k, forbidden[f]);
			expect_stopped(&j, calls[f]);
		}
		struct job ok = job_of((enum sandbox_kind)k, malloc_and_free);
		expect_survives(&ok);
	}
}
END_TEST

START_TEST(writes_only_to_its_descriptors)
{
	int p[2], q[2];
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pipe(q), 0);
	enum sandbox_kind writers[] = { SANDBOX_VCPU, SANDBOX_CONSOLE_OUT, SANDBOX_IMAGE_READER };
	for (size_t i = 0; i < sizeof(writers) / sizeof(writers[0]); i++) {
		struct job j = job_of(writers[i], write_a);
		j.fd_a = p[1];
		j.fd_b = q[1];
		j.fds.write_fds[0] = p[1];
		j.fds.nwrite = 1;
		expect_survives(&j);
		j.body = write_b;
		expect_stopped(&j, "write");
	}
	/* the watchdog and console input write nothing at all */
	struct job w = job_of(SANDBOX_WATCHDOG, write_a);
	w.fd_a = p[1];
	expect_stopped(&w, "write");
	struct job in = job_of(SANDBOX_CONSOLE_IN, write_a);
	in.fd_a = p[1];
	expect_stopped(&in, "write");
}
END_TEST

START_TEST(vcpu_kvm_ioctls_and_disks_on_its_descriptors_only)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	int disk = memfd_create("disk", 0), other = memfd_create("other", 0);
	ck_assert_int_eq(ftruncate(disk, 4096), 0);
	ck_assert_int_eq(ftruncate(other, 4096), 0);
	struct job j = job_of(SANDBOX_VCPU, kvm_run_on_a);
	j.fds.vcpu_fd = p[0];
	j.fds.vm_fd = p[1];
	j.fd_a = p[0];
	j.fd_b = p[1];
	expect_survives(&j);
	j.body = irq_line_on_b;
	expect_survives(&j);
	j.body = kvm_samples_on_a;
	expect_survives(&j);
	j.body = kvm_other_request; /* KVM_SET_REGS: the vCPU's state is not changed during a run */
	expect_stopped(&j, "ioctl");
	j.fd_a = p[1]; /* KVM_RUN on the VM's descriptor */
	j.body = kvm_run_on_a;
	expect_stopped(&j, "ioctl");

	struct job d = job_of(SANDBOX_VCPU, disk_io_on_a);
	d.fds.disk_fds[0] = disk;
	d.fds.ndisks = 1;
	d.fd_a = disk;
	d.fd_b = other;
	expect_survives(&d);
	d.body = disk_io_on_b;
	expect_stopped(&d, "pread64");
}
END_TEST

START_TEST(vcpu_runs_the_device_models)
{
	struct job j = job_of(SANDBOX_VCPU, drive_device_models);
	expect_survives(&j);
}
END_TEST

START_TEST(vcpu_runs_the_firmware_devices)
{
	char path[] = "/tmp/lbvm-sandbox-disk-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 64 * 512), 0);
	close(fd);
	ck_assert_int_eq(disk_image_open(path, false, &fw_disk, NULL), 0);
	fw_ram = calloc(1, FW_RAM_BYTES);
	ck_assert_ptr_nonnull(fw_ram);
	struct job j = job_of(SANDBOX_VCPU, drive_firmware_devices);
	j.fds.disk_fds[0] = fw_disk->fd;
	j.fds.ndisks = 1;
	expect_survives(&j);
	free(fw_ram);
	disk_image_close(fw_disk);
	unlink(path);
}
END_TEST

START_TEST(console_in_reads_stdin_only)
{
	int p[2], q[2];
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pipe(q), 0);
	ck_assert_int_eq(write(p[1], "ab", 2), 2);
	ck_assert_int_eq(write(q[1], "ab", 2), 2);
	struct job j = job_of(SANDBOX_CONSOLE_IN, read_and_poll_a);
	j.fds.read_fds[0] = p[0];
	j.fds.nread = 1;
	j.fd_a = p[0];
	expect_survives(&j);
	j.fd_a = q[0];
	expect_stopped(&j, "read");
	/* a byte handed to the UART raises its interrupt: KVM_IRQ_LINE on the VM's descriptor only */
	struct job irq = job_of(SANDBOX_CONSOLE_IN, irq_line_on_b);
	irq.fds.vm_fd = q[1];
	irq.fd_b = q[1];
	expect_survives(&irq);
	irq.fd_b = p[1];
	expect_stopped(&irq, "ioctl");
}
END_TEST

START_TEST(watchdog_waits_and_reads_clocks)
{
	struct job j = job_of(SANDBOX_WATCHDOG, wait_for_signals);
	expect_survives(&j);
	struct job r = job_of(SANDBOX_WATCHDOG, disk_io_on_b);
	r.fd_b = STDIN_FILENO;
	expect_stopped(&r, "pread64");
}
END_TEST

START_TEST(net_reaches_the_mirror_and_nothing_else)
{
	char dir[] = "/tmp/lbvm-sandbox-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	listen_addr = (struct sockaddr_un){ .sun_family = AF_UNIX };
	snprintf(listen_addr.sun_path, sizeof(listen_addr.sun_path), "%s/s", dir);
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(l, 0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&listen_addr, sizeof(listen_addr)), 0);
	ck_assert_int_eq(listen(l, 4), 0);
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	enum sandbox_kind kinds[] = { SANDBOX_NET, SANDBOX_NET_ONLINE };
	for (size_t k = 0; k < 2; k++) {
		struct job j = job_of(kinds[k], unix_socket_round_trip);
		j.fds.vm_fd = p[1];
		j.fd_b = p[1];
		j.fds.read_fds[0] = j.fds.write_fds[0] = p[0];
		j.fds.nread = j.fds.nwrite = 1;
		expect_survives(&j);
		j.fd_b = p[0]; /* KVM_IRQ_LINE on anything but the VM */
		expect_stopped(&j, "ioctl");
		j.body = open_a_file;
		expect_stopped(&j, "openat");
		j.body = exec_shell;
		expect_stopped(&j, "execve");
	}
	/* hermetic: no socket but a Unix one, no stat of a path */
	struct job h = job_of(SANDBOX_NET, udp_socket);
	expect_stopped(&h, "socket");
	h.body = socket_out;
	expect_stopped(&h, "socket");
	h.body = stat_resolv_conf;
	expect_stopped(&h, "newfstatat");
	/* online: UDP and TCP out, and stat() of resolv.conf */
	struct job o = job_of(SANDBOX_NET_ONLINE, udp_socket);
	expect_survives(&o);
	o.body = stat_resolv_conf;
	expect_survives(&o);
	close(l);
	unlink(listen_addr.sun_path);
	rmdir(dir);
}
END_TEST

START_TEST(mirror_opens_only_in_its_directory)
{
	char dir[] = "/tmp/lbvm-sandbox-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof(path), "%s/file", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("ab", f);
	fclose(f);
	int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), other = open("/", O_RDONLY | O_DIRECTORY);
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), l2 = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", dir);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(l, 4), 0);
	struct job j = job_of(SANDBOX_MIRROR, open_in_dir_a);
	j.fds.dir_fd = dir_fd;
	j.fds.listen_fd = l;
	j.fd_a = dir_fd;
	j.fd_b = l;
	expect_survives(&j);
	j.body = accept_on_b;
	expect_survives(&j);
	j.body = open_in_dir_a_for_writing;
	expect_stopped(&j, "openat");
	j.fd_b = other;
	j.body = open_in_dir_b;
	expect_stopped(&j, "openat");
	j.fd_b = l2;
	j.body = accept_on_b;
	expect_stopped(&j, "accept4");
	j.body = socket_out;
	expect_stopped(&j, "socket");
	close(l);
	close(l2);
	close(dir_fd);
	close(other);
	unlink(sa.sun_path);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* LBVM_TEST_FORBIDDEN_SYSCALL=KIND: the hook the KVM test host uses on a real vCPU thread. */
START_TEST(the_test_hook_breaks_the_named_kind_only)
{
	for (int k = 0; k < SANDBOX_KIND_COUNT; k++) {
		setenv(SANDBOX_TEST_HOOK_ENV, sandbox_kind_name((enum sandbox_kind)k), 1);
		struct job j = job_of((enum sandbox_kind)k, nothing);
		expect_stopped(&j, "openat");
		struct job other = job_of((enum sandbox_kind)((k + 1) % SANDBOX_KIND_COUNT), nothing);
		expect_survives(&other);
	}
	unsetenv(SANDBOX_TEST_HOOK_ENV);
}
END_TEST

int main(void)
{
	test_pid = getpid();
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("policies");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, every_kind_has_a_name);
	tcase_add_test(tc, no_kind_opens_execs_maps_code_or_connects);
	tcase_add_test(tc, writes_only_to_its_descriptors);
	tcase_add_test(tc, vcpu_kvm_ioctls_and_disks_on_its_descriptors_only);
	tcase_add_test(tc, vcpu_runs_the_device_models);
	tcase_add_test(tc, vcpu_runs_the_firmware_devices);
	tcase_add_test(tc, console_in_reads_stdin_only);
	tcase_add_test(tc, watchdog_waits_and_reads_clocks);
	tcase_add_test(tc, net_reaches_the_mirror_and_nothing_else);
	tcase_add_test(tc, mirror_opens_only_in_its_directory);
	tcase_add_test(tc, the_test_hook_breaks_the_named_kind_only);
	suite_add_tcase(s, tc);
	return check_run(s);
}
