/* run.json read back (bootstrap/run_json.h): a record as bootstrap/record.c writes it round-trips; every
 * truncation, every wrong type and every missing field is refused with one line and exit status 2. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap/plan.h"
#include "bootstrap/record.h"
#include "bootstrap/run_json.h"
#include "common/error.h"
#include "common/exit_codes.h"
#include "tests/unit/check_run.h"
#include "tests/unit/img_fixture.h"

#define HASH_A "db3d834bc205eb81a7f0e01f45d4bd69275a8d34c32693127f6b2fa280a13638"

static const char sample[] =
	"{\n"
	"  \"format\": \"lbvm-run/1\",\n"
	"  \"lbvm_version\": \"0.1.0\",\n"
	"  \"layout\": \"live-bootstrap (seed, steps)\",\n"
	"  \"tree\": \"tree\",\n"
	"  \"started\": \"2026-11-30T00:18:42Z\",\n"
	"  \"inputs\": {\n"
	"    \"distfile hello-1.0.tar.gz\": {\"value\": \"hello-1.0.tar.gz\", \"sha256\": \"" HASH_A "\"},\n"
	"    \"kernel\": {\"value\": \"/k\", \"sha256\": null}\n"
	"  },\n"
	"  \"options\": {\n"
	"    \"mode\": \"chroot\",\n"
	"    \"offline\": \"true\"\n"
	"  },\n"
	"  \"machine\": {},\n"
	"  \"steps\": [\n"
	"    {\"index\": 1, \"stage\": \"kaem\", \"name\": \"stage0-posix\", \"package\": null, \"distfiles\": [], "
	"\"outcome\": \"ok\", \"start\": 0.000, \"duration\": 0.575},\n"
	"    {\"index\": 2, \"stage\": \"bash\", \"name\": \"hello-1.0 pass3\", \"package\": \"hello-1.0\", "
	"\"distfiles\": [\"hello-1.0.tar.gz\"], \"outcome\": \"not run\"}\n"
	"  ],\n"
	"  \"steps_done\": 1,\n"
	"  \"steps_total\": 2,\n"
	"  \"end\": {\"exit_status\": 8, \"outcome\": \"step failed\", \"detail\": \"\", \"duration\": 1.054, "
	"\"report\": null}\n"
	"}\n";

static int parse(const char *text, size_t len, struct run_info *r, struct error *err)
{
	memset(err, 0, sizeof(*err));
	return run_json_parse(text, len, "run.json", r, err);
}

START_TEST(sample_parses)
{
	struct run_info r;
	struct error err;
	ck_assert_int_eq(parse(sample, strlen(sample), &r, &err), 0);
	ck_assert_str_eq(r.version, "0.1.0");
	ck_assert_str_eq(r.layout, "live-bootstrap (seed, steps)");
	ck_assert_uint_eq(r.n_inputs, 2);
	ck_assert_str_eq(r.inputs[0].key, "distfile hello-1.0.tar.gz");
	ck_assert_str_eq(r.inputs[0].sha256, HASH_A);
	ck_assert_str_eq(r.inputs[1].value, "/k");
	ck_assert_ptr_null(r.inputs[1].sha256);
	ck_assert_uint_eq(r.n_options, 2);
	ck_assert(run_json_is_chroot(&r));
	ck_assert_str_eq(run_item_find(r.options, r.n_options, "offline")->value, "true");
	ck_assert_uint_eq(r.n_machine, 0);
	ck_assert_uint_eq(r.n_steps, 2);
	ck_assert_ptr_null(r.steps[0].package);
	ck_assert_str_eq(r.steps[1].package, "hello-1.0");
	ck_assert_str_eq(r.steps[1].name, "hello-1.0 pass3");
	ck_assert_str_eq(r.steps[1].outcome, "not run");
	ck_assert_uint_eq(r.steps[1].index, 2);
	ck_assert(r.ended);
	ck_assert_int_eq(r.exit_status, 8);
	ck_assert_str_eq(r.outcome, "step failed");
	run_json_free(&r);
}
END_TEST

/* Every prefix that ends before the closing brace is refused, with exit status 2 and no leak (ASan). */
START_TEST(every_truncation_is_refused)
{
	size_t close_at = strrchr(sample, '}') - sample;
	for (size_t len = 0; len <= close_at; len++) {
		struct run_info r;
		struct error err;
		int rc = parse(sample, len, &r, &err);
		ck_assert_msg(rc < 0, "a record cut at %zu bytes was accepted", len);
		ck_assert_int_eq(error_exit_status(&err), EXIT_USAGE);
		ck_assert_msg(strncmp(err.msg, "run.json: ", 10) == 0, "message '%s'", err.msg);
		ck_assert_ptr_null(strchr(err.msg, '\n'));
	}
	/* the whole record less its final newline is complete */
	struct run_info r;
	struct error err;
	ck_assert_int_eq(parse(sample, close_at + 1, &r, &err), 0);
	run_json_free(&r);
}
END_TEST

