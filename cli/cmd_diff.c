/* lbvm diff RUN_A RUN_B: the reproducibility diff of two bootstrap runs (docs/diff.md). This file reads
 * the options; bootstrap/run_diff.c does the work. Exit status as diffoscope's: 0 the same, 1 different,
 * 2 trouble. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "bootstrap/run_diff.h"
#include "cli/commands.h"
#include "common/diag.h"
#include "common/printable.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: lbvm diff [--out DIR] [--no-diffoscope] RUN_A RUN_B\n"
		"\n"
		"Compare two runs of lbvm bootstrap (their run directories): what went in (run.json: lbvm's version,\n"
		"the inputs' SHA-256, options, machine, plan; bootstrap.cfg), then their packages in the chain's\n"
		"order, read from the runs' disks or chroot trees. Prints the first package whose output differs,\n"
		"its two hashes, the files inside it that differ, the later packages that also differ, and the\n"
		"diffoscope command that shows the bytes (run when diffoscope is installed).\n"
		"  -o, --out DIR        copy the first differing package's files there (new or empty; default: a\n"
		"                       new folder lbvm-diff-XXXXXX in $TMPDIR or /tmp, left for you)\n"
		"  -n, --no-diffoscope  print the diffoscope command, do not run it\n"
		"exit status: 0 the packages are the same; 1 a package differs; 2 trouble (a run that cannot be\n"
		"read, runs of different layouts, bad arguments)\n");
}

int cmd_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "no-diffoscope", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct run_diff_options o = { .diffoscope = true };
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "+:o:nh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o.out_dir = optarg; break;
		case 'n': o.diffoscope = false; break;
		case 'h': usage(stdout); return RUN_DIFF_SAME;
		default: diag_bad_option("diff", c, argv[optind - 1]); return RUN_DIFF_TROUBLE;
		}
	}
	if (argc - optind != 2) {
		diag_error("diff: expected two run directories, RUN_A and RUN_B (lbvm diff --help)");
		return RUN_DIFF_TROUBLE;
	}
	o.run[0] = argv[optind];
	o.run[1] = argv[optind + 1];
	if (o.out_dir && !*o.out_dir) {
		diag_error("diff: --out needs a folder name");
		return RUN_DIFF_TROUBLE;
	}
	struct error err = { 0 };
	int status = run_diff(&o, stdout, &err);
	fflush(stdout);
	if (status == RUN_DIFF_TROUBLE) {
		char line[ERROR_MSG_MAX];
		diag_error("diff: %s", printable(line, sizeof(line), err.msg)); /* names from a run: one line */
	}
	return status;
}
