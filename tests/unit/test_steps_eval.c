/* The manifest evaluator (steps/manifest_eval.c) and the plan built from it (steps/manifest_plan.c): every
 * predicate form, define:, || and && chains (right-associative), comments, passN numbering, the
 * generator's quirks, its refusals with line numbers; and agreement with the synthetic tree's own
 * generator (tests/bootstrap/current/seed/script-generator.awk) on a manifest of edge cases. */
#include "check_run.h"
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "steps/manifest_eval.h"
#include "steps_fixture.h"

#define CFG "A=x\nB=y\nEMPTY=\n"

static struct steps_eval ev;
static struct error err;

static int eval(const char *manifest, const char *cfg)
{
	steps_eval_free(&ev);
	err = (struct error){ 0 };
	return steps_eval_run(&ev, "steps/manifest", manifest, strlen(manifest), cfg, strlen(cfg), &err);
}

/* The kept directives' arguments, space-separated ("p1 p4 ..."). */
static const char *kept(void)
{
	static char buf[2048];
	buf[0] = '\0';
	for (size_t i = 0; i < ev.n_dirs; i++) {
		if (i)
			strcat(buf, ",");
		strcat(buf, ev.dirs[i].arg);
	}
	return buf;
}

START_TEST(predicate_forms)
{
	ck_assert_msg(eval("build: p1 ( A == x )\n"
			   "build: p2 ( A != x )\n"
			   "build: p3 ( UNSET != x )\n"  /* unset compares as "" */
			   "build: p4 ( UNSET == x )\n"
			   "build: p5 ( EMPTY != x )\n"
			   "build: p6 ( True )\n"        /* a constant: true only when it is True */
			   "build: p7 ( False )\n"
			   "build: p8 ( A )\n"            /* a constant, not a variable */
			   "build: p9 ( A == x && B == z || B == y )\n"  /* x && (z || y) */
			   "build: p10 ( A == z && B == y || A == x )\n" /* right-assoc: F && (...) = F */
			   "build: p11 ( A == z || A == x && B == y )\n" /* F || (T && T) */
			   "build: p12 ( A == x || True )\n"             /* a constant as the last operand */
			   "build: p13 ( A == z || x )\n"
			   "build: p14 ( B != y || A != x || EMPTY == )\n",
			   CFG) == -EINVAL,
		      "EMPTY == ) has no value: %s", err.msg);
	/* the last line takes ")" as the value and then runs out of tokens, as the generator would */
	ck_assert_ptr_nonnull(strstr(err.msg, "steps/manifest:14:"));
	ck_assert_int_eq(eval("build: p1 ( A == x )\n"
			      "build: p2 ( A != x )\n"
			      "build: p3 ( UNSET != x )\n"
			      "build: p4 ( UNSET == x )\n"
			      "build: p5 ( EMPTY != x )\n"
			      "build: p6 ( True )\n"
			      "build: p7 ( False )\n"
			      "build: p8 ( A )\n"
			      "build: p9 ( A == x && B == z || B == y )\n"
			      "build: p10 ( A == z && B == y || A == x )\n"
			      "build: p11 ( A == z || A == x && B == y )\n"
			      "build: p12 ( A == x || True )\n"
			      "build: p13 ( A == z || x )\n"
			      "build: p14 ( B != y || A != x || B == y )\n"
			      "improve: i1 ( B == y )\n"
			      "jump: j1 ( B == x )\n",
			      CFG),
			 0);
	ck_assert_str_eq(kept(), "p1,p3,p5,p6,p9,p11,p12,p14,i1");
	ck_assert_int_eq(ev.dirs[0].type, STEPS_DIR_BUILD);
	ck_assert_int_eq(ev.dirs[8].type, STEPS_DIR_IMPROVE);
	ck_assert_uint_eq(ev.dirs[8].line, 15);
}
END_TEST