/* Replace the first occurrence of FROM in the sample by TO and expect WANT in the message. */
struct bad_case {
	const char *from, *to, *want;
};

static const struct bad_case bad_cases[] = {
	{ "\"lbvm-run/1\"", "\"lbvm-run/2\"", "format 'lbvm-run/2' is not lbvm-run/1" },
	{ "\"format\": \"lbvm-run/1\",", "", "lacks \"format\"" },
	{ "\"lbvm-run/1\"", "1", "format must be a string" },
	{ "\"lbvm_version\": \"0.1.0\"", "\"lbvm_version\": null", "lbvm_version must be a string" },
	{ "\"layout\": \"live-bootstrap (seed, steps)\",", "", "lacks \"layout\"" },
	{ "\"tree\": \"tree\"", "\"tree\": [\"tree\"]", "tree must be a string" },
	{ "\"inputs\": {", "\"inputs\": 5, \"x\": {", "inputs must be an object" },
	{ "{\"value\": \"hello-1.0.tar.gz\", ", "{", "lacks \"value\"" },
	{ "\"sha256\": \"" HASH_A "\"", "\"sha256\": \"xyz\"", "is not 64 lower-case hex digits" },
	{ "\"sha256\": \"" HASH_A "\"", "\"sha256\": 12", "sha256 must be a string" },
	{ "\"sha256\": null", "\"hash\": null", "lacks \"sha256\"" },
	{ "\"kernel\": {\"value\"", "\"kernel\": \"/k\", \"x\": {\"value\"", "must be an object with" },
	{ "\"mode\": \"chroot\"", "\"mode\": true", "options.\"mode\" must be a string" },
	{ "\"machine\": {}", "\"machine\": null", "machine must be an object" },
	{ "\"steps\": [", "\"steps\": \"none\", \"x\": [", "steps must be a list" },
	{ "{\"index\": 1, \"stage\": \"kaem\", \"name\": \"stage0-posix\", \"package\": null, \"distfiles\": [], "
	  "\"outcome\": \"ok\", \"start\": 0.000, \"duration\": 0.575}", "[1]", "steps[0] must be an object" },
	{ "\"index\": 1,", "\"index\": \"1\",", "steps[0].index must be a whole number" },
	{ "\"index\": 2,", "\"index\": 3,", "steps[1].index is 3, expected 2" },
	{ "\"index\": 1,", "\"index\": 1.0,", "steps[0].index must be a whole number" },
	{ "\"index\": 1,", "", "steps[0] lacks \"index\"" },
	{ "\"stage\": \"kaem\"", "\"stage\": 0", "steps[0].stage must be a string" },
	{ "\"name\": \"stage0-posix\", ", "", "steps[0] lacks \"name\"" },
	{ "\"package\": null", "\"package\": 5", "steps[0].package must be a string" },
	{ "\"package\": \"hello-1.0\"", "\"package\": \"../x\"", "'../x' is not a package name" },
	{ "\"package\": \"hello-1.0\"", "\"package\": \"..\"", "'..' is not a package name" },
	{ "\"package\": \"hello-1.0\"", "\"package\": \"a\\u0001b\"", "is not a package name" },
	{ "\"package\": \"hello-1.0\"", "\"package\": \"a\\u0000b\"", "holds a NUL character" },
	{ "\"package\": null, ", "", "steps[0] lacks \"package\"" },
	{ "\"distfiles\": [\"hello-1.0.tar.gz\"]", "\"distfiles\": \"x\"", "steps[1].distfiles must be a list" },
	{ "\"distfiles\": [\"hello-1.0.tar.gz\"]", "\"distfiles\": [7]", "steps[1].distfiles[0] must be a string" },
	{ "\"outcome\": \"ok\"", "\"outcome\": false", "steps[0].outcome must be a string" },
	{ "\"end\": {", "\"end\": \"over\", \"x\": {", "end must be null or an object" },
	{ "\"exit_status\": 8", "\"exit_status\": -1", "end.exit_status must be a whole number from 0 to 255" },
	{ "\"exit_status\": 8", "\"exit_status\": 256", "end.exit_status must be a whole number from 0 to 255" },
	{ "\"exit_status\": 8, ", "", "end lacks \"exit_status\"" },
	{ "\"outcome\": \"step failed\"", "\"outcome\": {}", "end.outcome must be a string" },
	{ "{\n  \"format\"", "[{\n  \"format\"", "not a run record" },
	{ "\"steps_done\": 1,", "\"steps_done\": 1,,", "not valid JSON" },
	{ "\"steps_done\": 1,", "\"steps_done\": 01,", "not valid JSON" },
	{ "\"tree\": \"tree\"", "\"tree\": 'tree'", "not valid JSON" },
};

