/* The live-bootstrap flags lbvm takes, as getopt_long entries, and the ones of rootfs.py it refuses. */
#include "steps/steps.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_ARCH = STEPS_OPT_FIRST,
	OPT_CORES,
	OPT_JOBS,
	OPT_FORCE_TIMESTAMPS,
	OPT_UPDATE_CHECKSUMS,
	OPT_EXTERNAL_SOURCES,
	OPT_BUILD_KERNELS,
	OPT_SWAP,
	OPT_REPO,
	OPT_MIRROR,
};

#define MAX_CORES 4096u
#define MIB_PER_GIB 1024u

const struct option steps_long_options[] = {
	{ "arch", required_argument, NULL, OPT_ARCH },
	{ "cores", required_argument, NULL, OPT_CORES },
	{ "jobs", required_argument, NULL, OPT_JOBS },
	{ "force-timestamps", no_argument, NULL, OPT_FORCE_TIMESTAMPS },
	{ "update-checksums", no_argument, NULL, OPT_UPDATE_CHECKSUMS },
	{ "external-sources", no_argument, NULL, OPT_EXTERNAL_SOURCES },
	{ "build-kernels", no_argument, NULL, OPT_BUILD_KERNELS },
	{ "swap", required_argument, NULL, OPT_SWAP },
	{ "repo", required_argument, NULL, OPT_REPO },
	{ "mirror", required_argument, NULL, OPT_MIRROR },
	{ "mirrors", required_argument, NULL, OPT_MIRROR },
	{ NULL, 0, NULL, 0 },
};

void steps_options_init(struct steps_options *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = STEPS_MODE_KERNEL_BOOTSTRAP;
	o->cores = STEPS_DEFAULT_CORES;
}

void steps_options_free(struct steps_options *o)
{
	free(o->arch);
	free(o->repo);
	for (size_t i = 0; i < o->n_mirrors; i++)
		free(o->mirrors[i]);
	free(o->mirrors);
	steps_options_init(o);
}

struct option *steps_merge_options(const struct option *own)
{
	size_t a = 0, b = 0;
	while (own[a].name)
		a++;
	while (steps_long_options[b].name)
		b++;
	struct option *all = calloc(a + b + 1, sizeof(*all));
	if (!all)
		return NULL;
	memcpy(all, own, a * sizeof(*all));
	memcpy(all + a, steps_long_options, b * sizeof(*all));
	return all;
}

/* The guest splits MIRRORS on blanks inside a double-quoted shell assignment and hands each to curl. */
static bool url_ok(const char *url)
{
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		return false;
	size_t scheme = url[4] == 's' ? 8 : 7;
	if (!url[scheme])
		return false;
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("\"'`$\\", *p))
			return false;
	return true;
}

int steps_options_add_mirror(struct steps_options *o, const char *url, struct error *err)
{
	if (!strncmp(url, "file://", 7))
		return error_fail(err, -EINVAL,
				  "--mirror %s: a local directory is no mirror the guest can reach; give lbvm the "
				  "files as distfiles and it serves them to the guest itself",
				  url);
	if (!url_ok(url))
		return error_fail(err, -EINVAL,
				  "--mirror '%s' is not an http:// or https:// URL the guest can use (no blanks, "
				  "quotes, '$', '`' or '\\')",
				  url);
	if (o->n_mirrors >= STEPS_MAX_MIRRORS)
		return error_fail(err, -E2BIG, "more than %d mirrors", STEPS_MAX_MIRRORS);
	char **m = realloc(o->mirrors, (o->n_mirrors + 1) * sizeof(*m));
	if (!m)
		return error_fail(err, -ENOMEM, "out of memory");
	o->mirrors = m;
	if (!(m[o->n_mirrors] = strdup(url)))
		return error_fail(err, -ENOMEM, "out of memory");
	o->n_mirrors++;
	return 0;
}

static int parse_count(const char *opt, const char *arg, unsigned *out, struct error *err)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(arg, &end, 10);
	if (!isdigit((unsigned char)arg[0]) || *end || errno || v < 1 || v > MAX_CORES)
		return error_fail(err, -EINVAL, "%s '%s' is not a number from 1 to %u", opt, arg, MAX_CORES);
	*out = (unsigned)v;
	return 0;
}

