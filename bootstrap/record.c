#include "bootstrap/record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/atomic_file.h"

void record_init(struct run_record *r, const char *dir, const char *version, const char *layout, const char *tree)
{
	memset(r, 0, sizeof(*r));
	r->dir = dir;
	r->version = version;
	r->layout = layout;
	r->tree = tree;
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(r->started, sizeof(r->started), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void record_free(struct run_record *r)
{
	free(r->report);
	r->report = NULL;
}

static void put(struct record_item *items, size_t *n, const char *key, const char *value, const char *sha)
{
	if (*n == RECORD_MAX_ITEMS)
		return;
	struct record_item *it = &items[(*n)++];
	snprintf(it->key, sizeof(it->key), "%s", key);
	snprintf(it->value, sizeof(it->value), "%s", value ? value : "");
	snprintf(it->sha256, sizeof(it->sha256), "%s", sha ? sha : "");
}

void record_input(struct run_record *r, const char *what, const char *value, const char *sha256_hex)
{
	put(r->inputs, &r->n_inputs, what, value, sha256_hex);
}

void record_option(struct run_record *r, const char *key, const char *value)
{
	put(r->options, &r->n_options, key, value, NULL);
}

void record_machine(struct run_record *r, const char *key, const char *value)
{
	put(r->machine, &r->n_machine, key, value, NULL);
}

void record_stage(struct run_record *r, const char *name, double at)
{
	if (r->n_stages == RECORD_MAX_ITEMS)
		return;
	snprintf(r->stages[r->n_stages].name, sizeof(r->stages[r->n_stages].name), "%s", name);
	r->stages[r->n_stages].at = at;
	r->n_stages++;
}

/* A JSON string: quotes, backslashes and every control byte escaped; bytes >= 0x80 pass (the console's
 * text is not guaranteed UTF-8: invalid sequences become U+FFFD so the file stays valid JSON). */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else if (*p < 0x80)
			fputc(*p, f);
		else {
			/* copy a valid UTF-8 sequence, else write U+FFFD */
			int n = (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
			int ok = n > 0;
			for (int k = 1; ok && k < n; k++)
				ok = (p[k] & 0xc0) == 0x80;
			if (ok) {
				fwrite(p, 1, (size_t)n, f);
				p += n - 1;
			} else {
				fputs("\\ufffd", f);
			}
		}
	}
	fputc('"', f);
}

static void json_items(FILE *f, const char *name, const struct record_item *items, size_t n, bool with_hash)
{
	fprintf(f, "  \"%s\": {", name);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n    " : "\n    ", f);
		json_str(f, items[i].key);
		if (with_hash) {
			fputs(": {\"value\": ", f);
			json_str(f, items[i].value);
			fputs(", \"sha256\": ", f);
			if (items[i].sha256[0])
				json_str(f, items[i].sha256);
			else
				fputs("null", f);
			fputc('}', f);
		} else {
			fputs(": ", f);
			json_str(f, items[i].value);
		}
	}
	fputs(n ? "\n  },\n" : "},\n", f);
}

static void json_steps(FILE *f, const struct run_record *r)
{
	fputs("  \"steps\": [", f);
	const struct plan *plan = r->plan;
	for (size_t i = 0; plan && i < plan->n_steps; i++) {
		const struct plan_step *s = &plan->steps[i];
		const struct step_progress *sp = r->progress ? &r->progress->steps[i] : NULL;
		fputs(i ? ",\n    {" : "\n    {", f);
		fprintf(f, "\"index\": %zu, \"stage\": ", i + 1);
		json_str(f, s->stage);
		fputs(", \"name\": ", f);
		json_str(f, s->name);
		fputs(", \"package\": ", f);
		if (s->package)
			json_str(f, s->package);
		else
			fputs("null", f);
		fputs(", \"distfiles\": [", f);
		for (size_t k = 0; k < s->n_distfiles; k++) {
			if (k)
				fputs(", ", f);
			json_str(f, s->distfiles[k]);
		}
		fputs("], \"outcome\": ", f);
		json_str(f, sp ? step_status_name(sp->status) : "not run");
		if (sp && sp->begin >= 0) {
			fprintf(f, ", \"start\": %.3f", sp->begin);
			if (sp->end >= 0)
				fprintf(f, ", \"duration\": %.3f", sp->end - sp->begin);
		}
		fputc('}', f);
	}
	fputs(plan && plan->n_steps ? "\n  ],\n" : "],\n", f);
}

