/* tor_privnet.c: the private Tor network of the tor mode. Build order: free loopback ports, then
 * for each authority its v3 keys and certificate (tor-gencert) and for every relay its identity
 * (tor --list-fingerprint, with a placeholder authority so that tor starts without real ones),
 * then the torrcs naming our authorities, then every tor, then the client's bootstrap, polled on
 * its control port, and every exit's consensus, read from its folder. The Testing* options are
 * those that make a network of a few relays reach a consensus within seconds (votes every 5-10 s,
 * every relay voted Guard and Exit, relays assumed reachable); exits resolve nothing (no
 * resolv.conf, no DNS hijack tests). */
#include "workloads/tor/real/tor_privnet.h"

#include "common/clock.h"
#include "common/procfs.h"
#include "workloads/tor/real/tor_control.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_KEYGEN_TIMEOUT_NS (60 * FB_NS_PER_S)
#define S_STOP_GRACE_NS (5 * FB_NS_PER_S)
#define S_PROGRESS_EVERY_NS (5 * FB_NS_PER_S)
#define S_POLL_NS (250 * FB_NS_PER_MS)
#define S_CONTROL_TIMEOUT_NS (2 * FB_NS_PER_S)
#define S_PATH_LEN 512
#define S_PROCS (FB_TOR_PRIVNET_MAX_RELAYS + 1) /* the relays, then the client */

struct fb_tor_privnet {
    char dir[S_PATH_LEN]; /* the temp folder; every node has its folder in it */
    char tor[S_PATH_LEN], gencert[S_PATH_LEN];
    const char *label;
    int n; /* relays */
    fb_tor_privnet_relay_t relays[FB_TOR_PRIVNET_MAX_RELAYS];
    uint16_t dir_ports[FB_TOR_PRIVNET_AUTHORITIES];
    char v3ident[FB_TOR_PRIVNET_AUTHORITIES][41];
    uint16_t socks_port, control_port;
    char cookie_path[S_PATH_LEN];
    pid_t pids[S_PROCS]; /* process (and group) ids; 0: not running */
    int64_t keys_ns;     /* how long key generation took */
};

static const char *s_places[] = {"/usr/bin", "/usr/sbin", "/usr/local/bin", NULL};

static int s_find (const char *name, char *path, size_t len) {
    const char *env = getenv ("PATH");
    char dirs[4096];
    snprintf (dirs, sizeof dirs, "%s", env ? env : "");
    char *save = NULL;
    for (char *d = strtok_r (dirs, ":", &save); d; d = strtok_r (NULL, ":", &save)) {
        snprintf (path, len, "%s/%s", d, name);
        if (access (path, X_OK) == 0)
            return 0;
    }
    for (int i = 0; s_places[i]; i++) {
        snprintf (path, len, "%s/%s", s_places[i], name);
        if (access (path, X_OK) == 0)
            return 0;
    }
    return -1;
}

int fb_tor_privnet_find_binaries (char *tor, char *gencert, size_t len, fb_err_t *err) {
    const char *missing = s_find ("tor", tor, len) != 0               ? "tor"
                          : s_find ("tor-gencert", gencert, len) != 0 ? "tor-gencert"
                                                                      : NULL;
    if (missing)
        return fb_err_set (err, FB_EINPUT,
                           "mode tor needs the %s binary: install Debian's tor package (apt-get "
                           "install tor)",
                           missing);
    return 0;
}

int fb_tor_privnet_check (int relays, fb_err_t *err) {
    char tor[S_PATH_LEN], gencert[S_PATH_LEN];
    if (fb_tor_privnet_find_binaries (tor, gencert, sizeof tor, err) != 0)
        return -1;
    if (relays < FB_TOR_PRIVNET_MIN_RELAYS || relays > FB_TOR_PRIVNET_MAX_RELAYS)
        return fb_err_set (err, FB_EINPUT,
                           "mode tor: relays must be %d..%d (three authorities, the rest exits; "
                           "got %d)",
                           FB_TOR_PRIVNET_MIN_RELAYS, FB_TOR_PRIVNET_MAX_RELAYS, relays);
    return 0;
}

