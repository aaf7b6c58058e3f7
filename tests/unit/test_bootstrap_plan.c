/* Reading a live-bootstrap chain's order from its scripts, naming steps, and following the plan through
 * console lines: forward only, never ended by text, evidence and tails kept for the report. */
#include "check_run.h"
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap/build_calls.h"
#include "bootstrap/record.h"
#include "bootstrap/report.h"
#include "bootstrap/step_names.h"
#include "bootstrap/step_progress.h"

static const char *vars(void *ctx, const char *name)
{
	(void)ctx;
	if (!strcmp(name, "CHROOT"))
		return "False";
	if (!strcmp(name, "FORCE_TIMESTAMPS"))
		return "False";
	return NULL;
}

START_TEST(kaem_packages_follow_variables)
{
	const char *text = "set -ex\nPATH=/bin\nMES_PKG=mes\npkg=${MES_PKG}\ncd ${pkg}\nkaem --file ${pkg}.kaem\n"
			   "# a comment\npkg=\"tcc-0.9.26\"\ncd ${pkg}\nkaem --file ${pkg}.kaem  # trailing comment\n"
			   "bash run.sh\n";
	struct build_calls c = { 0 };
	struct error err = { 0 };
	ck_assert_int_eq(build_calls_parse_kaem(&c, "after.kaem", text, &err), 0);
	ck_assert_uint_eq(c.n, 2);
	ck_assert_str_eq(c.calls[0].package, "mes");
	ck_assert_str_eq(c.calls[1].package, "tcc-0.9.26");
	ck_assert_uint_eq(c.calls[1].line, 10);
	ck_assert_ptr_null(c.calls[0].script);
	build_calls_free(&c);
}
END_TEST

START_TEST(kaem_file_must_name_the_package)
{
	struct build_calls c = { 0 };
	struct error err = { 0 };
	ck_assert_int_eq(build_calls_parse_kaem(&c, "a.kaem", "pkg=mes\nkaem --file other.kaem\n", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "a.kaem:2:"));
	build_calls_free(&c);
}
END_TEST

START_TEST(bash_builds_with_conditions)
{
	const char *text = "set -e\n. helpers.sh\n"
			   "create_sysb() {\n    build not-a-call\n}\n"
			   "build flex-2.5.11\n"
			   "build mes-0.23 mes-libc-0.23.sh\n"
			   "build musl-1.1.24 '' checksums/pass1\n"
			   "build linux-headers-5.10.41 '' '' '' linux-5.10.41\n"
			   "if [ \"${CHROOT}\" = False ]; then\n    build kexec-tools-2.0.22\n"
			   "    if [ \"${FORCE_TIMESTAMPS}\" != False ]; then\n        build never\n    fi\n"
			   "else\n    build only-in-chroot\nfi\n"
			   "exec env -i bash run2.sh\n"
			   "build after-exec\n";
	struct build_calls c = { 0 };
	struct error err = { 0 };
	ck_assert_int_eq(build_calls_parse_bash(&c, "run.sh", text, vars, NULL, &err), 0);
	ck_assert_uint_eq(c.n, 5);
	ck_assert_str_eq(c.calls[0].package, "flex-2.5.11");
	ck_assert_str_eq(c.calls[0].script, "flex-2.5.11.sh");
	ck_assert_str_eq(c.calls[1].script, "mes-libc-0.23.sh");
	ck_assert_str_eq(c.calls[2].script, "musl-1.1.24.sh");
	ck_assert_str_eq(c.calls[3].package, "linux-headers-5.10.41");
	ck_assert_str_eq(c.calls[4].package, "kexec-tools-2.0.22");
	build_calls_free(&c);
}
END_TEST

START_TEST(bash_refuses_what_it_cannot_read)
{
	static const char *const bad[] = {
		"if [ -e /x ]; then\nbuild a\nfi\n",
		"if [ \"$A\" = b ]; then\nbuild a\n",
		"fi\n",
		"else\n",
		"if [ a = a ]; then\nbuild a\nelif [ b = b ]; then\nfi\n",
		"build ../escape\n",
		"build 'unterminated\n",
		"build\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct build_calls c = { 0 };
		struct error err = { 0 };
		ck_assert_msg(build_calls_parse_bash(&c, "x.sh", bad[i], vars, NULL, &err) == -EINVAL, "accepted: %s", bad[i]);
		ck_assert_ptr_nonnull(strstr(err.msg, "x.sh"));
		build_calls_free(&c);
	}
}
END_TEST

