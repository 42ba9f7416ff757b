/* coord_main.c: the coordinator's command line. */
#include "common/endpoint.h"
#include "common/escape.h"
#include "common/files.h"
#include "common/keys.h"
#include "common/units.h"
#include "coordinator/baseline.h"
#include "coordinator/compare.h"
#include "coordinator/compare_html.h"
#include "coordinator/coord.h"
#include "coordinator/html.h"
#include "coordinator/httpd.h"
#include "coordinator/scenario.h"
#include "coordinator/verdict.h"

#include <ctype.h>
#include <czmq.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const char *s_usage =
    "usage: coord run FILE [options]     run a scenario\n"
    "       coord check FILE             validate a scenario without running it\n"
    "       coord baseline save RUN_DIR... [--add] [--out DIR]\n"
    "                                    keep runs' numbers for gates (baselines/<name>.json);\n"
    "                                    --add adds them to the runs already there\n"
    "       coord compare RUN_DIR... [--by host|board|cpu] [--ref NAME] [--json|--markdown]\n"
    "                     [--html FILE]  hosts side by side, ratios to a reference\n"
    "       coord report RUN_DIR         build RUN_DIR/report.html again from its files\n"
    "       coord keygen --out DIR [--agents N | --name NAME]\n"
    "                                    CURVE key pairs: DIR/coordinator.key, DIR/agents/*.key\n"
    "       coord --help | --version\n"
    "\n"
    "run options:\n"
    "  --bind ENDPOINT   where agents connect; port 1..65535, or 0 for one the system picks\n"
    "                    (logged, handed to local agents). Default: a port the system picks\n"
    "                    on loopback when every agent is local (--local not given, or at\n"
    "                    least agents.expect), else tcp://127.0.0.1:5690\n"
    "  --keys DIR        CURVE: use DIR/coordinator.key and accept only agents whose public\n"
    "                    key is in DIR/agents/ (made by coord keygen)\n"
    "  --insecure        allow plain TCP on a non-loopback --bind (and --metrics)\n"
    "  --metrics ADDRESS:PORT\n"
    "                    serve live Prometheus metrics at http://ADDRESS:PORT/metrics while\n"
    "                    the run goes (loopback unless --insecure; port 0: one the system\n"
    "                    picks, logged); docs/metrics.md\n"
    "  --metrics-hold DURATION\n"
    "                    keep serving the final metrics this long after the run (e.g. 15s)\n"
    "  --local N         start N agents on this machine (default: agents.expect, started\n"
    "                    when none has joined after 1 s; --local 0 never)\n"
    "  --allow FILE      the allow-list local agents run with (commands, http: targets;\n"
    "                    fleetbench-agent(8) --allow)\n"
    "  --out DIR         results folder (default results/)\n"
    "  --baseline FILE   baseline for gates (default baselines/<scenario>.json)\n"
    "  --repeat N        N whole repetitions of the run, each with fresh local agents; the\n"
    "                    last judges with all of their intervals (docs/statistics.md)\n"
    "  --rerun-budget N  repetitions on_inconclusive: rerun may add (default 3)\n"
    "  --continue DIR    this run is one more repetition of the earlier run in DIR (same\n"
    "                    scenario and params): figures and gates rest on both, as with\n"
    "                    --repeat; to alternate two builds' runs (docs/statistics.md)\n"
    "  --allow-different host|params|build\n"
    "                    judge gates against a baseline that ran on other hosts, with other\n"
    "                    params or another fleetbench version (repeatable; recorded)\n"
    "  --json            print run.json instead of the summary table\n"
    "  --quiet           no progress lines\n"
    "\n"
    "exit codes: 0 every target and gate held, 1 a target or gate failed,\n"
    "            2 bad scenario, command line or baseline file, 3 run incomplete (agents\n"
    "            missing or lost, or results that could not be written)\n";

static int s_usage_error (const char *fmt, const char *arg) {
    fprintf (stderr, "coord: ");
    fprintf (stderr, fmt, arg);
    fprintf (stderr, "\n\n%s", s_usage);
    return 2;
}

static int s_check (const char *path) {
    fb_err_t err = {0};
    fb_scenario_t *sc = fb_scenario_load (path, &err);
    if (!sc) {
        fprintf (stderr, "coord: %s\n", err.msg);
        return 2;
    }
    printf ("%s: scenario \"%s\" is valid: %d workload(s), %d agent(s) expected\n", path, sc->name,
            sc->n_workloads, sc->expect);
    fb_scenario_destroy (&sc);
    return 0;
}

