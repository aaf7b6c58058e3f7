/* What went into two bootstrap runs, compared before their outputs: lbvm's version, every input with its
 * SHA-256, the options, the machine and the plan (from run.json), and keyed text files of the run such as
 * bootstrap.cfg and SHA256SUMS.pkgs. Each difference is one line "  WHAT: A vs B" on OUT; the functions
 * return how many they printed. Not compared: where the tree and the distfile cache were (paths; what
 * they held is compared through the inputs' hashes) and when the runs started. */
#ifndef LBVM_BOOTSTRAP_DIFF_INPUTS_H
#define LBVM_BOOTSTRAP_DIFF_INPUTS_H

#include <stddef.h>
#include <stdio.h>

#include "bootstrap/run_json.h"

size_t diff_inputs(const struct run_info *a, const struct run_info *b, FILE *out);

enum keyed_format {
	KEYED_ASSIGN,    /* KEY=VALUE (bootstrap.cfg) */
	KEYED_SHA256SUM, /* HASH  NAME (sha256sum's output: the key is the name) */
};
/* Compare two texts line by line by key; WHAT names the file in the lines ("bootstrap.cfg"). A NULL text
 * is a file the run does not have. */
size_t diff_keyed_text(const char *what, enum keyed_format format, const char *a, const char *b, FILE *out);
/* The value of KEY in a KEYED text, copied into BUF (empty when absent). */
void keyed_value(enum keyed_format format, const char *text, const char *key, char *buf, size_t len);

#endif