START_TEST(step_names_are_unique)
{
	struct plan p;
	plan_init(&p);
	struct error err = { 0 };
	char name[128];
	step_name_unique(&p, "musl-1.1.24", NULL, name, sizeof(name));
	ck_assert_str_eq(name, "musl-1.1.24");
	ck_assert_ptr_nonnull(plan_add(&p, "sysa", name, "musl-1.1.24", NULL, PLAN_BUILD, NULL, NULL, &err));
	step_name_unique(&p, "musl-1.1.24", "musl-1.1.24.sh", name, sizeof(name));
	ck_assert_str_eq(name, "musl-1.1.24 (2)");
	ck_assert_ptr_nonnull(plan_add(&p, "sysa", name, "musl-1.1.24", NULL, PLAN_BUILD, NULL, NULL, &err));
	step_name_unique(&p, "musl-1.1.24", NULL, name, sizeof(name));
	ck_assert_str_eq(name, "musl-1.1.24 (3)");
	step_name_unique(&p, "bison-3.4.1", "stage2.sh", name, sizeof(name));
	ck_assert_str_eq(name, "bison-3.4.1 stage2");
	ck_assert_ptr_null(plan_add(&p, "sysa", "musl-1.1.24", NULL, NULL, PLAN_BUILD, NULL, NULL, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "appears twice"));
	plan_free(&p);
}
END_TEST

/* A four-step plan: stage0 (no begin line), two builds, a last build. */
static void small_plan(struct plan *p)
{
	struct error err = { 0 };
	plan_init(p);
	plan_add(p, "sysa", "stage0-posix", NULL, NULL, PLAN_SCRIPT, NULL, " +> set -ex", &err);
	plan_add(p, "sysa", "a", "a", "a.sh", PLAN_BUILD, "a: beginning build using script a.sh", "a: build successful", &err);
	plan_add(p, "sysa", "b", "b", "b.sh", PLAN_BUILD, "b: beginning build using script b.sh", "b: build successful", &err);
	plan_add(p, "sysc", "c", "c", "c.sh", PLAN_BUILD, "c: beginning build using script c.sh", "c: build successful", &err);
	ck_assert_uint_eq(p->n_steps, 4);
}

START_TEST(progress_moves_forward_only)
{
	struct plan p;
	small_plan(&p);
	struct progress pr;
	ck_assert_int_eq(progress_init(&pr, &p, "Bootstrapping completed."), 0);
	progress_start(&pr, 0);
	ck_assert_uint_eq(pr.current, 0);
	ck_assert_uint_eq(progress_feed(&pr, " +> set -ex", 1, NULL), PROGRESS_NONE);
	ck_assert_int_eq(pr.steps[0].status, STEP_OK);
	size_t ended;
	ck_assert_uint_eq(progress_feed(&pr, "a: beginning build using script a.sh\r", 2, &ended), 1);
	ck_assert_uint_eq(ended, PROGRESS_NONE);
	/* the completion line before the last step means nothing */
	progress_feed(&pr, "Bootstrapping completed.", 2.5, NULL);
	ck_assert(!pr.completed);
	ck_assert_uint_eq(progress_feed(&pr, "a: build successful", 3, &ended), PROGRESS_NONE);
	ck_assert_uint_eq(ended, 1);
	ck_assert_int_eq(pr.steps[1].status, STEP_OK);
	/* a step's begin line again (an echo of it) does not move progress back */
	ck_assert_uint_eq(progress_feed(&pr, "a: beginning build using script a.sh", 4, NULL), PROGRESS_NONE);
	ck_assert_uint_eq(pr.current, 1);
	/* a line that starts like a begin line but goes on is not one */
	ck_assert_uint_eq(progress_feed(&pr, "b: beginning build using script b.sh and more", 4, NULL), PROGRESS_NONE);
	/* skipping b: c is within the lookahead */
	ck_assert_uint_eq(progress_feed(&pr, "c: beginning build using script c.sh", 5, NULL), 3);
	ck_assert_int_eq(pr.steps[2].status, STEP_PENDING);
	progress_feed(&pr, "c: build successful", 6, NULL);
	progress_feed(&pr, "Bootstrapping completed.  ", 7, NULL);
	ck_assert(pr.completed);
	ck_assert_uint_eq(pr.done, 3);
	progress_free(&pr);
	plan_free(&p);
}
END_TEST

