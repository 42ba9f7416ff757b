/* peer.c: wrk, h2load and nginx as the benches run them. */
#include "bench/peer.h"

#include "common/clock.h"
#include "common/hist.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs argv to its end with its stdout in out (cut to size); fills cpu_ns. 0 when it exited
 * 0. */
static int s_run (char *const argv[], char *out, size_t size, int64_t *cpu_ns) {
    int pipe_fds[2];
    if (pipe2 (pipe_fds, O_CLOEXEC) != 0) /* the child keeps only its dup2'd stdout */
        return -1;
    pid_t pid = fork ();
    if (pid == 0) {
        dup2 (pipe_fds[1], 1);
        int null = open ("/dev/null", O_WRONLY);
        dup2 (null, 2);
        close (pipe_fds[0]);
        execvp (argv[0], argv);
        _exit (127);
    }
    close (pipe_fds[1]);
    size_t have = 0;
    ssize_t n;
    char sink[4096];
    while ((n = read (pipe_fds[0], have < size - 1 ? out + have : sink,
                      have < size - 1 ? size - 1 - have : sizeof sink)) > 0)
        have += have < size - 1 ? (size_t)n : 0;
    out[have] = '\0';
    close (pipe_fds[0]);
    int status = 0;
    struct rusage ru;
    if (pid < 0 || wait4 (pid, &status, 0, &ru) != pid)
        return -1;
    *cpu_ns = ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * FB_NS_PER_S +
              ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
    return WIFEXITED (status) && WEXITSTATUS (status) == 0 ? 0 : -1;
}

/* "12.34ms" / "850.00us" / "1.20s" as wrk prints them, in us. */
static double s_wrk_us (const char *text) {
    char *end;
    double v = strtod (text, &end);
    if (strncmp (end, "us", 2) == 0)
        return v;
    if (strncmp (end, "ms", 2) == 0)
        return v * 1e3;
    if (*end == 's')
        return v * 1e6;
    return -1;
}

int fb_peer_wrk (const char *url, int connections, int seconds, fb_peer_result_t *r) {
    char conns[16], dur[16], out[8192];
    snprintf (conns, sizeof conns, "-c%d", connections);
    snprintf (dur, sizeof dur, "-d%ds", seconds);
    char *argv[] = {"wrk", "-t1", conns, dur, "--latency", (char *)url, NULL};
    *r = (fb_peer_result_t){.seconds = seconds, .p99_us = -1};
    if (s_run (argv, out, sizeof out, &r->cpu_ns) != 0)
        return -1;
    const char *at = strstr (out, " requests in ");
    while (at && at > out && at[-1] != ' ' && at[-1] != '\n')
        at--;
    r->requests = at ? atoll (at) : 0;
    const char *p99 = strstr (out, "     99%");
    if (p99)
        r->p99_us = s_wrk_us (p99 + strlen ("     99%"));
    return r->requests > 0 ? 0 : -1;
}

/* The p99 of the third column (us) of h2load's per-request log. */
static double s_log_p99 (const char *path) {
    FILE *f = fopen (path, "r");
    fb_hist_t *h = fb_hist_new_default (NULL);
    double p99 = -1;
    long long start, status, us;
    while (f && h && fscanf (f, "%lld %lld %lld", &start, &status, &us) == 3)
        fb_hist_record (h, us * 1000);
    if (h && fb_hist_count (h) > 0)
        p99 = (double)fb_hist_value_at_percentile (h, 99) / 1e3;
    fb_hist_destroy (&h);
    if (f)
        fclose (f);
    return p99;
}

int fb_peer_h2load (const char *url, int connections, int seconds, double rate,
                    fb_peer_result_t *r) {
    char conns[16], dur[16], rps[32], log[64] = "/tmp/fb-h2load-XXXXXX", logopt[80], out[8192];
    int fd = mkstemp (log);
    if (fd < 0)
        return -1;
    close (fd);
    snprintf (conns, sizeof conns, "-c%d", connections);
    snprintf (dur, sizeof dur, "-D%d", seconds);
    snprintf (rps, sizeof rps, "--rps=%.3f", rate / connections);
    snprintf (logopt, sizeof logopt, "--log-file=%s", log);
    char *argv[] = {"h2load", "--h1", "-t1", conns, dur, logopt, (char *)url, NULL, NULL};
    if (rate > 0) { /* before the URL */
        argv[7] = argv[6];
        argv[6] = rps;
    }
    *r = (fb_peer_result_t){.seconds = seconds, .p99_us = -1};
    int rc = s_run (argv, out, sizeof out, &r->cpu_ns);
    const char *done = strstr (out, "requests: ");
    long long total = 0, started = 0, finished = 0, ok = 0;
    if (rc == 0 && done &&
        sscanf (done, "requests: %lld total, %lld started, %lld done, %lld succeeded", &total,
                &started, &finished, &ok) == 4)
        r->requests = ok;
    r->p99_us = s_log_p99 (log);
    unlink (log);
    return r->requests > 0 ? 0 : -1;
}

