/* steps/bootstrap.cfg: rootfs.py's create_configuration_file, as values and as text. */
#include "steps/steps.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "steps/manifest_eval.h"

#define ARCH_X86 "x86"
#define DISK_PARTITION "sda1"  /* chroot and --kernel: the disk's first partition */
#define DISK_WHOLE "sda"       /* kernel bootstrap: move_disk partitions it itself */
#define DISK_EXTERNAL "sdb1"   /* kernel bootstrap with a second disk of sources/packages */

static const char *tf(bool b)
{
	return b ? "True" : "False";
}

void steps_config_init(struct steps_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->arch, sizeof(cfg->arch), "%s", ARCH_X86);
	snprintf(cfg->arch_dir, sizeof(cfg->arch_dir), "%s", ARCH_X86);
	cfg->jobs = cfg->final_jobs = STEPS_DEFAULT_CORES;
	snprintf(cfg->disk, sizeof(cfg->disk), "%s", DISK_PARTITION);
	cfg->write_mirrors = true;
}

static void free_mirrors(char **m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(m[i]);
	free(m);
}

void steps_config_free(struct steps_config *cfg)
{
	free_mirrors(cfg->mirrors, cfg->n_mirrors);
	free(cfg->repo);
	steps_config_init(cfg);
}

int steps_config_from_options(const struct steps_options *o, struct steps_config *cfg, struct error *err)
{
	steps_config_init(cfg);
	const char *arch = o->arch ? o->arch : ARCH_X86;
	if (strcmp(arch, ARCH_X86))
		return error_fail(err, -EINVAL,
				  "--arch %s: only x86 runs (live-bootstrap's other architectures are for its "
				  "development, and lbvm's machine is x86)",
				  arch);
	if (o->cores == 0)
		return error_fail(err, -EINVAL, "--cores must be at least 1");
	bool vm = o->mode != STEPS_MODE_CHROOT;
	cfg->mode = o->mode;
	cfg->force_timestamps = o->force_timestamps;
	cfg->chroot = !vm;
	cfg->update_checksums = o->update_checksums;
	cfg->jobs = cfg->final_jobs = o->jobs ? o->jobs : o->cores;
	cfg->swap_size = vm ? o->swap_mib : 0; /* rootfs.py zeroes it outside QEMU and bare metal */
	cfg->interactive = o->interactive;
	cfg->qemu = vm;
	cfg->bare_metal = vm && o->interactive;
	cfg->kernel_bootstrap = o->mode == STEPS_MODE_KERNEL_BOOTSTRAP;
	const char *disk = DISK_PARTITION;
	if (cfg->kernel_bootstrap)
		disk = o->repo || o->external_sources ? DISK_EXTERNAL : DISK_WHOLE;
	snprintf(cfg->disk, sizeof(cfg->disk), "%s", disk);
	cfg->build_kernels = o->update_checksums || o->build_kernels;
	cfg->external_sources = o->external_sources;
	cfg->write_mirrors = !o->external_sources;
	if (o->n_mirrors) {
		if (!(cfg->mirrors = calloc(o->n_mirrors, sizeof(*cfg->mirrors))))
			return error_fail(err, -ENOMEM, "out of memory");
		for (size_t i = 0; i < o->n_mirrors; i++) {
			if (!(cfg->mirrors[i] = strdup(o->mirrors[i]))) {
				steps_config_free(cfg);
				return error_fail(err, -ENOMEM, "out of memory");
			}
			cfg->n_mirrors = i + 1;
		}
	}
	if (o->repo && !(cfg->repo = strdup(o->repo))) {
		steps_config_free(cfg);
		return error_fail(err, -ENOMEM, "out of memory");
	}
	return 0;
}

/* A growing string. */
struct text {
	char *s;
	size_t len, cap;
	bool oom;
};

static void addf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(struct text *t, const char *fmt, ...)
{
	if (t->oom)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = true;
			return;
		}
		if (t->s && t->len + (size_t)n < t->cap) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = (t->cap ? t->cap : 256) * 2 + (size_t)n;
		char *g = realloc(t->s, cap);
		if (!g) {
			t->oom = true;
			return;
		}
		t->s = g;
		t->cap = cap;
	}
}