START_TEST(progress_lookahead_is_bounded)
{
	struct plan p;
	plan_init(&p);
	struct error err = { 0 };
	char name[32], begin[64];
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		snprintf(begin, sizeof(begin), "begin %d", i);
		plan_add(&p, "x", name, NULL, NULL, PLAN_BUILD, begin, NULL, &err);
	}
	struct progress pr;
	progress_init(&pr, &p, NULL);
	ck_assert_uint_eq(progress_feed(&pr, "begin 0", 1, NULL), 0);
	/* a line naming a step far ahead (a build printing a later step's line) moves nothing */
	ck_assert_uint_eq(progress_feed(&pr, "begin 9", 2, NULL), PROGRESS_NONE);
	ck_assert_uint_eq(progress_feed(&pr, "begin 3", 3, NULL), 3);
	ck_assert_uint_eq(progress_feed(&pr, "begin 1", 4, NULL), PROGRESS_NONE);
	progress_free(&pr);
	plan_free(&p);
}
END_TEST

START_TEST(silent_steps_do_not_count_against_the_lookahead)
{
	struct plan p;
	plan_init(&p);
	struct error err = { 0 };
	plan_add(&p, "bash", "a", "a", NULL, PLAN_BUILD, "begin a", NULL, &err);
	for (int i = 0; i < 5; i++) {
		char name[32];
		snprintf(name, sizeof(name), "quiet%d", i);
		plan_add(&p, "bash", name, NULL, NULL, PLAN_IMPROVE, NULL, NULL, &err);
	}
	plan_add(&p, "bash", "b", "b", NULL, PLAN_BUILD, "begin b", NULL, &err);
	struct progress pr;
	progress_init(&pr, &p, NULL);
	ck_assert_uint_eq(progress_feed(&pr, "begin a", 1, NULL), 0);
	ck_assert_uint_eq(progress_feed(&pr, "begin b", 2, NULL), 6);
	ck_assert_int_eq(pr.steps[3].status, STEP_OK);
	ck_assert(pr.steps[3].end - pr.steps[3].begin == 0);
	ck_assert_uint_eq(pr.done, 6);
	progress_free(&pr);
	plan_free(&p);
}
END_TEST

START_TEST(evidence_and_tail_for_the_report)
{
	struct plan p;
	small_plan(&p);
	struct progress pr;
	progress_init(&pr, &p, NULL);
	progress_start(&pr, 0);
	progress_feed(&pr, " +> set -ex", 1, NULL);
	progress_feed(&pr, "a: beginning build using script a.sh", 2, NULL);
	for (int i = 0; i < PROGRESS_TAIL + 5; i++) {
		char line[64];
		snprintf(line, sizeof(line), "compiling file %d", i);
		progress_feed(&pr, line, 3, NULL);
	}
	progress_feed(&pr, "/usr/bin/tcc: FAILED", 4, NULL);
	progress_feed(&pr, "Wanted:   0123", 4, NULL);
	progress_feed(&pr, "Received: 4567", 4, NULL);
	progress_feed(&pr, "Subprocess error 1", 4, NULL);
	progress_feed(&pr, "ABORTING HARD", 4, NULL);
	ck_assert_uint_eq(pr.n_evidence, 5);
	ck_assert_uint_eq(pr.evidence_step[0], 1);
	/* the chain's init exiting is a failed step; the kernel's own panic is not evidence of one */
	ck_assert(progress_is_evidence("[ 9.1] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100"));
	ck_assert(!progress_is_evidence("[ 9.1] Kernel panic - not syncing: sysrq triggered crash"));
	ck_assert_uint_eq(pr.tail_count, PROGRESS_TAIL);
	ck_assert_str_eq(progress_tail_line(&pr, PROGRESS_TAIL - 1), "ABORTING HARD");
	progress_end(&pr, 5, STEP_FAILED);
	ck_assert_int_eq(pr.steps[1].status, STEP_FAILED);
	char *report = report_compose(&pr, "step failed", "kernel panic");
	ck_assert_ptr_nonnull(report);
	ck_assert_ptr_nonnull(strstr(report, "stage: sysa\nstep: a (step 2 of 4)\n"));
	ck_assert_ptr_nonnull(strstr(report, "  [a] /usr/bin/tcc: FAILED\n"));
	ck_assert_ptr_nonnull(strstr(report, "  [a] Received: 4567\n"));
	ck_assert_ptr_nonnull(strstr(report, "last lines of the step's output:\n"));
	ck_assert_ptr_null(strstr(report, "compiling file 4\n")); /* older than the kept tail */
	free(report);
	progress_free(&pr);
	plan_free(&p);
}
END_TEST