/* ---- processes -------------------------------------------------------------------------- */

/* Starts argv[0] in a process group of its own, stdin from in_path, stdout and stderr appended
 * to log_path. Only async-signal-safe calls between fork and exec: the agent has threads. */
static pid_t s_spawn (char *const argv[], const char *in_path, const char *log_path,
                      fb_err_t *err) {
    int in = open (in_path, O_RDONLY | O_CLOEXEC);
    int out = open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    pid_t parent = getpid (), pid = -1;
    if (in >= 0 && out >= 0)
        pid = fork ();
    if (pid == 0) {
        setpgid (0, 0);
        prctl (PR_SET_PDEATHSIG, SIGKILL); /* the forking thread ends: so does tor */
        if (getppid () != parent)
            _exit (127); /* it ended before prctl */
        dup2 (in, 0);
        dup2 (out, 1);
        dup2 (out, 2);
        if (syscall (SYS_close_range, 3U, ~0U, 0U) != 0)
            for (int fd = 3; fd < 1024; fd++)
                close (fd);
        sigset_t none;
        sigemptyset (&none);
        sigprocmask (SIG_SETMASK, &none, NULL);
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        sigaction (SIGPIPE, &dfl, NULL);
        sigaction (SIGINT, &dfl, NULL);
        sigaction (SIGTERM, &dfl, NULL);
        execv (argv[0], argv);
        _exit (127);
    }
    int saved = errno;
    if (in >= 0)
        close (in);
    if (out >= 0)
        close (out);
    if (pid < 0) {
        fb_err_set (err, FB_ESYS, "cannot start %s: %s", argv[0], strerror (saved));
        return -1;
    }
    setpgid (pid, pid); /* also here, so that a kill of the group never races the child's */
    return pid;
}

/* The last line of a log file, for an error message. */
static void s_last_line (const char *path, char *line, size_t len) {
    char buf[4096];
    line[0] = '\0';
    FILE *f = fopen (path, "r");
    if (!f)
        return;
    long size = fseek (f, 0, SEEK_END) == 0 ? ftell (f) : 0;
    fseek (f, size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0, SEEK_SET);
    size_t n = fread (buf, 1, sizeof buf - 1, f);
    fclose (f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    char *start = strrchr (buf, '\n');
    snprintf (line, len, "%s", start ? start + 1 : buf);
}

/* Waits for every pid in pids (0 entries skipped) until deadline; those done are set to 0 and
 * the first failure is described. Returns the number still running. */
static int s_reap (pid_t *pids, int n, const char *const *logs, int64_t deadline_ns, fb_err_t *err,
                   bool *failed) {
    for (;;) {
        int running = 0;
        for (int i = 0; i < n; i++) {
            if (pids[i] <= 0)
                continue;
            int status = 0;
            pid_t r = waitpid (pids[i], &status, WNOHANG);
            if (r == 0) {
                running++;
                continue;
            }
            pids[i] = 0;
            bool ok = r < 0 || (WIFEXITED (status) && WEXITSTATUS (status) == 0);
            if (!ok && !*failed && logs) {
                char last[160];
                s_last_line (logs[i], last, sizeof last);
                fb_err_set (err, FB_ESYS, "%s failed (%s %d): %s", logs[i],
                            WIFEXITED (status) ? "exit" : "signal",
                            WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status), last);
            }
            *failed = *failed || !ok;
        }
        if (running == 0 || fb_clock_now_ns () >= deadline_ns)
            return running;
        fb_clock_sleep_until_ns (fb_clock_now_ns () + 20 * FB_NS_PER_MS);
    }
}

/* SIGTERM to each group, SIGKILL to those left after the grace, then wait for all. */
static void s_stop (pid_t *pids, int n) {
    for (int i = 0; i < n; i++)
        if (pids[i] > 0)
            kill (-pids[i], SIGTERM);
    bool failed = false;
    if (s_reap (pids, n, NULL, fb_clock_now_ns () + S_STOP_GRACE_NS, NULL, &failed) == 0)
        return;
    for (int i = 0; i < n; i++)
        if (pids[i] > 0) {
            kill (-pids[i], SIGKILL);
            waitpid (pids[i], NULL, 0);
            pids[i] = 0;
        }
}

