/* agent_main.c: the agent's command line. */
#include "agent/agent.h"
#include "agent/allow.h"
#include "agent/runner.h"
#include "common/endpoint.h"
#include "common/escape.h"

#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *s_usage =
    "usage: agent --coordinator tcp://HOST:5690 [options]\n"
    "\n"
    "  --coordinator ENDPOINT  the coordinator to connect to (required)\n"
    "  --id NAME               agent id (default: this host's name)\n"
    "  --label KEY=VALUE       a label scenarios can select on (repeatable)\n"
    "  --once                  leave after one run instead of waiting for the next plan\n"
    "  --state-dir DIR         where results are kept when the coordinator is lost\n"
    "                          (default $XDG_STATE_HOME/fleetbench or ~/.local/state/fleetbench)\n"
    "  --allow FILE            commands the process workload may run (YAML, name: [argv...]);\n"
    "                          fb-child, shipped with the agent, is always allowed; the key\n"
    "                          http: [ADDR|CIDR|NAME[:PORT[-PORT]]...] lists the targets\n"
    "                          workloads may connect to (none without it)\n"
    "  --cert FILE             CURVE: this agent's key pair (NAME.key from coord keygen)\n"
    "  --coordinator-key FILE  CURVE: the coordinator's public key (coordinator.key); plans\n"
    "                          are taken only from the holder of its secret\n"
    "  --insecure              allow plain TCP to a non-loopback coordinator\n"
    "  --quiet                 no log lines\n"
    "  --help, --version\n";

static volatile sig_atomic_t s_stop;

/* All a signal does: ask the agent's loop to stop (it checks every 100 ms at most). */
static void s_on_stop_signal (int sig) { s_stop = sig; }

/* Our own handler instead of czmq's: czmq's sets zsys_interrupted, which makes its blocking
 * calls give up (a second signal during shutdown broke the wait for the runner thread), and
 * is put back to the default at exit, where a late signal killed us. */
static void s_catch_stop_signals (void) {
    zsys_handler_set (NULL);
    struct sigaction sa = {.sa_handler = s_on_stop_signal, .sa_flags = SA_RESTART};
    sigemptyset (&sa.sa_mask);
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
}

static int s_usage_error (const char *fmt, const char *arg) {
    fprintf (stderr, "agent: ");
    fprintf (stderr, fmt, arg);
    fprintf (stderr, "\n\n%s", s_usage);
    return 2;
}

static int s_add_label (fb_agent_config_t *config, const char *text) {
    const char *eq = strchr (text, '=');
    if (!eq || eq == text || config->n_labels == FB_MAX_LABELS)
        return -1;
    fb_label_t *label = &config->labels[config->n_labels];
    size_t klen = (size_t)(eq - text);
    if (klen >= sizeof label->key || strlen (eq + 1) >= sizeof label->value)
        return -1;
    memcpy (label->key, text, klen);
    label->key[klen] = '\0';
    snprintf (label->value, sizeof label->value, "%s", eq + 1);
    config->n_labels++;
    return 0;
}

static void s_default_state_dir (fb_agent_config_t *config) {
    const char *xdg = getenv ("XDG_STATE_HOME");
    const char *home = getenv ("HOME");
    if (xdg && xdg[0])
        snprintf (config->state_dir, sizeof config->state_dir, "%s/fleetbench", xdg);
    else
        snprintf (config->state_dir, sizeof config->state_dir, "%s/.local/state/fleetbench",
                  home && home[0] ? home : "/tmp");
}