START_TEST(defines)
{
	ck_assert_msg(eval("define: D1 = ( A == x && B == y )\n"
			   "define: D2 = hello\n"
			   "define: D3 = yes ( A == z )\n"   /* its predicate is false: not set */
			   "define: B = changed\n"           /* updates the cfg's B */
			   "define: A = changed\n"           /* the first key: appended, never seen */
			   "define: D4 = ( D1 )\n"           /* a constant in parentheses: the text D1 */
			   "build: q1 ( D1 == True )\n"
			   "build: q2 ( D3 != yes && D2 == hello )\n"
			   "build: q3 ( B == changed )\n"
			   "build: q4 ( A == x )\n"
			   "build: q5 ( D4 == D1 )\n"
			   "define: D2 = later ( D1 == True )\n"
			   "build: q6 ( D2 == hello )\n"     /* defines act on the lines after them only */
			   "build: q7 ( D2 == later )\n",
			   CFG) == 0,
		      "%s", err.msg);
	ck_assert_str_eq(kept(), "q1,q2,q3,q4,q5,q7");
	ck_assert_str_eq(steps_eval_var(&ev, "A"), "x");
	ck_assert_str_eq(steps_eval_var(&ev, "B"), "changed");
	ck_assert_str_eq(steps_eval_var(&ev, "D1"), "True");
	ck_assert_str_eq(steps_eval_var(&ev, "D2"), "later");
	ck_assert_str_eq(steps_eval_var(&ev, "D3"), "");
	ck_assert_str_eq(steps_eval_var(&ev, "D4"), "D1");
	/* the list: A B EMPTY, then D1 D2 A(appended) D4 */
	ck_assert_uint_eq(ev.n_vars, 7);
	ck_assert_str_eq(ev.vars[5].name, "A");
	ck_assert_str_eq(ev.vars[5].value, "changed");
}
END_TEST

START_TEST(define_into_an_empty_list)
{
	/* no bootstrap.cfg keys: the generator makes the head and appends a copy; later defines update the
	 * copy, and lookups keep finding the head */
	ck_assert_int_eq(eval("define: X = one\ndefine: X = two\nbuild: k ( X == one )\n", ""), 0);
	ck_assert_str_eq(kept(), "k");
	ck_assert_uint_eq(ev.n_vars, 2);
	ck_assert_str_eq(ev.vars[1].value, "two");
}
END_TEST

START_TEST(comments_and_words)
{
	ck_assert_msg(eval("# a comment line\n"
			   "\n"
			   "build: c1 # a comment after a word\n"
			   "build: c2#x\n"
			   "#build: c3\n"
			   "build: c4 ( A == x ) tokens after the predicate are ignored\n"
			   "build: c5 \n"
			   "uninstall: a b c ( A == x )\n"
			   "uninstall: d ( A == z )\n"
			   "uninstall: /usr/bin/e\n"
			   "build: c6 ( A == x ) # commented\n",
			   CFG) == 0,
		      "%s", err.msg);
	ck_assert_str_eq(kept(), "c1,c2,c4,c5,a b c,/usr/bin/e,c6");
	ck_assert_int_eq(ev.dirs[4].type, STEPS_DIR_UNINSTALL);
	ck_assert_uint_eq(ev.dirs[6].line, 11);
}
END_TEST

/* A manifest the generator would refuse or crash on: -EINVAL, the line, and a word of the reason. */
static void refused(const char *manifest, const char *cfg, const char *where, const char *why)
{
	ck_assert_int_eq(steps_eval_run(&ev, "steps/manifest", manifest, strlen(manifest), cfg, strlen(cfg),
					&err),
			 -EINVAL);
	ck_assert_msg(strstr(err.msg, where) && strstr(err.msg, why), "'%s' lacks '%s' / '%s'", err.msg, where,
		      why);
	steps_eval_free(&ev);
	err = (struct error){ 0 };
}