/* ---- files ------------------------------------------------------------------------------ */

static void s_remove_tree (int parent, const char *name) {
    int fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close (fd);
        unlinkat (parent, name, 0);
        return;
    }
    for (struct dirent *e; (e = readdir (d));)
        if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
            s_remove_tree (dirfd (d), e->d_name);
    closedir (d);
    unlinkat (parent, name, AT_REMOVEDIR);
}

static void s_node_path (const fb_tor_privnet_t *self, int node, const char *file, char *path,
                         size_t len) {
    const char *name = node < self->n ? self->relays[node].nickname : "client";
    snprintf (path, len, "%s/%s%s%s", self->dir, name, file ? "/" : "", file ? file : "");
}

static int s_write_file (const char *path, const char *text, fb_err_t *err) {
    FILE *f = fopen (path, "w");
    if (!f || fputs (text, f) < 0 || fclose (f) != 0) {
        if (f)
            fclose (f);
        return fb_err_set (err, FB_ESYS, "cannot write %s: %s", path, strerror (errno));
    }
    return 0;
}

/* Ports the kernel hands out now, all held until every one is known so that they differ. */
static int s_pick_ports (uint16_t *ports, int n, fb_err_t *err) {
    int fds[FB_TOR_PRIVNET_MAX_RELAYS + FB_TOR_PRIVNET_AUTHORITIES + 2], rc = 0, opened = 0;
    for (; opened < n; opened++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
        socklen_t len = sizeof a;
        fds[opened] = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fds[opened] < 0 || bind (fds[opened], (struct sockaddr *)&a, sizeof a) != 0 ||
            getsockname (fds[opened], (struct sockaddr *)&a, &len) != 0) {
            rc =
                fb_err_set (err, FB_ESYS, "cannot find a free loopback port: %s", strerror (errno));
            opened += fds[opened] >= 0;
            break;
        }
        ports[opened] = ntohs (a.sin_port);
    }
    for (int i = 0; i < opened; i++)
        close (fds[i]);
    return rc;
}

/* ---- torrcs ----------------------------------------------------------------------------- */

/* What every torrc says: a test network, on loopback only, that never falls back to the
 * public directory, and fast votes. keygen: a placeholder authority instead of ours (they have
 * no keys yet); tor needs one to start with TestingTorNetwork. */
static void s_torrc_common (const fb_tor_privnet_t *self, int node, bool keygen, FILE *f) {
    char dir[S_PATH_LEN];
    s_node_path (self, node, NULL, dir, sizeof dir);
    fprintf (f,
             "# written by fleetbench: a private test network on 127.0.0.1, see tor_privnet.c\n"
             "TestingTorNetwork 1\n"
             "DataDirectory %s\n"
             "Nickname %s\n"
             "RunAsDaemon 0\n"
             "UseDefaultFallbackDirs 0\n"
             "ClientUseIPv6 0\n"
             "ClientPreferIPv6ORPort 0\n"
             "AssumeReachable 1\n"
             "PathsNeededToBuildCircuits 0.25\n"
             "TestingDirAuthVoteExit *\n"
             "TestingDirAuthVoteGuard *\n"
             "TestingMinExitFlagThreshold 0\n"
             "V3AuthNIntervalsValid 2\n"
             "ShutdownWaitLength 0\n"
             "SafeLogging 0\n"
             "ProtocolWarnings 1\n"
             "Log notice file %s/notice.log\n"
             "ServerDNSDetectHijacking 0\n"
             "ServerDNSTestAddresses\n"
             "ServerDNSResolvConfFile /dev/null\n",
             dir, node < self->n ? self->relays[node].nickname : "client", dir);
    if (keygen) {
        fprintf (f, "DirAuthority placeholder orport=1 no-v2 v3ident=%040d 127.0.0.1:1 %040d\n", 0,
                 0);
        return;
    }
    for (int a = 0; a < FB_TOR_PRIVNET_AUTHORITIES; a++)
        fprintf (f, "DirAuthority %s orport=%u no-v2 v3ident=%s 127.0.0.1:%u %s\n",
                 self->relays[a].nickname, (unsigned)self->relays[a].or_port, self->v3ident[a],
                 (unsigned)self->dir_ports[a], self->relays[a].fingerprint);
}