int steps_config_write(const struct steps_config *cfg, char **text, size_t *len, struct error *err)
{
	struct text t = { 0 };
	addf(&t, "ARCH=%s\n", cfg->arch);
	addf(&t, "ARCH_DIR=%s\n", cfg->arch_dir);
	addf(&t, "FORCE_TIMESTAMPS=%s\n", tf(cfg->force_timestamps));
	addf(&t, "CHROOT=%s\n", tf(cfg->chroot));
	addf(&t, "UPDATE_CHECKSUMS=%s\n", tf(cfg->update_checksums));
	addf(&t, "JOBS=%u\n", cfg->jobs);
	addf(&t, "SWAP_SIZE=%" PRIu64 "\n", cfg->swap_size);
	addf(&t, "FINAL_JOBS=%u\n", cfg->final_jobs);
	addf(&t, "INTERNAL_CI=%s\n", tf(cfg->internal_ci));
	addf(&t, "INTERACTIVE=%s\n", tf(cfg->interactive));
	addf(&t, "QEMU=%s\n", tf(cfg->qemu));
	addf(&t, "BARE_METAL=%s\n", tf(cfg->bare_metal));
	addf(&t, "DISK=%s\n", cfg->disk);
	addf(&t, "KERNEL_BOOTSTRAP=%s\n", tf(cfg->kernel_bootstrap));
	addf(&t, "BUILD_KERNELS=%s\n", tf(cfg->build_kernels));
	addf(&t, "CONFIGURATOR=%s\n", tf(cfg->configurator));
	if (cfg->write_mirrors) {
		if (cfg->n_mirrors) {
			size_t line_start = t.len;
			addf(&t, "MIRRORS=\"");
			for (size_t i = 0; i < cfg->n_mirrors; i++)
				addf(&t, "%s%s", i ? " " : "", cfg->mirrors[i]);
			addf(&t, "\"\n");
			if (!t.oom && t.len - line_start - 1 > STEPS_MAX_CFG_LINE) {
				free(t.s);
				return error_fail(err, -EINVAL,
						  "the MIRRORS line would be %zu bytes; the chain reads at most %d",
						  t.len - line_start - 1, STEPS_MAX_CFG_LINE);
			}
		}
		addf(&t, "MIRRORS_LEN=%zu\n", cfg->n_mirrors);
	}
	if (t.oom) {
		free(t.s);
		return error_fail(err, -ENOMEM, "out of memory");
	}
	*text = t.s;
	*len = t.len;
	return 0;
}

/* ---- reading bootstrap.cfg back ---- */

enum key_type { K_WORD, K_BOOL, K_UINT, K_U64, K_MIRRORS, K_MIRRORS_LEN };

struct key {
	const char *name;
	enum key_type type;
	size_t offset; /* into struct steps_config */
	size_t size;   /* of a K_WORD buffer */
};

#define KEY(n, t, f) { n, t, offsetof(struct steps_config, f), sizeof(((struct steps_config *)0)->f) }