static int write_json(const struct run_record *r, FILE *f)
{
	fputs("{\n  \"format\": \"lbvm-run/1\",\n  \"lbvm_version\": ", f);
	json_str(f, r->version);
	fputs(",\n  \"layout\": ", f);
	json_str(f, r->layout);
	fputs(",\n  \"tree\": ", f);
	json_str(f, r->tree);
	fputs(",\n  \"started\": ", f);
	json_str(f, r->started);
	fputs(",\n", f);
	json_items(f, "inputs", r->inputs, r->n_inputs, true);
	json_items(f, "options", r->options, r->n_options, false);
	json_items(f, "machine", r->machine, r->n_machine, false);
	fputs("  \"stages\": [", f);
	for (size_t i = 0; i < r->n_stages; i++) {
		fputs(i ? ",\n    {\"name\": " : "\n    {\"name\": ", f);
		json_str(f, r->stages[i].name);
		fprintf(f, ", \"start\": %.3f}", r->stages[i].at);
	}
	fputs(r->n_stages ? "\n  ],\n" : "],\n", f);
	json_steps(f, r);
	if (r->progress)
		fprintf(f, "  \"steps_done\": %zu,\n  \"steps_total\": %zu,\n", r->progress->done,
			r->plan ? r->plan->n_steps : 0);
	fputs("  \"end\": ", f);
	if (!r->ended) {
		fputs("null\n}\n", f);
		return 0;
	}
	fprintf(f, "{\"exit_status\": %d, \"outcome\": ", r->exit_status);
	json_str(f, r->outcome);
	fputs(", \"detail\": ", f);
	json_str(f, r->detail);
	fprintf(f, ", \"duration\": %.3f, \"report\": ", r->duration);
	if (r->report)
		json_str(f, r->report);
	else
		fputs("null", f);
	fputs("}\n}\n", f);
	return 0;
}

static void xml_text(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\n': case '\t': fputc(*p, f); break;
		default:
			/* XML 1.0 has no place for other control bytes, and the console is not trusted to be UTF-8 */
			fputc(*p < 0x20 || *p >= 0x7f ? '?' : *p, f);
		}
	}
}

static int write_junit(const struct run_record *r, FILE *f)
{
	const struct plan *plan = r->plan;
	size_t n = plan ? plan->n_steps : 0, failures = 0, skipped = 0;
	for (size_t i = 0; i < n; i++) {
		enum step_status st = r->progress ? r->progress->steps[i].status : STEP_PENDING;
		failures += st == STEP_FAILED || st == STEP_STOPPED;
		skipped += st == STEP_PENDING;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n", f);
	fputs("  <testsuite name=\"", f);
	xml_text(f, r->layout);
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" time=\"%.3f\" timestamp=\"%s\">\n", n, failures,
		skipped, r->duration, r->started);
	for (size_t i = 0; i < n; i++) {
		const struct plan_step *s = &plan->steps[i];
		const struct step_progress *sp = r->progress ? &r->progress->steps[i] : NULL;
		double t = sp && sp->begin >= 0 && sp->end >= 0 ? sp->end - sp->begin : 0;
		fputs("    <testcase classname=\"", f);
		xml_text(f, s->stage);
		fputs("\" name=\"", f);
		xml_text(f, s->name);
		fprintf(f, "\" time=\"%.3f\"", t);
		enum step_status st = sp ? sp->status : STEP_PENDING;
		if (st == STEP_OK || st == STEP_RUNNING) {
			fputs("/>\n", f);
		} else if (st == STEP_PENDING) {
			fputs(">\n      <skipped message=\"not run\"/>\n    </testcase>\n", f);
		} else {
			fputs(">\n      <failure message=\"", f);
			xml_text(f, r->outcome);
			fputs(": ", f);
			xml_text(f, r->detail);
			fputs("\">", f);
			xml_text(f, r->report ? r->report : r->detail);
			fputs("</failure>\n    </testcase>\n", f);
		}
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
	return 0;
}

static char *render(int (*fn)(const struct run_record *, FILE *), const struct run_record *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	fn(r, f);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

int record_render(const struct run_record *r, struct record_text *out)
{
	out->json = render(write_json, r);
	out->junit = r->ended ? render(write_junit, r) : NULL;
	if (!out->json || (r->ended && !out->junit)) {
		free(out->json);
		free(out->junit);
		out->json = out->junit = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int store_file(const char *dir, const char *name, const char *text, struct error *err)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct atomic_file af;
	int rc = atomic_file_open(&af, path);
	if (rc < 0)
		return error_fail(err, rc, "%s: %s", path, strerror(-rc));
	size_t len = strlen(text), done = 0;
	while (done < len) {
		ssize_t n = write(af.fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			atomic_file_abort(&af);
			return error_fail(err, -e, "%s: %s", path, strerror(e));
		}
		done += (size_t)n;
	}
	rc = atomic_file_commit(&af, 0644);
	if (rc < 0)
		return error_fail(err, rc, "%s: %s", path, strerror(-rc));
	return 0;
}

int record_store(const char *dir, struct record_text *text, struct error *err)
{
	int rc = store_file(dir, "run.json", text->json, err);
	if (!rc && text->junit)
		rc = store_file(dir, "junit.xml", text->junit, err);
	free(text->json);
	free(text->junit);
	text->json = text->junit = NULL;
	return rc;
}

int record_write(const struct run_record *r, struct error *err)
{
	struct record_text text;
	if (record_render(r, &text) < 0)
		return error_fail(err, -ENOMEM, "out of memory");
	return record_store(r->dir, &text, err);
}