static int s_write_torrc (const fb_tor_privnet_t *self, int node, bool keygen, fb_err_t *err) {
    char path[S_PATH_LEN];
    s_node_path (self, node, keygen ? "keygen.torrc" : "torrc", path, sizeof path);
    FILE *f = fopen (path, "w");
    if (!f)
        return fb_err_set (err, FB_ESYS, "cannot write %s: %s", path, strerror (errno));
    s_torrc_common (self, node, keygen, f);
    if (node == self->n)
        fprintf (f,
                 "SocksPort 127.0.0.1:%u\n"
                 "ControlPort 127.0.0.1:%u\n"
                 "CookieAuthentication 1\n"
                 /* a fixed build timeout: the workload's own `timeout` decides */
                 "LearnCircuitBuildTimeout 0\n"
                 "CircuitBuildTimeout 600\n",
                 (unsigned)self->socks_port, (unsigned)self->control_port);
    else
        fprintf (f, "Address 127.0.0.1\nORPort 127.0.0.1:%u\nSocksPort 0\n",
                 (unsigned)self->relays[node].or_port);
    if (!keygen && node < FB_TOR_PRIVNET_AUTHORITIES)
        fprintf (f,
                 "DirPort 127.0.0.1:%u\n"
                 "AuthoritativeDirectory 1\n"
                 "V3AuthoritativeDirectory 1\n"
                 "ContactInfo %s@fleetbench.test\n"
                 "ExitPolicy reject *:*\n"
                 "TestingV3AuthInitialVotingInterval 5\n"
                 "TestingV3AuthInitialVoteDelay 2\n"
                 "TestingV3AuthInitialDistDelay 2\n"
                 "V3AuthVotingInterval 10\n"
                 "V3AuthVoteDelay 2\n"
                 "V3AuthDistDelay 2\n",
                 (unsigned)self->dir_ports[node], self->relays[node].nickname);
    else if (!keygen && node < self->n) /* exits: 127.0.0.1 is private, so allow private */
        fprintf (f, "ExitRelay 1\nExitPolicyRejectPrivate 0\nExitPolicy accept *:*\n");
    if (fclose (f) != 0)
        return fb_err_set (err, FB_ESYS, "cannot write %s: %s", path, strerror (errno));
    return 0;
}

/* ---- keys ------------------------------------------------------------------------------- */

/* "<prefix><40 hex>" from the first line of path that starts with prefix. */
static int s_read_hex (const char *path, const char *prefix, char out[41], fb_err_t *err) {
    FILE *f = fopen (path, "r");
    char line[256];
    int found = 0;
    while (f && !found && fgets (line, sizeof line, f))
        found = strncmp (line, prefix, strlen (prefix)) == 0 &&
                sscanf (line + strlen (prefix), " %40[0-9A-Fa-f]", out) == 1 && strlen (out) == 40;
    if (f)
        fclose (f);
    return found ? 0 : fb_err_set (err, FB_ESYS, "no fingerprint in %s", path);
}