#define S_MAX_REPEAT FB_MAX_REPEAT

/* --repeat N: N runs of the scenario, each with fresh local agents, every workload in each
 * (so drift hits them alike); a workload's own repeat: runs it in the last that many only. The
 * last judges with every repetition's intervals. A gate with on_inconclusive: rerun adds one
 * more, up to rerun_budget. dir: the last's folder. */
static int s_repetitions (const fb_scenario_t *sc, fb_coord_opts_t *opts, int repeat,
                          int rerun_budget, const char *series, char *dir, size_t dir_size,
                          fb_err_t *err) {
    static char prior[1][512];
    bool no_summary = opts->no_summary, rerun_wanted = false, stopped = false;
    FILE *json_out = opts->json_out; /* --json: the last repetition's run.json only */
    int code = 0, reruns = 0, total = fb_scenario_repetitions (sc, repeat);
    fb_scenario_t *sub = malloc (sizeof *sub);
    if (!sub) {
        fb_err_set (err, FB_ENOMEM, "out of memory");
        return 2;
    }
    /* --continue: an earlier run's folder stands for every repetition before this one */
    snprintf (prior[0], sizeof prior[0], "%s", series ? series : "");
    opts->prior = prior;
    opts->n_prior = series ? 1 : 0;
    opts->rerun_wanted = &rerun_wanted;
    opts->stopped_early = &stopped;
    for (int done = 0; done < total + reruns; done++) {
        bool last = done + 1 == total + reruns;
        opts->intermediate = !last;
        opts->no_summary = no_summary || !last;
        opts->json_out = last ? json_out : NULL;
        opts->reruns_left = last ? rerun_budget - reruns : 0;
        rerun_wanted = false;
        int n = fb_scenario_repetition (sc, repeat, done, sub);
        if (total > 1 && !opts->quiet)
            fprintf (stderr, "coord: repetition %d of %d%s%d workload(s)\n", done + 1,
                     total + reruns, n < sc->n_workloads ? ", " : ", all ", n);
        code = fb_coord_run (sub, opts, dir, dir_size, err);
        if (code == 2 || code == 3 || !dir[0] || stopped)
            break; /* stopped early: an abort_on_fail target already failed */
        /* each repetition's run.json carries every earlier one's intervals and fleet numbers,
         * so the next needs only the one before it (a workload runs in every repetition from
         * its first on) */
        snprintf (prior[0], sizeof prior[0], "%s", dir);
        opts->n_prior = 1;
        if (last && rerun_wanted && reruns < rerun_budget) {
            reruns++; /* an inconclusive gate asked for more data */
            err->msg[0] = '\0';
        }
    }
    free (sub);
    return code;
}

