/* The run's timeline (session/timeline.c): stages in the order begun with non-decreasing start times,
 * names cut to fit, no more than TIMELINE_MAX stages kept, and the report's lines: each stage lasts until
 * the next one begins, the last until the end given. */
#include "check_run.h"
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session/timeline.h"

START_TEST(stages_in_order_with_their_times)
{
	struct timeline t;
	timeline_init(&t);
	ck_assert_uint_eq(t.count, 0);
	double a = timeline_begin(&t, "load and decompress the kernel");
	usleep(20000);
	double b = timeline_begin(&t, "seed kernel 6.1.0-57-amd64");
	double c = timeline_begin(&t, "kexec");
	ck_assert(a >= 0 && a < 1.0);
	ck_assert(b >= a + 0.015); /* the 20 ms between them, less a little for coarse clocks */
	ck_assert(c >= b);
	ck_assert(timeline_now(&t) >= c);
	ck_assert_uint_eq(t.count, 3);
	ck_assert_str_eq(t.stage[1].name, "seed kernel 6.1.0-57-amd64");
	ck_assert(t.stage[2].at == c);
}
END_TEST

START_TEST(long_names_are_cut_and_stages_capped)
{
	struct timeline t;
	timeline_init(&t);
	char name[TIMELINE_NAME * 2];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	timeline_begin(&t, name);
	ck_assert_uint_eq(strlen(t.stage[0].name), TIMELINE_NAME - 1);
	for (int i = 1; i < TIMELINE_MAX + 10; i++) {
		char stage[32];
		snprintf(stage, sizeof(stage), "stage %d", i);
		double at = timeline_begin(&t, stage);
		ck_assert(at >= 0); /* still timed when no longer kept */
	}
	ck_assert_uint_eq(t.count, TIMELINE_MAX);
	ck_assert_str_eq(t.stage[TIMELINE_MAX - 1].name, "stage 63");
}
END_TEST

START_TEST(report_lines_and_durations)
{
	struct timeline t;
	timeline_init(&t);
	timeline_begin(&t, "first");
	timeline_begin(&t, "second");
	timeline_begin(&t, "third");
	/* Fixed times, so the report can be checked to the millisecond. */
	t.stage[0].at = 0.0;
	t.stage[1].at = 1.5;
	t.stage[2].at = 4.25;
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	ck_assert_ptr_nonnull(out);
	timeline_print(&t, 10.0, out);
	fclose(out);
	char name[64];
	double started[3], took[3];
	const char *line = text;
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(sscanf(line, "lbvm: stage %63s started at %lf s, took %lf s", name, &started[i], &took[i]), 3);
		ck_assert_str_eq(name, i == 0 ? "first" : i == 1 ? "second" : "third");
		line = strchr(line, '\n');
		ck_assert_ptr_nonnull(line);
		line++;
	}
	ck_assert_str_eq(line, "");
	ck_assert_double_eq_tol(took[0], 1.5, 1e-9);
	ck_assert_double_eq_tol(took[1], 2.75, 1e-9);
	ck_assert_double_eq_tol(took[2], 5.75, 1e-9); /* the last stage runs until the end given */
	ck_assert_double_eq_tol(started[2], 4.25, 1e-9);
	free(text);
}
END_TEST

START_TEST(empty_report)
{
	struct timeline t;
	timeline_init(&t);
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	timeline_print(&t, 1.0, out);
	fclose(out);
	ck_assert_uint_eq(size, 0);
	free(text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("timeline");
	TCase *tc = tcase_create("stages");
	tcase_add_test(tc, stages_in_order_with_their_times);
	tcase_add_test(tc, long_names_are_cut_and_stages_capped);
	tcase_add_test(tc, report_lines_and_durations);
	tcase_add_test(tc, empty_report);
	suite_add_tcase(s, tc);
	return check_run(s);
}