/* tor-gencert for each authority and tor --list-fingerprint for every relay, all at once. */
static int s_make_keys (fb_tor_privnet_t *self, fb_err_t *err) {
    enum { S_JOBS = FB_TOR_PRIVNET_MAX_RELAYS + FB_TOR_PRIVNET_AUTHORITIES };
    char (*paths)[6][S_PATH_LEN] = calloc (S_JOBS, sizeof *paths);
    pid_t pids[S_JOBS] = {0};
    if (!paths)
        return fb_err_set (err, FB_ENOMEM, "out of memory for tor key generation");
    const char *logs[S_JOBS];
    char pass[S_PATH_LEN], defaults[S_PATH_LEN], dirport[32];
    snprintf (pass, sizeof pass, "%s/passphrase", self->dir);
    snprintf (defaults, sizeof defaults, "%s/defaults.torrc", self->dir);
    int jobs = 0, rc = 0;
    for (int i = 0; i < self->n + FB_TOR_PRIVNET_AUTHORITIES && rc == 0; i++, jobs++) {
        char (*p)[S_PATH_LEN] = paths[i];
        bool gencert = i >= self->n;
        int node = gencert ? i - self->n : i;
        s_node_path (self, node, gencert ? "gencert.log" : "keygen.log", p[0], S_PATH_LEN);
        logs[i] = p[0];
        if (gencert) {
            s_node_path (self, node, "keys/authority_identity_key", p[1], S_PATH_LEN);
            s_node_path (self, node, "keys/authority_signing_key", p[2], S_PATH_LEN);
            s_node_path (self, node, "keys/authority_certificate", p[3], S_PATH_LEN);
            snprintf (dirport, sizeof dirport, "127.0.0.1:%u", (unsigned)self->dir_ports[node]);
            char *argv[] = {self->gencert,
                            "--create-identity-key",
                            "--passphrase-fd",
                            "0",
                            "-i",
                            p[1],
                            "-s",
                            p[2],
                            "-c",
                            p[3],
                            "-m",
                            "12",
                            "-a",
                            dirport,
                            NULL};
            pids[i] = s_spawn (argv, pass, p[0], err);
        } else {
            s_node_path (self, node, "keygen.torrc", p[1], S_PATH_LEN);
            char *argv[] = {
                self->tor, "--list-fingerprint", "-f", p[1], "--defaults-torrc", defaults, NULL};
            if ((rc = s_write_torrc (self, node, true, err)) == 0)
                pids[i] = s_spawn (argv, "/dev/null", p[0], err);
        }
        if (pids[i] < 0)
            rc = -1;
    }
    bool failed = rc != 0;
    if (s_reap (pids, jobs, logs, fb_clock_now_ns () + S_KEYGEN_TIMEOUT_NS, err, &failed) > 0) {
        s_stop (pids, jobs);
        rc = failed ? -1 : fb_err_set (err, FB_ESYS, "tor key generation took over 60 s");
    }
    for (int i = 0; i < self->n && rc == 0 && !failed; i++) {
        s_node_path (self, i, "fingerprint", paths[0][0], S_PATH_LEN);
        rc = s_read_hex (paths[0][0], self->relays[i].nickname, self->relays[i].fingerprint, err);
    }
    for (int a = 0; a < FB_TOR_PRIVNET_AUTHORITIES && rc == 0 && !failed; a++) {
        s_node_path (self, a, "keys/authority_certificate", paths[0][0], S_PATH_LEN);
        rc = s_read_hex (paths[0][0], "fingerprint", self->v3ident[a], err);
    }
    free (paths);
    return rc != 0 || failed ? -1 : 0;
}

/* ---- bootstrap -------------------------------------------------------------------------- */

/* The first of our tor processes that has exited, described in err. */
static int s_check_alive (fb_tor_privnet_t *self, fb_err_t *err) {
    for (int i = 0; i <= self->n; i++) {
        int status = 0;
        if (self->pids[i] <= 0)
            continue;
        pid_t r = waitpid (self->pids[i], &status, WNOHANG);
        if (r == 0 || (r < 0 && kill (self->pids[i], 0) == 0)) /* running (or not our child) */
            continue;
        self->pids[i] = 0;
        char log[S_PATH_LEN], last[160];
        s_node_path (self, i, "notice.log", log, sizeof log);
        s_last_line (log, last, sizeof last);
        return fb_err_set (err, FB_ESYS, "tor %s exited while the network bootstrapped: %s",
                           i < self->n ? self->relays[i].nickname : "client", last);
    }
    return 0;
}