static char *replaced(const char *from, const char *to)
{
	const char *at = strstr(sample, from);
	ck_assert_msg(at != NULL, "'%s' is not in the sample", from);
	size_t head = (size_t)(at - sample), flen = strlen(from), tlen = strlen(to);
	char *s = malloc(strlen(sample) - flen + tlen + 1);
	ck_assert_ptr_nonnull(s);
	memcpy(s, sample, head);
	memcpy(s + head, to, tlen);
	strcpy(s + head + tlen, at + flen);
	return s;
}

START_TEST(bad_types_and_missing_fields)
{
	const struct bad_case *c = &bad_cases[_i];
	char *text = replaced(c->from, c->to);
	struct run_info r;
	struct error err;
	int rc = parse(text, strlen(text), &r, &err);
	ck_assert_msg(rc < 0, "accepted: %s -> %s", c->from, c->to);
	ck_assert_msg(strstr(err.msg, c->want) != NULL, "'%s' lacks '%s'", err.msg, c->want);
	ck_assert_int_eq(error_exit_status(&err), EXIT_USAGE);
	ck_assert_ptr_null(strchr(err.msg, '\n'));
	free(text);
}
END_TEST

START_TEST(not_a_record_at_all)
{
	struct run_info r;
	struct error err;
	static const char *const texts[] = { "", "\n\n", "[]", "\"x\"", "null", "{}", "{\"format\": \"lbvm-run/1\"}",
					     "{\"a\": 1} {\"b\": 2}" };
	static const char *const wants[] = { "empty", "empty", "not a run record", "not a run record",
					     "not a run record", "lacks \"format\"", "lacks \"lbvm_version\"",
					     "not valid JSON" };
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		ck_assert_int_lt(parse(texts[i], strlen(texts[i]), &r, &err), 0);
		ck_assert_msg(strstr(err.msg, wants[i]) != NULL, "'%s': '%s' lacks '%s'", texts[i], err.msg, wants[i]);
	}
	/* a NUL byte inside the file */
	char *text = strdup(sample);
	text[40] = '\0';
	ck_assert_int_lt(parse(text, strlen(sample), &r, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "NUL byte"));
	free(text);
	/* steps out of order in the middle */
	text = replaced("\"index\": 1,", "\"index\": 2,");
	ck_assert_int_lt(parse(text, strlen(text), &r, &err), 0);
	free(text);
}
END_TEST