/* rootfs.py's --swap: a number of MiB, or with an M or G suffix (also MiB/GiB); 0 means none. */
static int parse_swap(const char *arg, uint64_t *mib, struct error *err)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	uint64_t scale = 1;
	if (isdigit((unsigned char)arg[0]) && !errno) {
		if (!strcasecmp(end, "g") || !strcasecmp(end, "gib") || !strcasecmp(end, "gb"))
			scale = MIB_PER_GIB;
		else if (*end && strcasecmp(end, "m") && strcasecmp(end, "mib") && strcasecmp(end, "mb"))
			scale = 0;
		if (scale && v <= UINT32_MAX) {
			*mib = (uint64_t)v * scale;
			return 0;
		}
	}
	return error_fail(err, -EINVAL, "--swap '%s' is not a size in MiB or GiB (e.g. 2048, 512M, 4G)", arg);
}

static int set_string(char **field, const char *arg, struct error *err)
{
	char *d = strdup(arg);
	if (!d)
		return error_fail(err, -ENOMEM, "out of memory");
	free(*field);
	*field = d;
	return 0;
}

int steps_options_apply(struct steps_options *o, int val, const char *arg, struct error *err)
{
	switch (val) {
	case OPT_ARCH:
		return set_string(&o->arch, arg, err);
	case OPT_CORES:
		return parse_count("--cores", arg, &o->cores, err);
	case OPT_JOBS:
		return parse_count("--jobs", arg, &o->jobs, err);
	case OPT_FORCE_TIMESTAMPS:
		o->force_timestamps = true;
		return 0;
	case OPT_UPDATE_CHECKSUMS:
		o->update_checksums = true;
		return 0;
	case OPT_EXTERNAL_SOURCES:
		o->external_sources = true;
		return 0;
	case OPT_BUILD_KERNELS:
		o->build_kernels = true;
		return 0;
	case OPT_SWAP:
		return parse_swap(arg, &o->swap_mib, err);
	case OPT_REPO:
		if (!*arg)
			return error_fail(err, -EINVAL, "--repo needs a directory");
		return set_string(&o->repo, arg, err);
	case OPT_MIRROR:
		return steps_options_add_mirror(o, arg, err);
	default:
		return error_fail(err, -EINVAL, "internal: option %d is not a live-bootstrap flag", val);
	}
}

/* rootfs.py's flags that lbvm does not take, and what to use instead. */
static const struct {
	const char *flags[3];
	const char *line;
} harness_flags[] = {
	{ { "-q", "--qemu" }, "lbvm is the virtual machine; leave it out (--chroot runs without one)" },
	{ { "-qk" }, "lbvm's option is --kernel FILE" },
	{ { "-qr", "--qemu-ram" }, "lbvm's option is --memory SIZE" },
	{ { "-qs", "--target-size" }, "lbvm's option is --disk-size SIZE" },
	{ { "-qc", "--qemu-cmd" }, "lbvm runs no QEMU" },
	{ { "-c" }, "lbvm's option is --chroot" },
	{ { "-i" }, "lbvm's option is --interactive" },
	{ { "-bw", "--bwrap" }, "lbvm's --chroot already runs without root (user namespaces)" },
	{ { "-b", "--bare-metal" }, "lbvm runs the bootstrap itself; bare-metal images are not made" },
	{ { "-t", "--target" }, "lbvm keeps what a run makes in its run directory (--run-dir DIR)" },
	{ { "--tmpfs", "--tmpfs-size" }, "not needed: lbvm assembles the target in memory" },
	{ { "--no-create-config" }, "lbvm writes bootstrap.cfg from its options" },
	{ { "--configurator" },
	  "the interactive configurator changes the configuration inside the guest; lbvm must know it "
	  "up front" },
	{ { "--early-preseed" }, "not supported" },
	{ { "--internal-ci" }, "live-bootstrap's own CI switch; not supported" },
	{ { "-a" }, "lbvm's option is --arch" },
	{ { "-m" }, "lbvm's option is --mirror URL (once per mirror)" },
	{ { "-r" }, "lbvm's option is --repo DIR" },
	{ { "-s" }, "lbvm's option is --swap SIZE" },
};

const char *steps_harness_flag(const char *arg)
{
	static char line[ERROR_MSG_MAX];
	size_t len = strcspn(arg, "=");
	for (size_t i = 0; i < sizeof(harness_flags) / sizeof(harness_flags[0]); i++) {
		for (size_t j = 0; j < 3 && harness_flags[i].flags[j]; j++) {
			const char *f = harness_flags[i].flags[j];
			if (strlen(f) == len && !strncmp(f, arg, len)) {
				snprintf(line, sizeof(line), "%s: %s", f, harness_flags[i].line);
				return line;
			}
		}
	}
	return NULL;
}