/* true when one of the consensus files tor caches in node's folder lists every relay ("r
 * <nickname> " lines; our nicknames are unique). */
static bool s_knows_every_relay (const fb_tor_privnet_t *self, int node) {
    static const char *files[] = {"cached-microdesc-consensus", "cached-consensus"};
    char path[S_PATH_LEN], line[64];
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        s_node_path (self, node, files[f], path, sizeof path);
        FILE *in = fopen (path, "r");
        if (!in)
            continue;
        char text[64 * 1024];
        size_t len = fread (text, 1, sizeof text - 1, in);
        fclose (in);
        text[len] = '\0';
        int found = 0;
        for (int i = 0; i < self->n; i++) {
            snprintf (line, sizeof line, "\nr %s ", self->relays[i].nickname);
            found += strstr (text, line) != NULL;
        }
        if (found == self->n)
            return true;
    }
    return false;
}

/* 1 when the client has bootstrapped (PROGRESS=100) and has a descriptor of every relay, so
 * that any path may be named, and every exit has a consensus naming every relay (an exit
 * without one ends each stream with reason MISC: "a stream from unknown relay"); 0 not yet
 * (phase says where it is). */
static int s_bootstrapped (fb_tor_privnet_t *self, fb_tor_control_t *ctl, int *progress,
                           char *phase, size_t len) {
    char value[512], key[64];
    if (fb_tor_control_getinfo (ctl, "status/bootstrap-phase", value, sizeof value,
                                S_CONTROL_TIMEOUT_NS, NULL) != 0)
        return 0;
    char tag[64] = "";
    const char *p = strstr (value, "PROGRESS="), *t = strstr (value, "TAG=");
    if (p)
        *progress = atoi (p + 9);
    if (t)
        sscanf (t + 4, "%63s", tag);
    snprintf (phase, len, "%d%% (%s)", *progress, tag);
    if (*progress < 100)
        return 0;
    for (int i = 0; i < self->n; i++) {
        snprintf (key, sizeof key, "md/id/%s", self->relays[i].fingerprint);
        if (fb_tor_control_getinfo (ctl, key, value, sizeof value, S_CONTROL_TIMEOUT_NS, NULL)) {
            snprintf (phase, len, "100%%, waiting for the descriptor of %s",
                      self->relays[i].nickname);
            return 0;
        }
    }
    for (int i = 0; i < self->n; i++)
        if (self->relays[i].exit && !s_knows_every_relay (self, i)) {
            snprintf (phase, len, "100%%, waiting for %s to fetch the consensus",
                      self->relays[i].nickname);
            return 0;
        }
    return 1;
}

static int s_wait_bootstrap (fb_tor_privnet_t *self, int64_t timeout_ns, fb_err_t *err) {
    int64_t t0 = fb_clock_now_ns (), deadline = t0 + timeout_ns;
    int64_t next_line = t0 + S_PROGRESS_EVERY_NS;
    fb_tor_control_t *ctl = NULL;
    int progress = 0, done = 0;
    char phase[128] = "0% (starting)";
    while (!done) {
        int64_t now = fb_clock_now_ns ();
        if (s_check_alive (self, err) != 0)
            break;
        if (now >= deadline) {
            fb_err_set (err, FB_ESYS,
                        "the private tor network did not bootstrap in %lld s (client at %s); "
                        "raise bootstrap_timeout on a slow host",
                        (long long)(timeout_ns / FB_NS_PER_S), phase);
            break;
        }
        if (!fb_tor_control_usable (ctl)) { /* the cookie appears with the control port */
            fb_tor_control_destroy (&ctl);
            ctl = fb_tor_control_new (self->control_port, self->cookie_path, S_CONTROL_TIMEOUT_NS,
                                      NULL);
        }
        if (ctl && (done = s_bootstrapped (self, ctl, &progress, phase, sizeof phase)))
            break;
        if (now >= next_line) {
            fprintf (stderr,
                     "%s: private tor network bootstrapping: %s, %lld s of at most %lld s\n",
                     self->label, phase, (long long)((now - t0) / FB_NS_PER_S),
                     (long long)(timeout_ns / FB_NS_PER_S));
            next_line += S_PROGRESS_EVERY_NS;
        }
        fb_clock_sleep_until_ns (now + S_POLL_NS);
    }
    fb_tor_control_destroy (&ctl);
    if (done)
        fprintf (stderr,
                 "%s: private tor network up: keys in %.1f s, bootstrap in %.1f s (%d relays, "
                 "client 127.0.0.1:%u)\n",
                 self->label, (double)self->keys_ns / 1e9, (double)(fb_clock_now_ns () - t0) / 1e9,
                 self->n, (unsigned)self->socks_port);
    return done ? 0 : -1;
}

