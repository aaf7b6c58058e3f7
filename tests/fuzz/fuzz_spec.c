/* libFuzzer target: any bytes as a spec file applied to a small tree. The parser must refuse or accept
 * without crashing, leaking or reading out of bounds, and an accepted tree must satisfy what both image
 * writers rely on: sorted, no path twice, every parent a directory, no "." or ".." components. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image/fstree.h"
#include "image/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void add(struct fs_tree *t, const char *path, uint32_t mode)
{
	struct fs_entry e;
	memset(&e, 0, sizeof(e));
	e.path = strdup(path);
	e.mode = mode;
	if (!e.path || fstree_add(t, &e))
		abort();
}

static int bad_component(const char *p)
{
	for (const char *c = p; c;) {
		const char *next = strchr(c, '/');
		size_t len = next ? (size_t)(next - c) : strlen(c);
		if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return 1;
		c = next ? next + 1 : NULL;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	struct fs_tree t;
	fstree_init(&t);
	add(&t, "etc", S_IFDIR | 0755);
	add(&t, "etc/conf", S_IFREG | 0644);
	add(&t, "bin", S_IFDIR | 0755);
	FILE *in = fmemopen((void *)data, size, "r");
	if (!in)
		abort();
	struct error err = { 0 };
	int rc = spec_apply_stream(&t, in, "fuzz", &err);
	fclose(in);
	if (rc == 0)
		rc = fstree_finish(&t, &err);
	if (rc != 0 && (err.code == 0 || err.msg[0] == '\0'))
		abort(); /* every refusal carries its line for the user */
	if (rc == 0) {
		for (size_t i = 0; i < t.count; i++) {
			const struct fs_entry *e = &t.entries[i];
			if (bad_component(e->path) || (i > 0 && strcmp(t.entries[i - 1].path, e->path) >= 0))
				abort();
			size_t plen = fstree_parent_len(e->path);
			if (plen) {
				char *parent = strndup(e->path, plen);
				long p = fstree_find(&t, parent);
				free(parent);
				if (p < 0 || !S_ISDIR(t.entries[p].mode) || (size_t)p >= i)
					abort();
			}
		}
	}
	fstree_free(&t);
	return 0;
}
