/* lbvm fetch: download, verify and cache the distfiles of one or more manifests (docs/fetch.md). */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "common/diag.h"
#include "common/exit_codes.h"
#include "sources/fetch.h"
#include "sources/builtin.h"
#include "sources/manifest.h"
#include "sources/progress.h"
#include "cli/fetch_view.h"

#define DEFAULT_CACHE ".cache/distfiles"
#define DEFAULT_JOBS 4
#define MAX_JOBS 64
#define DEFAULT_RETRIES 3
#define MAX_RETRIES 20
#define DEFAULT_RETRY_DELAY_MS 1000
#define MAX_RETRY_DELAY_MS 60000
#define DEFAULT_STALL_S 30
#define DEFAULT_CONNECT_S 30
#define MAX_TIMEOUT_S 3600
#define MAX_MIRRORS 32
#define MAX_MANIFESTS 64

/* Built into lbvm (sources/builtin.h). */
static const char *const default_manifests[] = {
	"live-bootstrap-2021-09-sysa.manifest",
	"live-bootstrap-2021-09-sysc.manifest",
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: lbvm fetch [--manifest FILE]... [--cache DIR] [--mirror URL]... [--jobs N] [--offline]\n"
		"                  [--retries N] [--retry-delay MS] [--timeout SECONDS] [--connect-timeout SECONDS]\n"
		"                  [--quiet]\n"
		"\n"
		"Download every distfile the manifests list into the cache, verified by SHA-256.\n"
		"  --manifest FILE      a manifest (lbvm's or a live-bootstrap `sources` file); repeatable\n"
		"                       (default: the live-bootstrap 2021-09 sysa and sysc manifests built into lbvm)\n"
		"  --cache DIR          where verified files go (default: %s)\n"
		"  --mirror URL         try URL/NAME before the manifest's locations; repeatable, in order\n"
		"  --jobs N             transfers at once (default %d, at most %d)\n"
		"  --offline            only check the cache; list what is missing or wrong\n"
		"  --retries N          extra attempts per location after a transient failure (default %d)\n"
		"  --retry-delay MS     wait before the first retry, doubled each time (default %d)\n"
		"  --timeout SECONDS    give up on a transfer that received nothing, or under 1 KiB/s, for this long (default %d)\n"
		"  --connect-timeout S  give up connecting after this long (default %d)\n"
		"  --quiet              only problems and the summary\n"
		"exit status: 0 all files verified; %d some missing or bad; 2 bad usage, manifest or cache; 1 internal\n",
		DEFAULT_CACHE, DEFAULT_JOBS, MAX_JOBS, DEFAULT_RETRIES, DEFAULT_RETRY_DELAY_MS, DEFAULT_STALL_S,
		DEFAULT_CONNECT_S, EXIT_INCOMPLETE);
}

/* A whole number in [lo, hi] or -1. */
static long parse_number(const char *text, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < lo || v > hi)
		return -1;
	return v;
}

enum { OPT_MANIFEST = 256, OPT_CACHE, OPT_MIRROR, OPT_JOBS, OPT_OFFLINE, OPT_RETRIES, OPT_RETRY_DELAY,
       OPT_TIMEOUT, OPT_CONNECT_TIMEOUT };

static const struct option long_options[] = {
	{ "manifest", required_argument, NULL, OPT_MANIFEST },
	{ "cache", required_argument, NULL, OPT_CACHE },
	{ "mirror", required_argument, NULL, OPT_MIRROR },
	{ "jobs", required_argument, NULL, OPT_JOBS },
	{ "offline", no_argument, NULL, OPT_OFFLINE },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "retry-delay", required_argument, NULL, OPT_RETRY_DELAY },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static bool mirror_ok(const char *url)
{
	return !strncasecmp(url, "http://", 7) || !strncasecmp(url, "https://", 8) || !strncasecmp(url, "ftp://", 6);
}