/* A port nothing listens on now (the kernel's pick). */
static int s_free_port (void) {
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int port = -1;
    if (fd >= 0 && bind (fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname (fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs (sa.sin_port);
    if (fd >= 0)
        close (fd);
    return port;
}

static bool s_accepts (int port) {
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons ((uint16_t)port),
                             .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    bool ok = fd >= 0 && connect (fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
        close (fd);
    return ok;
}

static int s_write_file (const char *dir, const char *name, const char *text, size_t len) {
    char path[128];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen (path, "w");
    bool ok = f && fwrite (text, 1, len, f) == len;
    if (f && fclose (f) != 0)
        ok = false;
    return ok ? 0 : -1;
}

int fb_peer_nginx_start (fb_peer_nginx_t *self, size_t page_bytes) {
    *self = (fb_peer_nginx_t){.pid = -1};
    snprintf (self->dir, sizeof self->dir, "/tmp/fb-nginx-XXXXXX");
    if (!mkdtemp (self->dir)) {
        self->dir[0] = '\0';
        return -1;
    }
    char conf[2048], *page = malloc (page_bytes);
    if (!page || (self->port = s_free_port ()) < 0) {
        free (page);
        fb_peer_nginx_stop (self);
        return -1;
    }
    memset (page, 'x', page_bytes);
    int n = snprintf (conf, sizeof conf,
                      "daemon off;\nmaster_process off;\nworker_processes 1;\n"
                      "error_log %s/error.log;\npid %s/nginx.pid;\n"
                      "events { worker_connections 8192; }\n"
                      "http {\n  access_log off;\n  keepalive_requests 100000000;\n"
                      "  client_body_temp_path %s;\n  proxy_temp_path %s;\n"
                      "  fastcgi_temp_path %s;\n  uwsgi_temp_path %s;\n  scgi_temp_path %s;\n"
                      "  server {\n    listen 127.0.0.1:%d;\n    root %s;\n  }\n}\n",
                      self->dir, self->dir, self->dir, self->dir, self->dir, self->dir, self->dir,
                      self->port, self->dir);
    int rc = s_write_file (self->dir, "nginx.conf", conf, (size_t)n) |
             s_write_file (self->dir, "page.html", page, page_bytes);
    free (page);
    if (rc != 0) {
        fb_peer_nginx_stop (self);
        return -1;
    }
    char conf_path[128];
    snprintf (conf_path, sizeof conf_path, "%s/nginx.conf", self->dir);
    pid_t parent = getpid ();
    self->pid = fork ();
    if (self->pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGTERM); /* a bench killed midway leaves no nginx behind */
        if (getppid () != parent)
            _exit (127);
        int null = open ("/dev/null", O_WRONLY);
        dup2 (null, 1);
        dup2 (null, 2);
        execlp ("nginx", "nginx", "-p", self->dir, "-c", conf_path, (char *)NULL);
        _exit (127);
    }
    for (int i = 0; self->pid > 0 && i < 500; i++) {
        if (s_accepts (self->port))
            return 0;
        if (waitpid (self->pid, NULL, WNOHANG) == self->pid) {
            self->pid = -1;
            break;
        }
        fb_clock_sleep_until_ns (fb_clock_now_ns () + 10 * FB_NS_PER_MS);
    }
    fprintf (stderr, "bench: nginx did not start on 127.0.0.1:%d\n", self->port);
    char cmd[160];
    snprintf (cmd, sizeof cmd, "tail -n 5 '%s/error.log' >&2", self->dir);
    if (system (cmd) != 0)
        fprintf (stderr, "bench: no nginx error log\n");
    fb_peer_nginx_stop (self);
    return -1;
}

void fb_peer_nginx_stop (fb_peer_nginx_t *self) {
    if (self->pid > 0) { /* SIGTERM: a fast shutdown; SIGKILL when it is not gone in 5 s */
        kill (self->pid, SIGTERM);
        bool reaped = false;
        for (int i = 0; i < 500 && !(reaped = waitpid (self->pid, NULL, WNOHANG) != 0); i++)
            fb_clock_sleep_until_ns (fb_clock_now_ns () + 10 * FB_NS_PER_MS);
        if (!reaped) {
            kill (self->pid, SIGKILL);
            waitpid (self->pid, NULL, 0);
        }
        self->pid = -1;
    }
    if (self->dir[0]) {
        char cmd[128];
        snprintf (cmd, sizeof cmd, "rm -rf '%s'", self->dir);
        if (system (cmd) != 0)
            fprintf (stderr, "bench: could not remove %s\n", self->dir);
        self->dir[0] = '\0';
    }
}