int main (int argc, char **argv) {
    fb_agent_config_t config = {0};
    bool insecure = false;
    static const struct option longs[] = {{"coordinator", required_argument, 0, 'c'},
                                          {"id", required_argument, 0, 'n'},
                                          {"label", required_argument, 0, 'l'},
                                          {"once", no_argument, 0, 'o'},
                                          {"state-dir", required_argument, 0, 's'},
                                          {"insecure", no_argument, 0, 'i'},
                                          {"quiet", no_argument, 0, 'q'},
                                          {"help", no_argument, 0, 'h'},
                                          {"version", no_argument, 0, 'V'},
                                          {"allow", required_argument, 0, 'a'},
                                          {"cert", required_argument, 0, 'k'},
                                          {"coordinator-key", required_argument, 0, 'K'},
                                          {0, 0, 0, 0}};
    const char *allow_path = NULL;
    s_default_state_dir (&config);
    int c;
    while ((c = getopt_long (argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case 'c':
            config.coordinator = optarg;
            break;
        case 'n':
            if (!fb_escape_name_is_safe (optarg)) {
                /* The id names files on the coordinator and appears in its reports. */
                char shown[200];
                fb_escape (optarg, shown, sizeof shown, FB_ESCAPE_TEXT);
                return s_usage_error ("--id must be 1 to 63 of A-Z a-z 0-9 _ . - and not \".\" "
                                      "or \"..\" (got \"%s\")",
                                      shown);
            }
            snprintf (config.id, sizeof config.id, "%s", optarg);
            break;
        case 'l':
            if (s_add_label (&config, optarg) != 0)
                return s_usage_error ("--label must be KEY=VALUE (got \"%s\")", optarg);
            break;
        case 'o':
            config.once = true;
            break;
        case 's':
            snprintf (config.state_dir, sizeof config.state_dir, "%s", optarg);
            break;
        case 'a':
            allow_path = optarg;
            break;
        case 'k':
            config.cert = optarg;
            break;
        case 'K':
            config.coordinator_key = optarg;
            break;
        case 'i':
            insecure = true;
            break;
        case 'q':
            config.quiet = true;
            break;
        case 'h':
            fputs (s_usage, stdout);
            return 0;
        case 'V':
            printf ("agent (fleetbench) %s\n", FB_BUILD);
            return 0;
        default:
            return s_usage_error ("%s", "unknown option");
        }
    }
    if (optind != argc)
        return s_usage_error ("unexpected argument \"%s\"", argv[optind]);
    if (!config.coordinator)
        return s_usage_error ("%s", "--coordinator is required");
    if (!fb_endpoint_is_loopback (config.coordinator) && !insecure && !config.cert)
        return s_usage_error ("%s is not loopback: give CURVE keys (--cert, --coordinator-key from "
                              "coord keygen) or, on a lab network you trust, --insecure",
                              config.coordinator);
    /* fb-child is always allowed: an agent without it (a package's file removed by hand, a
     * folder copied without it) would fail every process workload, so it does not start. */
    char helper[600];
    snprintf (helper, sizeof helper, "%s/%s", fb_runner_default_helper_dir (), FB_ALLOW_HELPER);
    if (access (helper, X_OK) != 0) {
        fprintf (stderr, "agent: the helper program %s is missing or not executable: %s\n", helper,
                 strerror (errno));
        return 2;
    }
    fb_err_t err = {0};
    /* Never NULL in the real agent: without --allow only the built-in fb-child runs. */
    fb_allow_t *allow = allow_path ? fb_allow_load (allow_path, &err) : fb_allow_new_default ();
    if (!allow) {
        fprintf (stderr, "agent: %s\n", allow_path ? err.msg : "out of memory");
        return 2;
    }
    config.allow = allow;
    config.stop = &s_stop;
    s_catch_stop_signals ();
    zsys_init ();
    zsys_set_logstream (NULL);
    fb_agent_t *agent = fb_agent_new (&config, &err);
    if (!agent) {
        fprintf (stderr, "agent: %s\n", err.msg);
        fb_allow_destroy (&allow);
        return 2;
    }
    int rc = fb_agent_run (agent, &err);
    if (rc != 0)
        fprintf (stderr, "agent: %s\n", err.msg);
    fb_agent_destroy (&agent);
    fb_allow_destroy (&allow);
    return rc == 0 ? 0 : err.code == FB_EREFUSED ? 2 : 1;
}
