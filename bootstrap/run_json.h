/* Reading a run directory's record back: run.json, format "lbvm-run/1" (docs/bootstrap.md; written by
 * bootstrap/record.c). Everything `lbvm diff` compares between two runs comes from here: lbvm's version,
 * the layout, the inputs with their SHA-256, the options, the machine, the steps in the chain's order and
 * how the run ended. The file is checked strictly (JSON through json-c, every field's type): a record that
 * is cut short, damaged or of another format is refused with one line naming the field. */
#ifndef LBVM_BOOTSTRAP_RUN_JSON_H
#define LBVM_BOOTSTRAP_RUN_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define RUN_JSON_FORMAT "lbvm-run/1"
#define RUN_JSON_MAX_BYTES (64u << 20) /* a record of thousands of steps is well under a megabyte */

struct run_item {
	char *key;
	char *value;
	char *sha256;   /* inputs only: 64 lower-case hex digits, or NULL (recorded as null) */
};

struct run_step {
	size_t index;   /* 1-based, equal to its position */
	char *stage;
	char *name;
	char *package;  /* NULL for steps that are no package build (stage0-posix, improve:, jump:) */
	char *outcome;  /* "ok", "running", "failed", "stopped", "not run" */
};

struct run_info {
	char *version;  /* lbvm's */
	char *layout;
	char *tree;
	char *started;
	struct run_item *inputs;
	size_t n_inputs;
	struct run_item *options;
	size_t n_options;
	struct run_item *machine;
	size_t n_machine;
	struct run_step *steps;
	size_t n_steps;
	bool ended;          /* "end" is not null */
	int exit_status;     /* when ended */
	char *outcome;       /* when ended: "completed", "step failed", ... */
};

/* Parse TEXT (LEN bytes) into OUT. NAME labels the messages ("runA/run.json"). 0, or a negative code
 * with one line in err (exit status 2 for anything wrong with the text, 1 only for out of memory). */
int run_json_parse(const char *text, size_t len, const char *name, struct run_info *out, struct error *err);
/* Read and parse DIR/run.json. */
int run_json_load(const char *dir, struct run_info *out, struct error *err);
void run_json_free(struct run_info *r);

/* The value of KEY among ITEMS, or NULL. */
const struct run_item *run_item_find(const struct run_item *items, size_t n, const char *key);
/* The option "mode": true for "chroot" runs. */
bool run_json_is_chroot(const struct run_info *r);

#endif