/* What record.c writes, run_json reads: values with quotes, control bytes and invalid UTF-8 included. */
START_TEST(round_trip_with_the_writer)
{
	char *dir = fx_tmpdir();
	struct plan plan;
	struct error err = { 0 };
	plan_init(&plan);
	ck_assert_ptr_nonnull(plan_add(&plan, "kaem", "stage0-posix", NULL, NULL, PLAN_SCRIPT, NULL, NULL, &err));
	ck_assert_ptr_nonnull(plan_add(&plan, "bash", "words-1.0", "words-1.0", "pass1.sh", PLAN_BUILD, "b", "e", &err));
	ck_assert_ptr_nonnull(plan_add(&plan, "bash", "after", NULL, "improve/after.sh", PLAN_IMPROVE, NULL, NULL, &err));
	struct run_record rec;
	record_init(&rec, dir, "0.1.0", "live-bootstrap (seed, steps)", "/t\"ree\n");
	rec.plan = &plan;
	record_input(&rec, "distfile w.tar.gz", "w.tar.gz", HASH_A);
	record_input(&rec, "kernel", "/boot/\xff\xfe k", NULL);
	record_option(&rec, "mode", "vm");
	record_machine(&rec, "kernel_cmdline", "console=ttyS0\t\x01");
	rec.ended = true;
	rec.exit_status = 0;
	snprintf(rec.outcome, sizeof(rec.outcome), "completed");
	ck_assert_int_eq(record_write(&rec, &err), 0);
	struct run_info r;
	ck_assert_int_eq(run_json_load(dir, &r, &err), 0);
	ck_assert_str_eq(r.tree, "/t\"ree\n");
	ck_assert_str_eq(r.inputs[0].sha256, HASH_A);
	ck_assert_str_eq(r.inputs[1].value, "/boot/\xef\xbf\xbd\xef\xbf\xbd k"); /* U+FFFD twice */
	ck_assert_str_eq(r.machine[0].value, "console=ttyS0\t\x01");
	ck_assert(!run_json_is_chroot(&r));
	ck_assert_uint_eq(r.n_steps, 3);
	ck_assert_str_eq(r.steps[1].package, "words-1.0");
	ck_assert_str_eq(r.steps[1].outcome, "not run");
	ck_assert_str_eq(r.steps[2].name, "after");
	ck_assert(r.ended);
	ck_assert_str_eq(r.outcome, "completed");
	run_json_free(&r);
	record_free(&rec);
	plan_free(&plan);
	fx_rmtree(dir);
}
END_TEST

START_TEST(load_failures_are_the_users)
{
	struct run_info r;
	struct error err = { 0 };
	ck_assert_int_lt(run_json_load("/nonexistent/lbvm-run", &r, &err), 0);
	ck_assert_int_eq(error_exit_status(&err), EXIT_USAGE);
	char *dir = fx_tmpdir();
	memset(&err, 0, sizeof(err));
	ck_assert_int_lt(run_json_load(dir, &r, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "run.json"));
	ck_assert_int_eq(error_exit_status(&err), EXIT_USAGE);
	fx_mkdir(dir, "run.json");
	memset(&err, 0, sizeof(err));
	ck_assert_int_lt(run_json_load(dir, &r, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "not a run record"));
	fx_rmtree(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("run_json");
	TCase *tc = tcase_create("run_json");
	tcase_add_test(tc, sample_parses);
	tcase_add_test(tc, every_truncation_is_refused);
	tcase_add_loop_test(tc, bad_types_and_missing_fields, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, not_a_record_at_all);
	tcase_add_test(tc, round_trip_with_the_writer);
	tcase_add_test(tc, load_failures_are_the_users);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