static const struct key keys[] = {
	KEY("ARCH", K_WORD, arch),
	KEY("ARCH_DIR", K_WORD, arch_dir),
	KEY("FORCE_TIMESTAMPS", K_BOOL, force_timestamps),
	KEY("CHROOT", K_BOOL, chroot),
	KEY("UPDATE_CHECKSUMS", K_BOOL, update_checksums),
	KEY("JOBS", K_UINT, jobs),
	KEY("SWAP_SIZE", K_U64, swap_size),
	KEY("FINAL_JOBS", K_UINT, final_jobs),
	KEY("INTERNAL_CI", K_BOOL, internal_ci),
	KEY("INTERACTIVE", K_BOOL, interactive),
	KEY("QEMU", K_BOOL, qemu),
	KEY("BARE_METAL", K_BOOL, bare_metal),
	KEY("DISK", K_WORD, disk),
	KEY("KERNEL_BOOTSTRAP", K_BOOL, kernel_bootstrap),
	KEY("BUILD_KERNELS", K_BOOL, build_kernels),
	KEY("CONFIGURATOR", K_BOOL, configurator),
	KEY("MIRRORS", K_MIRRORS, mirrors),
	KEY("MIRRORS_LEN", K_MIRRORS_LEN, n_mirrors),
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (!*s)
		return -1;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (max - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* MIRRORS="URL URL ...": the URLs, each checked as --mirror checks it. */
static int parse_mirrors(struct steps_config *cfg, const char *v, size_t lineno, struct error *err)
{
	size_t n = strlen(v);
	if (n < 2 || v[0] != '"' || v[n - 1] != '"')
		return error_fail(err, -EINVAL, "bootstrap.cfg:%zu: MIRRORS must be \"URL [URL...]\"", lineno);
	struct steps_options tmp;
	steps_options_init(&tmp);
	char *copy = strndup(v + 1, n - 2);
	if (!copy)
		return error_fail(err, -ENOMEM, "out of memory");
	int rc = 0;
	char *save = NULL;
	for (char *u = strtok_r(copy, " ", &save); u && !rc; u = strtok_r(NULL, " ", &save))
		rc = steps_options_add_mirror(&tmp, u, err);
	free(copy);
	if (!rc && tmp.n_mirrors == 0)
		rc = error_fail(err, -EINVAL, "bootstrap.cfg:%zu: MIRRORS is empty", lineno);
	if (rc) {
		steps_options_free(&tmp);
		return rc;
	}
	free_mirrors(cfg->mirrors, cfg->n_mirrors);
	cfg->mirrors = tmp.mirrors;
	cfg->n_mirrors = tmp.n_mirrors;
	tmp.mirrors = NULL;
	tmp.n_mirrors = 0;
	steps_options_free(&tmp);
	return 0;
}

static int set_key(struct steps_config *cfg, const struct key *k, const char *v, size_t lineno,
		   size_t *mirrors_len, struct error *err)
{
	char *field = (char *)cfg + k->offset;
	uint64_t u;
	switch (k->type) {
	case K_WORD:
		if (!*v || strlen(v) >= k->size || strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
							   "0123456789_-") != strlen(v))
			break;
		memcpy(field, v, strlen(v) + 1);
		return 0;
	case K_BOOL:
		if (strcmp(v, "True") && strcmp(v, "False"))
			break;
		*(bool *)field = !strcmp(v, "True");
		return 0;
	case K_UINT:
		if (parse_u64(v, UINT32_MAX, &u))
			break;
		*(unsigned *)field = (unsigned)u;
		return 0;
	case K_U64:
		if (parse_u64(v, UINT64_MAX, &u))
			break;
		*(uint64_t *)field = u;
		return 0;
	case K_MIRRORS:
		return parse_mirrors(cfg, v, lineno, err);
	case K_MIRRORS_LEN:
		if (parse_u64(v, STEPS_MAX_MIRRORS, &u))
			break;
		*mirrors_len = (size_t)u;
		return 0;
	}
	return error_fail(err, -EINVAL, "bootstrap.cfg:%zu: '%s' is not a valid value for %s", lineno, v,
			  k->name);
}

int steps_config_parse(struct steps_config *cfg, const char *text, size_t len, struct error *err)
{
	bool seen[N_KEYS] = { false };
	size_t mirrors_len = 0, pos = 0, lineno = 0;
	bool have_len = false;
	while (pos < len) {
		lineno++;
		const char *nl = memchr(text + pos, '\n', len - pos);
		if (!nl)
			return error_fail(err, -EINVAL, "bootstrap.cfg:%zu: the last line has no newline", lineno);
		size_t n = (size_t)(nl - (text + pos));
		if (n > STEPS_MAX_CFG_LINE)
			return error_fail(err, -EINVAL, "bootstrap.cfg:%zu: a line of %zu bytes (the chain reads "
					  "at most %d)", lineno, n, STEPS_MAX_CFG_LINE);
		char *line = strndup(text + pos, n);
		if (!line)
			return error_fail(err, -ENOMEM, "out of memory");
		pos += n + 1;
		char *eq = strchr(line, '=');
		int rc = 0;
		if (!eq || strlen(line) != n) {
			rc = error_fail(err, -EINVAL, "bootstrap.cfg:%zu: not KEY=VALUE", lineno);
		} else {
			*eq = '\0';
			size_t k = 0;
			while (k < N_KEYS && strcmp(keys[k].name, line))
				k++;
			if (k == N_KEYS)
				rc = error_fail(err, -EINVAL, "bootstrap.cfg:%zu: unknown key '%s'", lineno, line);
			else if (seen[k])
				rc = error_fail(err, -EINVAL, "bootstrap.cfg:%zu: %s is set twice", lineno, line);
			else {
				seen[k] = true;
				rc = set_key(cfg, &keys[k], eq + 1, lineno, &mirrors_len, err);
				if (keys[k].type == K_MIRRORS_LEN)
					have_len = true;
			}
		}
		free(line);
		if (rc)
			return rc;
	}
	if (have_len && mirrors_len != cfg->n_mirrors)
		return error_fail(err, -EINVAL, "bootstrap.cfg: MIRRORS_LEN is %zu but MIRRORS lists %zu", mirrors_len,
				  cfg->n_mirrors);
	if (seen[N_KEYS - 2] || seen[N_KEYS - 1])
		cfg->write_mirrors = true;
	if (cfg->internal_ci)
		return error_fail(err, -EINVAL,
				  "bootstrap.cfg: INTERNAL_CI=True is live-bootstrap's own CI switch; lbvm runs "
				  "with False");
	if (cfg->configurator)
		return error_fail(err, -EINVAL,
				  "bootstrap.cfg: CONFIGURATOR=True asks questions inside the guest; lbvm needs "
				  "the configuration up front (False)");
	return 0;
}