START_TEST(refusals)
{
	refused("build: a\nbuild:\n", CFG, "manifest:2:", "needs a name");
	refused("frob: x\n", CFG, "manifest:1:", "not a directive");
	refused(" build: x\n", CFG, "manifest:1:", "not a directive");
	refused("build: x  ( A == x )\n", CFG, "manifest:1:", "starting with '('");
	refused("build: x ( A == x\n", CFG, "manifest:1:", "closing ')'");
	refused("build: x ( A = x )\n", CFG, "manifest:1:", "expected == or !=");
	refused("build: x ( A == x ^^ B == y )\n", CFG, "manifest:1:", "expected ||, && or ')'");
	refused("build: x ( True || A == x )\n", CFG, "manifest:1:", "expected == or != after 'True'");
	refused("build: x ( A ==\n", CFG, "manifest:1:", "no value");
	refused("define: X\n", CFG, "manifest:1:", "no '='");
	refused("define: X =\n", CFG, "manifest:1:", "no value");
	refused("build: x\r\nbuild: y\n", CFG, "manifest:1:", "carriage return");
	refused("build: x\nbuild: y\xff\n", CFG, "manifest:2:", "0xFF");
	refused("build: "
		"a234567890123456789012345678901234567890123456789012345678901234\n",
		CFG, "manifest:1:", "63 bytes");
	static const char nul[] = "build: a\0b\n";
	ck_assert_int_eq(steps_eval_run(&ev, "steps/manifest", nul, sizeof(nul) - 1, CFG, strlen(CFG), &err),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "NUL"));
	steps_eval_free(&ev);
	err = (struct error){ 0 };
	refused("build: a\n", "A=x\nnot a setting\n", "bootstrap.cfg:2:", "NAME=VALUE");
	refused("build: a\n", "A=x", "bootstrap.cfg:1:", "newline");
}
END_TEST

/* ---- the plan on a small tree: passN, eras, names, lines, agreement with the awk generator ---- */

static const char edge_manifest[] =
	"build: tool-1\n"
	"build: tool-1\n"
	"improve: tool-1\n"          /* the same word as the package: counts for its passN */
	"build: bash-9\n"            /* kaem builds it; the bash era starts after it */
	"build: tool-1\n"            /* pass4 */
	"uninstall: tool-1\n"        /* counts too */
	"build: tool-1\n"            /* pass6 */
	"improve: tool-1\n"
	"jump: hop ( FOO == bar )\n" /* FOO is not defined yet */
	"define: FOO = bar\n"
	"jump: hop ( FOO == bar )\n"
	"build: bash-10\n"           /* a second bash build starts another script */
	"improve: last ( CHROOT == True || KERNEL_BOOTSTRAP == True )\n";

static char *edge_tree(void)
{
	char *d = fx_tmpdir();
	fx_mkdir(d, "steps");
	fx_mkdir(d, "steps/tool-1");
	fx_mkdir(d, "steps/bash-9");
	fx_mkdir(d, "steps/bash-10");
	fx_mkdir(d, "steps/improve");
	fx_mkdir(d, "steps/jump");
	fx_write(d, "steps/manifest", edge_manifest, 0644);
	fx_write(d, "steps/env", "PREFIX=/usr\n", 0644);
	fx_write(d, "steps/tool-1/pass1.kaem", "", 0644);
	fx_write(d, "steps/tool-1/pass2.kaem", "", 0644);
	fx_write(d, "steps/tool-1/sources",
		 "f http://lbvm.invalid/t/tool-1.tar.gz "
		 "66fde474e124e80c843560041cd68820c9dce56e696f388312ba30361a814a16\n"
		 "g http://lbvm.invalid/t.git~v1 _ "
		 "f0611136bee505811e9ca11ca7ac188ef5323a8e2ef19cffd3edb3cf08fd791e tool-1-git.tar.gz\n",
		 0644);
	fx_write(d, "steps/bash-9/pass1.kaem", "", 0644);
	fx_write(d, "steps/improve/tool-1.sh", "", 0644);
	fx_write(d, "steps/improve/last.sh", "", 0644);
	fx_write(d, "steps/jump/hop.sh", "", 0644);
	return d;
}