START_TEST(eta_from_earlier_timings)
{
	struct plan p;
	small_plan(&p);
	struct progress pr;
	progress_init(&pr, &p, NULL);
	progress_start(&pr, 0);
	double est[4] = { 10, 20, 30, 40 };
	ck_assert(progress_eta(&pr, est, 4) == 6 + 20 + 30 + 40);
	progress_feed(&pr, "a: beginning build using script a.sh", 12, NULL);
	ck_assert(progress_eta(&pr, est, 30) == 2 + 30 + 40);
	double unknown[4] = { 10, -1, 30, 40 };
	ck_assert(progress_eta(&pr, unknown, 30) < 0);
	progress_free(&pr);
	plan_free(&p);
}
END_TEST

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

START_TEST(record_escapes_guest_text)
{
	char dir[] = "/tmp/lbvm-record-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	struct plan p;
	small_plan(&p);
	struct progress pr;
	progress_init(&pr, &p, NULL);
	progress_start(&pr, 0);
	progress_feed(&pr, " +> set -ex", 1, NULL);
	progress_feed(&pr, "a: beginning build using script a.sh", 2, NULL);
	progress_end(&pr, 3, STEP_FAILED);
	struct run_record r;
	record_init(&r, dir, "0.1.0", "test \"layout\"", "/t");
	r.plan = &p;
	r.progress = &pr;
	record_input(&r, "kernel", "/k", "ab");
	r.ended = true;
	r.exit_status = 8;
	snprintf(r.outcome, sizeof(r.outcome), "step failed");
	/* console text: quotes, a backslash, control bytes, an invalid UTF-8 byte, markup */
	snprintf(r.detail, sizeof(r.detail), "a\"b\\c\x01\x1b[0m\xff<x>&");
	r.report = strdup("line1\nline2 \xc3\xa9");
	struct error err = { 0 };
	ck_assert_int_eq(record_write(&r, &err), 0);
	char path[256];
	snprintf(path, sizeof(path), "%s/run.json", dir);
	const char *json = slurp(path);
	ck_assert_ptr_nonnull(strstr(json, "\"detail\": \"a\\\"b\\\\c\\u0001\\u001b[0m\\ufffd<x>&\""));
	ck_assert_ptr_nonnull(strstr(json, "\"report\": \"line1\\nline2 \xc3\xa9\""));
	ck_assert_ptr_nonnull(strstr(json, "\"layout\": \"test \\\"layout\\\"\""));
	snprintf(path, sizeof(path), "%s/junit.xml", dir);
	const char *xml = slurp(path);
	ck_assert_ptr_nonnull(strstr(xml, "a&quot;b\\c??[0m?&lt;x&gt;&amp;"));
	ck_assert_ptr_nonnull(strstr(xml, "tests=\"4\" failures=\"1\" skipped=\"2\""));
	record_free(&r);
	progress_free(&pr);
	plan_free(&p);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	ck_assert_int_eq(system(path), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bootstrap-plan");
	TCase *tc = tcase_create("plan");
	tcase_add_test(tc, kaem_packages_follow_variables);
	tcase_add_test(tc, kaem_file_must_name_the_package);
	tcase_add_test(tc, bash_builds_with_conditions);
	tcase_add_test(tc, bash_refuses_what_it_cannot_read);
	tcase_add_test(tc, step_names_are_unique);
	tcase_add_test(tc, progress_moves_forward_only);
	tcase_add_test(tc, progress_lookahead_is_bounded);
	tcase_add_test(tc, silent_steps_do_not_count_against_the_lookahead);
	tcase_add_test(tc, evidence_and_tail_for_the_report);
	tcase_add_test(tc, eta_from_earlier_timings);
	tcase_add_test(tc, record_escapes_guest_text);
	suite_add_tcase(s, tc);
	return check_run(s);
}