/* ---- the network ------------------------------------------------------------------------ */

static int s_make_dirs (fb_tor_privnet_t *self, fb_err_t *err) {
    const char *tmp = getenv ("TMPDIR");
    snprintf (self->dir, sizeof self->dir, "%s/fleetbench-tor.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp (self->dir)) {
        int saved = errno;
        self->dir[0] = '\0';
        return fb_err_set (err, FB_ESYS, "cannot make a temp folder for tor: %s", strerror (saved));
    }
    char path[S_PATH_LEN];
    for (int i = 0; i <= self->n; i++) {
        s_node_path (self, i, NULL, path, sizeof path);
        if (mkdir (path, 0700) != 0)
            return fb_err_set (err, FB_ESYS, "cannot make %s: %s", path, strerror (errno));
        s_node_path (self, i, "keys", path, sizeof path);
        if (i < FB_TOR_PRIVNET_AUTHORITIES && mkdir (path, 0700) != 0)
            return fb_err_set (err, FB_ESYS, "cannot make %s: %s", path, strerror (errno));
    }
    snprintf (path, sizeof path, "%s/passphrase", self->dir);
    if (s_write_file (path, "\n", err) != 0)
        return -1;
    snprintf (path, sizeof path, "%s/defaults.torrc", self->dir);
    return s_write_file (path, "", err);
}

static int s_start (fb_tor_privnet_t *self, fb_err_t *err) {
    char torrc[S_PATH_LEN], log[S_PATH_LEN], defaults[S_PATH_LEN];
    snprintf (defaults, sizeof defaults, "%s/defaults.torrc", self->dir);
    for (int i = 0; i <= self->n; i++) {
        s_node_path (self, i, "torrc", torrc, sizeof torrc);
        s_node_path (self, i, "stdout.log", log, sizeof log);
        char *argv[] = {self->tor, "-f", torrc, "--defaults-torrc", defaults, NULL};
        if (s_write_torrc (self, i, false, err) != 0 ||
            (self->pids[i] = s_spawn (argv, "/dev/null", log, err)) < 0) {
            self->pids[i] = 0;
            return -1;
        }
    }
    return 0;
}

