/* bootstrap.cfg from lbvm's options as rootfs.py writes it (steps/config.c), the live-bootstrap flags
 * (steps/options.c), and reading a bootstrap.cfg back, refusing what it does not know. */
#include "check_run.h"
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "steps/steps.h"

static struct error err;

static char *written(const struct steps_options *o)
{
	struct steps_config cfg;
	err = (struct error){ 0 };
	ck_assert_msg(steps_config_from_options(o, &cfg, &err) == 0, "%s", err.msg);
	char *text;
	size_t len;
	ck_assert_int_eq(steps_config_write(&cfg, &text, &len, &err), 0);
	ck_assert_uint_eq(strlen(text), len);
	/* and it reads back to the same text */
	struct steps_config back;
	steps_config_init(&back);
	ck_assert_msg(steps_config_parse(&back, text, len, &err) == 0, "%s", err.msg);
	back.write_mirrors = cfg.write_mirrors;
	char *again;
	size_t again_len;
	ck_assert_int_eq(steps_config_write(&back, &again, &again_len, &err), 0);
	ck_assert_str_eq(again, text);
	free(again);
	steps_config_free(&back);
	steps_config_free(&cfg);
	return text;
}

#define COMMON_HEAD "ARCH=x86\nARCH_DIR=x86\nFORCE_TIMESTAMPS=False\n"

START_TEST(three_modes_as_rootfs_writes_them)
{
	struct steps_options o;
	steps_options_init(&o);
	ck_assert_int_eq(steps_options_add_mirror(&o, "http://10.0.2.2:8080", &err), 0);
	ck_assert_int_eq(steps_options_add_mirror(&o, "https://mirror.lbvm.invalid/lb", &err), 0);
	o.mode = STEPS_MODE_CHROOT;
	char *t = written(&o);
	ck_assert_str_eq(t, COMMON_HEAD "CHROOT=True\nUPDATE_CHECKSUMS=False\nJOBS=2\nSWAP_SIZE=0\nFINAL_JOBS=2\n"
				    "INTERNAL_CI=False\nINTERACTIVE=False\nQEMU=False\nBARE_METAL=False\nDISK=sda1\n"
				    "KERNEL_BOOTSTRAP=False\nBUILD_KERNELS=False\nCONFIGURATOR=False\n"
				    "MIRRORS=\"http://10.0.2.2:8080 https://mirror.lbvm.invalid/lb\"\nMIRRORS_LEN=2\n");
	free(t);
	o.mode = STEPS_MODE_KERNEL;
	t = written(&o);
	ck_assert_str_eq(t, COMMON_HEAD "CHROOT=False\nUPDATE_CHECKSUMS=False\nJOBS=2\nSWAP_SIZE=0\nFINAL_JOBS=2\n"
				    "INTERNAL_CI=False\nINTERACTIVE=False\nQEMU=True\nBARE_METAL=False\nDISK=sda1\n"
				    "KERNEL_BOOTSTRAP=False\nBUILD_KERNELS=False\nCONFIGURATOR=False\n"
				    "MIRRORS=\"http://10.0.2.2:8080 https://mirror.lbvm.invalid/lb\"\nMIRRORS_LEN=2\n");
	free(t);
	o.mode = STEPS_MODE_KERNEL_BOOTSTRAP;
	t = written(&o);
	ck_assert_str_eq(t, COMMON_HEAD "CHROOT=False\nUPDATE_CHECKSUMS=False\nJOBS=2\nSWAP_SIZE=0\nFINAL_JOBS=2\n"
				    "INTERNAL_CI=False\nINTERACTIVE=False\nQEMU=True\nBARE_METAL=False\nDISK=sda\n"
				    "KERNEL_BOOTSTRAP=True\nBUILD_KERNELS=False\nCONFIGURATOR=False\n"
				    "MIRRORS=\"http://10.0.2.2:8080 https://mirror.lbvm.invalid/lb\"\nMIRRORS_LEN=2\n");
	free(t);
	steps_options_free(&o);
}
END_TEST