START_TEST(plan_of_edge_cases)
{
	char *d = edge_tree();
	struct steps_options o;
	steps_options_init(&o);
	struct steps_config cfg;
	sx_config(&cfg, STEPS_MODE_CHROOT, &o);
	struct plan p;
	sx_check_agreement(d, &cfg, &p);
	static const char *const expect[][5] = {
		/* stage, name, script, begin, end */
		{ "kaem", "stage0-posix", NULL, NULL, NULL },
		{ "kaem", "tool-1 pass1", "pass1.kaem", " +> pkg=tool-1", NULL },
		{ "kaem", "tool-1 pass2", "pass2.kaem", " +> pkg=tool-1", NULL },
		{ "kaem", "tool-1 #1", "improve/tool-1.sh", " +> kaem --file /steps/improve/tool-1.sh", NULL },
		{ "kaem", "bash-9", "pass1.kaem", " +> pkg=bash-9", NULL },
		{ "bash", "tool-1 pass4", "pass4.sh", "tool-1: beginning build using script pass4.sh",
		  "tool-1: build successful" },
		{ "bash", "tool-1 pass6", "pass6.sh", "tool-1: beginning build using script pass6.sh",
		  "tool-1: build successful" },
		{ "bash", "tool-1 #2", "improve/tool-1.sh", NULL, NULL },
		{ "bash", "hop", "jump/hop.sh", NULL, NULL },
		{ "bash", "bash-10", "pass1.sh", "bash-10: beginning build using script pass1.sh",
		  "bash-10: build successful" },
		{ "bash", "last", "improve/last.sh", NULL, NULL },
	};
	ck_assert_uint_eq(p.n_steps, sizeof(expect) / sizeof(expect[0]));
	for (size_t i = 0; i < p.n_steps; i++) {
		const struct plan_step *s = &p.steps[i];
		ck_assert_str_eq(s->stage, expect[i][0]);
		ck_assert_str_eq(s->name, expect[i][1]);
		ck_assert_pstr_eq(s->script, expect[i][2]);
		ck_assert_pstr_eq(s->begin_line, expect[i][3]);
		ck_assert_pstr_eq(s->end_line, expect[i][4]);
	}
	ck_assert_int_eq(p.steps[0].kind, PLAN_SCRIPT);
	ck_assert_int_eq(p.steps[3].kind, PLAN_IMPROVE);
	ck_assert_int_eq(p.steps[8].kind, PLAN_JUMP);
	/* every build of tool-1 carries its two distfiles, the `g` line's by its given name */
	ck_assert_uint_eq(p.steps[1].n_distfiles, 2);
	ck_assert_str_eq(p.steps[1].distfiles[0], "tool-1.tar.gz");
	ck_assert_str_eq(p.steps[1].distfiles[1], "tool-1-git.tar.gz");
	ck_assert_uint_eq(p.steps[4].n_distfiles, 0);
	ck_assert_str_eq(p.layout, "live-bootstrap current layout (seed/ steps/ manifest)");
	plan_free(&p);
	steps_config_free(&cfg);
	steps_options_free(&o);
	fx_rmtree(d);
}
END_TEST

START_TEST(plan_refuses_missing_scripts)
{
	char *d = edge_tree();
	struct steps_options o;
	steps_options_init(&o);
	struct steps_config cfg;
	sx_config(&cfg, STEPS_MODE_KERNEL, &o);
	struct plan p;
	plan_init(&p);
	char *gone = fx_path(d, "steps/tool-1/pass2.kaem");
	ck_assert_int_eq(unlink(gone), 0);
	ck_assert_int_eq(steps_plan(d, &cfg, &p, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "steps/manifest:2: this kaem-era build needs steps/tool-1/pass2.kaem, which is "
				  "missing");
	ck_assert_int_eq(error_exit_status(&err), 2);
	plan_free(&p);
	err = (struct error){ 0 };
	fx_write(d, "steps/tool-1/pass2.kaem", "", 0644);
	char *jump = fx_path(d, "steps/jump/hop.sh");
	ck_assert_int_eq(unlink(jump), 0);
	plan_init(&p);
	ck_assert_int_eq(steps_plan(d, &cfg, &p, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "steps/manifest:11: this jump needs steps/jump/hop.sh, which is missing");
	plan_free(&p);
	err = (struct error){ 0 };
	fx_write(d, "steps/manifest", "build: ../../etc\n", 0644);
	plan_init(&p);
	ck_assert_int_eq(steps_plan(d, &cfg, &p, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "not a package folder name"));
	plan_free(&p);
	free(gone);
	free(jump);
	steps_config_free(&cfg);
	steps_options_free(&o);
	fx_rmtree(d);
}
END_TEST

static void teardown(void)
{
	steps_eval_free(&ev);
}

static Suite *suite(void)
{
	Suite *s = suite_create("steps_eval");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, predicate_forms);
	tcase_add_test(tc, defines);
	tcase_add_test(tc, define_into_an_empty_list);
	tcase_add_test(tc, comments_and_words);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, plan_of_edge_cases);
	tcase_add_test(tc, plan_refuses_missing_scripts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