int cmd_fetch(int argc, char **argv)
{
	const char *manifests[MAX_MANIFESTS];
	const char *mirrors[MAX_MIRRORS];
	size_t n_manifests = 0, n_mirrors = 0;
	struct fetch_options o = {
		.cache_dir = DEFAULT_CACHE, .jobs = DEFAULT_JOBS, .retries = DEFAULT_RETRIES,
		.backoff_ms = DEFAULT_RETRY_DELAY_MS, .connect_timeout_s = DEFAULT_CONNECT_S,
		.stall_timeout_s = DEFAULT_STALL_S,
	};
	bool quiet = false;
	long n;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+qh", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_MANIFEST:
			if (n_manifests == MAX_MANIFESTS) {
				diag_error("fetch: at most %d --manifest options", MAX_MANIFESTS);
				return EXIT_USAGE;
			}
			manifests[n_manifests++] = optarg;
			break;
		case OPT_CACHE:
			if (!*optarg) {
				diag_error("fetch: --cache needs a directory");
				return EXIT_USAGE;
			}
			o.cache_dir = optarg;
			break;
		case OPT_MIRROR:
			if (n_mirrors == MAX_MIRRORS || !mirror_ok(optarg)) {
				diag_error("fetch: --mirror '%s': expected an http://, https:// or ftp:// URL (at most %d)",
					   optarg, MAX_MIRRORS);
				return EXIT_USAGE;
			}
			mirrors[n_mirrors++] = optarg;
			break;
		case OPT_JOBS:
			if ((n = parse_number(optarg, 1, MAX_JOBS)) < 0) {
				diag_error("fetch: --jobs '%s': expected a number from 1 to %d", optarg, MAX_JOBS);
				return EXIT_USAGE;
			}
			o.jobs = (unsigned)n;
			break;
		case OPT_OFFLINE:
			o.offline = true;
			break;
		case OPT_RETRIES:
			if ((n = parse_number(optarg, 0, MAX_RETRIES)) < 0) {
				diag_error("fetch: --retries '%s': expected a number from 0 to %d", optarg, MAX_RETRIES);
				return EXIT_USAGE;
			}
			o.retries = (unsigned)n;
			break;
		case OPT_RETRY_DELAY:
			if ((n = parse_number(optarg, 0, MAX_RETRY_DELAY_MS)) < 0) {
				diag_error("fetch: --retry-delay '%s': expected milliseconds from 0 to %d", optarg,
					   MAX_RETRY_DELAY_MS);
				return EXIT_USAGE;
			}
			o.backoff_ms = n;
			break;
		case OPT_TIMEOUT:
		case OPT_CONNECT_TIMEOUT:
			if ((n = parse_number(optarg, 1, MAX_TIMEOUT_S)) < 0) {
				diag_error("fetch: --%s '%s': expected seconds from 1 to %d",
					   c == OPT_TIMEOUT ? "timeout" : "connect-timeout", optarg, MAX_TIMEOUT_S);
				return EXIT_USAGE;
			}
			if (c == OPT_TIMEOUT)
				o.stall_timeout_s = n;
			else
				o.connect_timeout_s = n;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			diag_error("fetch: unknown or incomplete option '%s' (lbvm fetch --help)", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		diag_error("fetch: unexpected argument '%s' (manifests are given with --manifest)", argv[optind]);
		return EXIT_USAGE;
	}
	struct manifest m;
	manifest_init(&m);
	for (size_t i = 0; n_manifests == 0 && i < sizeof(default_manifests) / sizeof(default_manifests[0]); i++) {
		const struct builtin_manifest *b = builtin_manifest(default_manifests[i]);
		struct error err = { 0 };
		if (!b || manifest_parse_text(&m, b->name, b->text, b->len, &err)) {
			diag_error("fetch: lbvm's built-in manifest %s: %s", default_manifests[i],
				   b ? err.msg : "missing from this build");
			manifest_free(&m);
			return EXIT_INTERNAL;
		}
	}
	for (size_t i = 0; i < n_manifests; i++) {
		struct error err = { 0 };
		int rc = manifest_load(&m, manifests[i], &err);
		if (rc) {
			diag_error("%s", err.msg);
			manifest_free(&m);
			return rc == -ENOMEM ? EXIT_INTERNAL : EXIT_USAGE;
		}
	}

	struct fetch_view v = { .tty = isatty(STDERR_FILENO) == 1, .quiet = quiet };
	diag_set_quiet(quiet);
	o.mirrors = mirrors;
	o.n_mirrors = n_mirrors;
	o.on_event = fetch_view_event;
	o.on_progress = fetch_view_progress;
	o.ctx = &v;
	struct fetch_summary sum;
	struct error err = { 0 };
	double start = fetch_view_now();
	int rc = fetch_all(&m, &o, NULL, &sum, &err);
	fetch_view_clear(&v);
	diag_set_quiet(false);
	size_t total = m.n_files;
	manifest_free(&m);
	if (rc) {
		diag_error("fetch: %s", err.code ? err.msg : strerror(-rc));
		return rc == -ENOMEM || rc == -EIO ? EXIT_INTERNAL : EXIT_USAGE;
	}
	char rate[32];
	double took = fetch_view_now() - start;
	progress_bytes(took > 0 ? (uint64_t)((double)v.last_bytes / took) : 0, rate, sizeof(rate));
	if (o.offline)
		diag_info("fetch: %zu files: %zu verified, %zu missing, %zu bad (offline)", total, sum.cached,
			  sum.missing, sum.bad);
	else
		diag_info("fetch: %zu files: %zu already cached, %zu downloaded, %zu missing, %zu bad; %.1f s, %s/s",
			  total, sum.cached, sum.downloaded, sum.missing, sum.bad, took, rate);
	return sum.missing || sum.bad ? EXIT_INCOMPLETE : EXIT_OK;
}