static int s_run (int argc, char **argv) {
    fb_coord_opts_t opts;
    fb_coord_opts_default (&opts);
    bool json = false;
    int repeat = 0, rerun_budget = 3; /* repeat 0: the scenario's repeat: */
    const char *series = NULL;        /* --continue DIR */
    bool bind_given = false;
    static const struct option longs[] = {
        {"bind", required_argument, 0, 'b'},     {"insecure", no_argument, 0, 'i'},
        {"local", required_argument, 0, 'l'},    {"allow", required_argument, 0, 'L'},
        {"out", required_argument, 0, 'o'},      {"baseline", required_argument, 0, 'B'},
        {"json", no_argument, 0, 'j'},           {"quiet", no_argument, 0, 'q'},
        {"keys", required_argument, 0, 'k'},     {"allow-different", required_argument, 0, 'A'},
        {"repeat", required_argument, 0, 'R'},   {"rerun-budget", required_argument, 0, 'U'},
        {"metrics", required_argument, 0, 'M'},  {"metrics-hold", required_argument, 0, 'H'},
        {"continue", required_argument, 0, 'C'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long (argc, argv, "", longs, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'b': {
            int port = 0;
            fb_err_t perr = {0};
            if (fb_endpoint_port (optarg, &port, &perr) != 0)
                return s_usage_error ("--bind %s", perr.msg);
            snprintf (opts.bind, sizeof opts.bind, "%s", optarg);
            bind_given = true;
            break;
        }
        case 'i':
            opts.insecure = true;
            break;
        case 'l':
            opts.local = (int)strtol (optarg, &end, 10);
            if (!*optarg || *end || opts.local < 0 || opts.local > 256)
                return s_usage_error ("--local takes a number of agents from 0 to 256 (got \"%s\")",
                                      optarg);
            break;
        case 'L': {
            /* Local agents start elsewhere in the tree's life: the path is made absolute. */
            char *path = realpath (optarg, NULL);
            bool ok = path && strlen (path) < sizeof opts.local_allow && access (path, R_OK) == 0;
            if (ok)
                snprintf (opts.local_allow, sizeof opts.local_allow, "%s", path);
            free (path);
            if (!ok)
                return s_usage_error ("--allow: cannot read %s", optarg);
            break;
        }
        case 'o':
            if (!optarg[0]) /* "" would put results/<run-id> at the root of the file system */
                return s_usage_error ("--out needs a folder (got \"%s\")", "");
            snprintf (opts.out_dir, sizeof opts.out_dir, "%s", optarg);
            break;
        case 'B':
            snprintf (opts.baseline, sizeof opts.baseline, "%s", optarg);
            break;
        case 'j':
            json = true;
            break;
        case 'q':
            opts.quiet = true;
            break;
        case 'k':
            snprintf (opts.keys, sizeof opts.keys, "%s", optarg);
            break;
        case 'R':
        case 'U':
            *(c == 'R' ? &repeat : &rerun_budget) = (int)strtol (optarg, &end, 10);
            if (!*optarg || *end || (c == 'R' && repeat < 1) || repeat > S_MAX_REPEAT ||
                rerun_budget < 0 || rerun_budget > S_MAX_REPEAT)
                return s_usage_error (c == 'R' ? "--repeat takes 1 to 32 repetitions (got \"%s\")"
                                               : "--rerun-budget takes 0 to 32 (got \"%s\")",
                                      optarg);
            break;
        case 'A':
            if (!streq (optarg, "host") && !streq (optarg, "params") && !streq (optarg, "build"))
                return s_usage_error ("--allow-different takes host, params or build (got \"%s\")",
                                      optarg);
            snprintf (opts.allow_different + strlen (opts.allow_different),
                      sizeof opts.allow_different - strlen (opts.allow_different), "%s%s",
                      opts.allow_different[0] ? "," : "", optarg);
            break;
        case 'M': {
            fb_err_t merr = {0};
            if (strlen (optarg) >= sizeof opts.metrics ||
                fb_httpd_check_address (optarg, &merr) != 0)
                return s_usage_error ("%s", merr.msg[0] ? merr.msg : "--metrics: too long");
            snprintf (opts.metrics, sizeof opts.metrics, "%s", optarg);
            break;
        }
        case 'H': {
            fb_err_t herr = {0};
            if (fb_units_duration_ns (optarg, &opts.metrics_hold_ns, &herr) != 0 ||
                opts.metrics_hold_ns < 0)
                return s_usage_error ("--metrics-hold takes a duration such as 15s (got \"%s\")",
                                      optarg);
            break;
        }
        case 'C':
            if (!optarg[0] || strlen (optarg) >= 512)
                return s_usage_error ("--continue needs an earlier run's results folder (got "
                                      "\"%s\")",
                                      optarg);
            series = optarg;
            break;
        default:
            return s_usage_error ("%s", "unknown option");
        }
    }
    if (optind != argc - 1)
        return s_usage_error ("%s", "coord run takes one scenario file");
    fb_err_t err = {0};
    fb_scenario_t *sc = fb_scenario_load (argv[optind], &err);
    if (!sc) {
        fprintf (stderr, "coord: %s\n", err.msg);
        return 2;
    }
    /* Every agent local: a port of the system's choosing, so that two runs on one machine (two
     * CI jobs) never collide on 5690, which stays for agents on other hosts. Nobody else can
     * find that port, so the local agents start at once. */
    if (!bind_given && opts.local != 0 && (opts.local < 0 || opts.local >= sc->expect)) {
        snprintf (opts.bind, sizeof opts.bind, "tcp://127.0.0.1:0");
        if (opts.local < 0)
            opts.local = sc->expect;
    }
    if (opts.local_allow[0] && opts.local == 0)
        fprintf (stderr, "coord: --allow is for local agents, and --local 0 starts none: agents "
                         "on other hosts use their own --allow file\n");
    if (series && fb_verdict_check_series (sc, series, &err) != 0) {
        fprintf (stderr, "coord: --continue %s\n", err.msg);
        fb_scenario_destroy (&sc);
        return 2;
    }
    if (json) {
        opts.quiet = opts.no_summary = true;
        opts.json_out = stdout;
    }
    char dir[512] = "";
    int code = s_repetitions (sc, &opts, repeat ? repeat : sc->repeat, rerun_budget, series, dir,
                              sizeof dir, &err);
    if (code != 0 && err.msg[0])
        fprintf (stderr, "coord: %s\n", err.msg);
    fb_scenario_destroy (&sc);
    return code;
}

/* coord baseline save RUN_DIR... [--add] [--out DIR] */
static int s_baseline (int argc, char **argv) {
    static const char usage[] = "usage: coord baseline save RUN_DIR... [--add] [--out DIR]";
    if (argc < 3 || !streq (argv[1], "save"))
        return s_usage_error ("%s", usage);
    const char *out = "baselines";
    const char *dirs[64];
    int n = 0;
    bool add = false;
    for (int i = 2; i < argc; i++) {
        if (streq (argv[i], "--out") && i + 1 < argc)
            out = argv[++i];
        else if (streq (argv[i], "--add"))
            add = true;
        else if (argv[i][0] == '-' || n == 64)
            return s_usage_error ("%s", usage);
        else
            dirs[n++] = argv[i];
    }
    if (n == 0)
        return s_usage_error ("%s", usage);
    if (!out[0])
        return s_usage_error ("--out needs a folder (got \"%s\")", "");
    char path[600];
    fb_err_t err = {0};
    if (fb_baseline_save (dirs, n, out, add, path, sizeof path, &err) != 0) {
        fprintf (stderr, "coord: %s\n", err.msg);
        return 2;
    }
    printf ("baseline saved: %s\n", path);
    return 0;
}

/* coord compare RUN_DIR... [--by host|board|cpu] [--ref NAME] [--json|--markdown]
 *                          [--html FILE] */
static int s_compare (int argc, char **argv) {
    fb_compare_opts_t opts = {.by = FB_COMPARE_BY_HOST, .format = FB_COMPARE_TEXT};
    const char **dirs = calloc ((size_t)argc, sizeof *dirs);
    const char *html = NULL;
    int n = 0;
    for (int i = 1; dirs && i < argc; i++) {
        if (streq (argv[i], "--html") && i + 1 < argc)
            html = argv[++i];
        else if (streq (argv[i], "--json"))
            opts.format = FB_COMPARE_JSON;
        else if (streq (argv[i], "--markdown"))
            opts.format = FB_COMPARE_MARKDOWN;
        else if (streq (argv[i], "--ref") && i + 1 < argc)
            opts.ref = argv[++i];
        else if (streq (argv[i], "--by") && i + 1 < argc) {
            const char *by = argv[++i];
            if (streq (by, "host") || streq (by, "board") || streq (by, "cpu"))
                opts.by = by[0] == 'h'   ? FB_COMPARE_BY_HOST
                          : by[0] == 'b' ? FB_COMPARE_BY_BOARD
                                         : FB_COMPARE_BY_CPU;
            else {
                free (dirs);
                return s_usage_error ("--by takes host, board or cpu (got \"%s\")", by);
            }
        } else if (argv[i][0] == '-') {
            free (dirs);
            return s_usage_error ("unknown compare option \"%s\"", argv[i]);
        } else
            dirs[n++] = argv[i];
    }
    if (n == 0) {
        free (dirs);
        return s_usage_error ("%s", "coord compare takes one or more run folders");
    }
    fb_err_t err = {0};
    json_t *comparison = NULL;
    opts.comparison = html ? &comparison : NULL;
    int rc = fb_compare (dirs, n, &opts, stdout, &err);
    if (rc == 0 && html)
        rc = fb_compare_html_write (comparison, html, &err);
    json_decref (comparison);
    free (dirs);
    if (rc != 0) {
        fprintf (stderr, "coord: %s\n", err.msg);
        return 2;
    }
    return 0;
}

/* coord report RUN_DIR: report.html again, from run.json and the hlogs. */
static int s_report (int argc, char **argv) {
    if (argc != 2 || argv[1][0] == '-')
        return s_usage_error ("%s", "usage: coord report RUN_DIR");
    fb_err_t err = {0};
    if (fb_html_write_dir (argv[1], &err) != 0) {
        fprintf (stderr, "coord: %s\n", err.msg);
        return 2;
    }
    printf ("report written: %s/report.html\n", argv[1]);
    return 0;
}

/* coord keygen --out DIR [--agents N | --name NAME] */
static int s_keygen (int argc, char **argv) {
    const char *out = NULL, *name = NULL;
    long agents = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        char *end = NULL;
        if (streq (argv[i], "--out"))
            out = argv[i + 1];
        else if (streq (argv[i], "--name"))
            name = argv[i + 1];
        else if (streq (argv[i], "--agents")) {
            agents = strtol (argv[i + 1], &end, 10);
            if (*end || agents < 1 || agents > 4096)
                return s_usage_error ("--agents takes a number from 1 to 4096 (got \"%s\")",
                                      argv[i + 1]);
        } else
            return s_usage_error ("unknown keygen option \"%s\"", argv[i]);
    }
    if (!out || argc % 2 == 0 || (name && agents))
        return s_usage_error ("%s", "usage: coord keygen --out DIR [--agents N | --name NAME]");
    if (!out[0])
        return s_usage_error ("--out needs a folder (got \"%s\")", "");
    if (name && !fb_escape_name_is_safe (name))
        return s_usage_error ("--name must be 1 to 63 of A-Z a-z 0-9 _ . -, not . or .. "
                              "(got \"%s\")",
                              name);
    char agents_dir[600], public_txt[41];
    snprintf (agents_dir, sizeof agents_dir, "%s/agents", out);
    fb_err_t err = {0};
    if (fb_files_mkdirs (agents_dir, &err) != 0) {
        fprintf (stderr, "coord: %s\n", err.msg);
        return 2;
    }
    char path[600];
    snprintf (path, sizeof path, "%s/coordinator.key", out);
    if (access (path, F_OK) != 0) {
        if (fb_keys_generate (out, "coordinator", public_txt, &err) != 0)
            goto fail;
        printf ("%s/coordinator.key (+ _secret): the coordinator's; give agents the public "
                "coordinator.key\n",
                out);
    }
    for (long i = 1; i <= (name ? 1 : agents); i++) {
        char agent[64];
        snprintf (agent, sizeof agent, "%s", name ? name : "");
        if (!name)
            snprintf (agent, sizeof agent, "agent-%ld", i);
        if (fb_keys_generate (agents_dir, agent, public_txt, &err) != 0)
            goto fail;
        printf ("%s/%s.key (+ _secret): copy both to that agent, run it with --cert\n", agents_dir,
                agent);
    }
    return 0;
fail:
    fprintf (stderr, "coord: %s\n", err.msg);
    return 2;
}