/* Every flag, through getopt_long as the command will call it. */
START_TEST(flags_through_getopt)
{
	static const struct option own[] = {
		{ "tree", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct option *all = steps_merge_options(own);
	ck_assert_ptr_nonnull(all);
	char *argv[] = { "bootstrap", "--tree", "T", "--cores", "4", "--jobs=3", "--swap", "2G", "--update-checksums",
			 "--external-sources", "--force-timestamps", "--build-kernels", "--repo", "/r",
			 "--mirror", "http://a", "--arch", "x86", NULL };
	int argc = sizeof(argv) / sizeof(argv[0]) - 1, c;
	struct steps_options o;
	steps_options_init(&o);
	optind = 0;
	opterr = 0;
	bool saw_tree = false;
	while ((c = getopt_long(argc, argv, "t:", all, NULL)) != -1) {
		if (c == 't') {
			saw_tree = true;
			continue;
		}
		ck_assert_int_ge(c, STEPS_OPT_FIRST);
		ck_assert_msg(steps_options_apply(&o, c, optarg, &err) == 0, "%s", err.msg);
	}
	free(all);
	ck_assert(saw_tree);
	ck_assert_uint_eq(o.cores, 4);
	ck_assert_uint_eq(o.jobs, 3);
	ck_assert_uint_eq(o.swap_mib, 2048);
	ck_assert_str_eq(o.repo, "/r");
	ck_assert_uint_eq(o.n_mirrors, 1);
	o.mode = STEPS_MODE_KERNEL_BOOTSTRAP;
	o.interactive = true;
	char *t = written(&o);
	/* --external-sources: no MIRRORS at all; --repo or --external-sources: the second disk is sdb1;
	 * --update-checksums builds the kernels; QEMU + --interactive sets BARE_METAL, as rootfs.py does */
	ck_assert_str_eq(t, "ARCH=x86\nARCH_DIR=x86\nFORCE_TIMESTAMPS=True\nCHROOT=False\nUPDATE_CHECKSUMS=True\n"
			    "JOBS=3\nSWAP_SIZE=2048\nFINAL_JOBS=3\nINTERNAL_CI=False\nINTERACTIVE=True\nQEMU=True\n"
			    "BARE_METAL=True\nDISK=sdb1\nKERNEL_BOOTSTRAP=True\nBUILD_KERNELS=True\n"
			    "CONFIGURATOR=False\n");
	free(t);
	/* the chroot has no swap, whatever was asked, and no BARE_METAL */
	steps_options_free(&o);
	steps_options_init(&o);
	o.mode = STEPS_MODE_CHROOT;
	o.swap_mib = 4096;
	o.interactive = true;
	t = written(&o);
	ck_assert_ptr_nonnull(strstr(t, "SWAP_SIZE=0\n"));
	ck_assert_ptr_nonnull(strstr(t, "BARE_METAL=False\nDISK=sda1\n"));
	ck_assert_ptr_nonnull(strstr(t, "CONFIGURATOR=False\nMIRRORS_LEN=0\n"));
	free(t);
	steps_options_free(&o);
}
END_TEST

static void bad_option(int offset, const char *arg, const char *why)
{
	struct steps_options o;
	steps_options_init(&o);
	err = (struct error){ 0 };
	ck_assert_int_eq(steps_options_apply(&o, STEPS_OPT_FIRST + offset, arg, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, why), "'%s' lacks '%s'", err.msg, why);
	ck_assert_int_eq(error_exit_status(&err), 2);
	steps_options_free(&o);
}

START_TEST(bad_values)
{
	bad_option(1, "0", "--cores '0' is not a number");
	bad_option(1, "four", "--cores 'four'");
	bad_option(1, "4x", "--cores '4x'");
	bad_option(2, "-1", "--jobs '-1'");
	bad_option(7, "2T", "--swap '2T'");
	bad_option(7, "lots", "--swap 'lots'");
	bad_option(8, "", "--repo needs a directory");
	bad_option(9, "file:///srv/distfiles", "no mirror the guest can reach");
	bad_option(9, "ftp://x", "not an http:// or https:// URL");
	bad_option(9, "http://a b", "not an http");
	bad_option(9, "http://a\"b", "not an http");
	bad_option(9, "http://$(reboot)", "not an http");
	bad_option(9, "http://", "not an http");
	struct steps_options o;
	steps_options_init(&o);
	err = (struct error){ 0 };
	ck_assert_int_eq(steps_options_apply(&o, STEPS_OPT_FIRST + 7, "512M", &err), 0);
	ck_assert_uint_eq(o.swap_mib, 512);
	ck_assert_int_eq(steps_options_apply(&o, STEPS_OPT_FIRST + 7, "300", &err), 0);
	ck_assert_uint_eq(o.swap_mib, 300);
	ck_assert_int_eq(steps_options_apply(&o, STEPS_OPT_FIRST + 7, "1g", &err), 0);
	ck_assert_uint_eq(o.swap_mib, 1024);
	/* arch: only x86 */
	ck_assert_int_eq(steps_options_apply(&o, STEPS_OPT_FIRST, "amd64", &err), 0);
	struct steps_config cfg;
	ck_assert_int_eq(steps_config_from_options(&o, &cfg, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "--arch amd64: only x86 runs"));
	steps_options_free(&o);
}
END_TEST

START_TEST(harness_flags_explained)
{
	ck_assert_str_eq(steps_harness_flag("-qr"), "-qr: lbvm's option is --memory SIZE");
	ck_assert_str_eq(steps_harness_flag("--qemu-ram=4096"), "--qemu-ram: lbvm's option is --memory SIZE");
	ck_assert_str_eq(steps_harness_flag("-qk"), "-qk: lbvm's option is --kernel FILE");
	ck_assert_ptr_nonnull(strstr(steps_harness_flag("--configurator"), "must know it up front"));
	ck_assert_ptr_nonnull(strstr(steps_harness_flag("--bwrap"), "without root"));
	ck_assert_ptr_nonnull(steps_harness_flag("--internal-ci"));
	ck_assert_ptr_nonnull(steps_harness_flag("-m"));
	ck_assert_ptr_null(steps_harness_flag("--frobnicate"));
	ck_assert_ptr_null(steps_harness_flag("--qemu-ramp"));
}
END_TEST

static void bad_cfg(const char *text, const char *why)
{
	struct steps_config cfg;
	steps_config_init(&cfg);
	err = (struct error){ 0 };
	ck_assert_int_eq(steps_config_parse(&cfg, text, strlen(text), &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, why), "'%s' lacks '%s'", err.msg, why);
	steps_config_free(&cfg);
}

START_TEST(config_text_refusals)
{
	bad_cfg("ARCH=x86\nFROB=1\n", "bootstrap.cfg:2: unknown key 'FROB'");
	bad_cfg("JOBS=2\nJOBS=3\n", "bootstrap.cfg:2: JOBS is set twice");
	bad_cfg("CHROOT=yes\n", "'yes' is not a valid value for CHROOT");
	bad_cfg("JOBS=two\n", "not a valid value for JOBS");
	bad_cfg("DISK=sda1;reboot\n", "not a valid value for DISK");
	bad_cfg("MIRRORS=http://a\n", "MIRRORS must be");
	bad_cfg("MIRRORS=\"http://a\"\nMIRRORS_LEN=2\n", "MIRRORS_LEN is 2 but MIRRORS lists 1");
	bad_cfg("INTERNAL_CI=True\n", "lbvm runs with False");
	bad_cfg("CONFIGURATOR=True\n", "up front");
	bad_cfg("QEMU=True", "no newline");
	bad_cfg("just words\n", "not KEY=VALUE");
	/* keys left out keep their values */
	struct steps_config cfg;
	steps_config_init(&cfg);
	static const char some[] = "JOBS=7\nMIRRORS=\"http://a http://b\"\n";
	ck_assert_int_eq(steps_config_parse(&cfg, some, strlen(some), &err), 0);
	ck_assert_uint_eq(cfg.jobs, 7);
	ck_assert_uint_eq(cfg.final_jobs, 2);
	ck_assert_uint_eq(cfg.n_mirrors, 2);
	ck_assert_str_eq(cfg.mirrors[1], "http://b");
	steps_config_free(&cfg);
}
END_TEST

START_TEST(mirrors_line_limit)
{
	/* the chain's generator reads bootstrap.cfg with fgets(2048): a longer MIRRORS line is refused */
	struct steps_options o;
	steps_options_init(&o);
	char url[200];
	for (int i = 0; i < 12; i++) {
		snprintf(url, sizeof(url), "http://mirror-%02d.lbvm.invalid/%0160d", i, 0);
		ck_assert_int_eq(steps_options_add_mirror(&o, url, &err), 0);
	}
	struct steps_config cfg;
	ck_assert_int_eq(steps_config_from_options(&o, &cfg, &err), 0);
	char *text;
	size_t len;
	ck_assert_int_eq(steps_config_write(&cfg, &text, &len, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "the chain reads at most 2046"));
	steps_config_free(&cfg);
	steps_options_free(&o);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("steps_config");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, three_modes_as_rootfs_writes_them);
	tcase_add_test(tc, flags_through_getopt);
	tcase_add_test(tc, bad_values);
	tcase_add_test(tc, harness_flags_explained);
	tcase_add_test(tc, config_text_refusals);
	tcase_add_test(tc, mirrors_line_limit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