fb_tor_privnet_t *fb_tor_privnet_new (int relays, int64_t bootstrap_timeout_ns, const char *label,
                                      fb_err_t *err) {
    if (relays < FB_TOR_PRIVNET_MIN_RELAYS || relays > FB_TOR_PRIVNET_MAX_RELAYS) {
        fb_err_set (err, FB_EINPUT, "a private tor network has %d to %d relays (got %d)",
                    FB_TOR_PRIVNET_MIN_RELAYS, FB_TOR_PRIVNET_MAX_RELAYS, relays);
        return NULL;
    }
    fb_tor_privnet_t *self = calloc (1, sizeof *self);
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "out of memory for a tor network");
        return NULL;
    }
    self->n = relays;
    self->label = label ? label : "tor";
    uint16_t ports[FB_TOR_PRIVNET_MAX_RELAYS + FB_TOR_PRIVNET_AUTHORITIES + 2];
    for (int i = 0; i < relays; i++) {
        fb_tor_privnet_relay_t *r = &self->relays[i];
        r->authority = i < FB_TOR_PRIVNET_AUTHORITIES;
        r->exit = !r->authority;
        snprintf (r->nickname, sizeof r->nickname, "%s%d", r->authority ? "auth" : "exit",
                  r->authority ? i : i - FB_TOR_PRIVNET_AUTHORITIES);
    }
    if (fb_tor_privnet_find_binaries (self->tor, self->gencert, sizeof self->tor, err) != 0 ||
        s_make_dirs (self, err) != 0 ||
        s_pick_ports (ports, relays + FB_TOR_PRIVNET_AUTHORITIES + 2, err) != 0)
        goto fail;
    for (int i = 0; i < relays; i++)
        self->relays[i].or_port = ports[i];
    for (int a = 0; a < FB_TOR_PRIVNET_AUTHORITIES; a++)
        self->dir_ports[a] = ports[relays + a];
    self->socks_port = ports[relays + FB_TOR_PRIVNET_AUTHORITIES];
    self->control_port = ports[relays + FB_TOR_PRIVNET_AUTHORITIES + 1];
    s_node_path (self, relays, "control_auth_cookie", self->cookie_path, sizeof self->cookie_path);
    int64_t t0 = fb_clock_now_ns ();
    if (s_make_keys (self, err) != 0)
        goto fail;
    self->keys_ns = fb_clock_now_ns () - t0;
    if (s_start (self, err) != 0 || s_wait_bootstrap (self, bootstrap_timeout_ns, err) != 0)
        goto fail;
    return self;
fail:
    fb_err_prefix (err, "mode tor");
    fb_tor_privnet_destroy (&self);
    return NULL;
}

void fb_tor_privnet_destroy (fb_tor_privnet_t **self_p) {
    fb_tor_privnet_t *self = *self_p;
    if (!self)
        return;
    int64_t t0 = fb_clock_now_ns ();
    bool running = false;
    for (int i = 0; i < S_PROCS; i++)
        running = running || self->pids[i] > 0;
    s_stop (self->pids, S_PROCS);
    if (running)
        fprintf (stderr, "%s: private tor network stopped in %.1f s\n", self->label,
                 (double)(fb_clock_now_ns () - t0) / 1e9);
    if (self->dir[0] && !getenv ("FB_TOR_KEEP"))
        s_remove_tree (AT_FDCWD, self->dir);
    free (self);
    *self_p = NULL;
}

int fb_tor_privnet_size (const fb_tor_privnet_t *self) { return self->n; }

const fb_tor_privnet_relay_t *fb_tor_privnet_relay (const fb_tor_privnet_t *self, int index) {
    return index >= 0 && index < self->n ? &self->relays[index] : NULL;
}

uint16_t fb_tor_privnet_socks_port (const fb_tor_privnet_t *self) { return self->socks_port; }
uint16_t fb_tor_privnet_control_port (const fb_tor_privnet_t *self) { return self->control_port; }
const char *fb_tor_privnet_cookie_path (const fb_tor_privnet_t *self) { return self->cookie_path; }
const char *fb_tor_privnet_dir (const fb_tor_privnet_t *self) { return self->dir; }

void fb_tor_privnet_memory (const fb_tor_privnet_t *self, fb_tor_privnet_memory_t *memory) {
    *memory = (fb_tor_privnet_memory_t){0};
    for (int i = 0; i <= self->n; i++) {
        int pid = self->pids[i];
        int64_t rss = pid > 0 ? fb_procfs_status_bytes (pid, "VmRSS") : 0;
        int64_t hwm = pid > 0 ? fb_procfs_status_bytes (pid, "VmHWM") : 0;
        memory->network_rss += rss;
        if (i == self->n) {
            memory->client_rss = rss;
            memory->client_hwm = hwm;
        }
    }
}

void fb_tor_privnet_memory_counters (const fb_tor_privnet_t *self, int64_t counters[3]) {
    fb_tor_privnet_memory_t memory;
    fb_tor_privnet_memory (self, &memory);
    counters[0] = memory.client_rss;
    counters[1] = memory.client_hwm;
    counters[2] = memory.network_rss;
}