int main (int argc, char **argv) {
    if (argc < 2)
        return s_usage_error ("%s", "a command is needed");
    if (streq (argv[1], "--help") || streq (argv[1], "-h")) {
        fputs (s_usage, stdout);
        return 0;
    }
    if (streq (argv[1], "--version")) {
        printf ("coord (fleetbench) %s\n", FB_BUILD);
        return 0;
    }
    /* A coordinator of a thousand agents needs a socket (and a file descriptor) each. */
    struct rlimit files;
    if (getrlimit (RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit (RLIMIT_NOFILE, &files);
    }
    /* Past a file size limit (ulimit -f) a write should fail with EFBIG, which the results
     * code reports, rather than kill the coordinator with nothing said. */
    signal (SIGXFSZ, SIG_IGN);
    zsys_init ();
    zsys_set_max_sockets (0); /* as many as the descriptor limit allows */
    zsys_set_logstream (NULL);
    if (streq (argv[1], "check"))
        return argc == 3 ? s_check (argv[2]) : s_usage_error ("%s", "coord check takes one file");
    if (streq (argv[1], "run"))
        return s_run (argc - 1, argv + 1);
    if (streq (argv[1], "baseline"))
        return s_baseline (argc - 1, argv + 1);
    if (streq (argv[1], "keygen"))
        return s_keygen (argc - 1, argv + 1);
    if (streq (argv[1], "compare"))
        return s_compare (argc - 1, argv + 1);
    if (streq (argv[1], "report"))
        return s_report (argc - 1, argv + 1);
    return s_usage_error ("unknown command \"%s\"", argv[1]);
}
