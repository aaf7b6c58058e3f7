/* The run directory's machine-readable record (docs/bootstrap.md describes the format):
 *   run.json   lbvm's version, every input with its SHA-256, the options, the machine, every step with its
 *              start, duration and outcome, and how the run ended (rewritten at each step's end, always
 *              through a temporary and a rename, so a killed run leaves the last complete record);
 *   junit.xml  one test case per step, the failing one carrying the report.
 * Nothing here decides anything: the command fills the record and asks for it to be written. */
#ifndef LBVM_BOOTSTRAP_RECORD_H
#define LBVM_BOOTSTRAP_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "bootstrap/plan.h"
#include "bootstrap/step_progress.h"
#include "common/error.h"

#define RECORD_MAX_ITEMS 64
#define RECORD_TEXT 256

struct record_item {
	char key[64];
	char value[RECORD_TEXT];
	char sha256[65];      /* inputs only: hex, "" when not hashed */
};

struct run_record {
	const char *dir;            /* the run directory */
	const char *version;        /* lbvm's */
	const char *layout;
	const char *tree;
	char started[32];           /* UTC, ISO 8601 */
	struct record_item inputs[RECORD_MAX_ITEMS];
	size_t n_inputs;
	struct record_item options[RECORD_MAX_ITEMS];
	size_t n_options;
	struct record_item machine[RECORD_MAX_ITEMS];
	size_t n_machine;
	const struct plan *plan;
	const struct progress *progress;
	/* the machine's stages as the session's timeline saw them (kernels, kexec, marks) */
	struct { char name[96]; double at; } stages[RECORD_MAX_ITEMS];
	size_t n_stages;
	/* the end, once known */
	bool ended;
	int exit_status;
	char outcome[64];           /* "completed", "step failed", "kernel panic", "stalled", ... */
	char detail[512];
	char *report;               /* the failure report (malloc'd text) or NULL */
	double duration;            /* seconds */
};

void record_init(struct run_record *r, const char *dir, const char *version, const char *layout, const char *tree);
void record_free(struct run_record *r);
/* Add an input (SHA256_HEX may be NULL), an option or a machine setting. Silently bounded. */
void record_input(struct run_record *r, const char *what, const char *value, const char *sha256_hex);
void record_option(struct run_record *r, const char *key, const char *value);
void record_machine(struct run_record *r, const char *key, const char *value);
void record_stage(struct run_record *r, const char *name, double at);
/* The files' texts, rendered in memory: callers that share the progress with the vCPU render under
 * their lock and store outside it, so no file I/O ever happens while the guest's side waits. */
struct record_text {
	char *json;
	char *junit;  /* NULL until the run ended */
};
int record_render(const struct run_record *r, struct record_text *out);
/* Write run.json (and junit.xml when rendered), each through a temporary and a rename. Frees the texts. */
int record_store(const char *dir, struct record_text *text, struct error *err);
/* record_render + record_store. 0 or the failure in err. */
int record_write(const struct run_record *r, struct error *err);

#endif
