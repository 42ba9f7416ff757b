/* fb-child: the child program the process workload runs when no other command is configured.
 * It prints lines at a rate, sleeps, exits with a code, and ignores SIGTERM on request, so a
 * scenario can model a dev server, a test run or a stubborn process with no configuration.
 * It leaves by itself when its parent is gone, so a crashed agent leaves nothing behind.
 * Self-contained: it uses nothing of libfleetbench. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_NS_PER_MS 1000000LL
#define S_NS_PER_S 1000000000LL
#define S_MAX_LINE_BYTES 65536
/* A sleep is cut into steps this long to notice a parent that is gone. */
#define S_PARENT_CHECK_NS (100 * S_NS_PER_MS)

static const char *s_usage =
    "usage: fb-child [options]\n"
    "  --lines N                lines to print (default 0; -1: until stopped)\n"
    "  --rate R                 lines per second, as 100 or 100/s (default 0: at once)\n"
    "  --line-bytes B           bytes per line with its newline (default 64, 1..65536)\n"
    "  --stderr-every K         every K-th line goes to stderr (default 0: none)\n"
    "  --first-output-delay MS  wait before the first line (default 0)\n"
    "  --sleep MS               after the lines, sleep (default 0; -1: until stopped)\n"
    "  --exit CODE              exit status (default 0)\n"
    "  --ignore-term            ignore SIGTERM (set before the first line)\n";

typedef struct {
    long long lines;
    double rate_per_s;
    long line_bytes;
    long stderr_every;
    long long first_delay_ms;
    long long sleep_ms;
    int exit_code;
    bool ignore_term;
} s_opts_t;

static int64_t s_now_ns (void) {
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * S_NS_PER_S + ts.tv_nsec;
}

/* Sleeps until at_ns (at_ns < 0: for ever) in steps; false when the parent is gone. */
static bool s_sleep_until (int64_t at_ns, pid_t parent) {
    for (;;) {
        if (getppid () != parent)
            return false;
        int64_t now = s_now_ns ();
        if (at_ns >= 0 && now >= at_ns)
            return true;
        int64_t step =
            at_ns < 0 || at_ns - now > S_PARENT_CHECK_NS ? S_PARENT_CHECK_NS : at_ns - now;
        int64_t until = now + step;
        struct timespec ts = {.tv_sec = until / S_NS_PER_S, .tv_nsec = until % S_NS_PER_S};
        while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
    }
}

static int s_write_all (int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write (fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* "line 17 of fb-child 1234 ......\n", padded to line_bytes. */
static size_t s_format_line (char *buf, long line_bytes, long long index, bool to_stderr) {
    int n = snprintf (buf, (size_t)line_bytes + 1, "%s %lld of fb-child %d ",
                      to_stderr ? "err" : "line", index, (int)getpid ());
    size_t len = n < 0 ? 0 : (size_t)n;
    if (len > (size_t)line_bytes - 1)
        len = (size_t)line_bytes - 1;
    memset (buf + len, '.', (size_t)line_bytes - 1 - len);
    buf[line_bytes - 1] = '\n';
    return (size_t)line_bytes;
}

static bool s_parse_ll (const char *text, long long min, long long max, long long *out) {
    char *end = NULL;
    errno = 0;
    long long v = strtoll (text, &end, 10);
    if (errno || end == text || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool s_parse_rate (const char *text, double *out) {
    char *end = NULL;
    errno = 0;
    double v = strtod (text, &end);
    if (errno || end == text || v < 0 || v > 1e7 || (*end && strcmp (end, "/s") != 0))
        return false;
    *out = v;
    return true;
}

static int s_bad (const char *option, const char *value) {
    fprintf (stderr, "fb-child: bad value for %s: \"%s\"\n\n%s", option, value ? value : "",
             s_usage);
    return 2;
}

/* 0 ok, 1 --help, 2 bad usage. */
static int s_parse (int argc, char **argv, s_opts_t *o) {
    *o = (s_opts_t){.line_bytes = 64};
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        long long n = 0;
        bool takes_value = true, ok = true;
        if (strcmp (opt, "--help") == 0) {
            fputs (s_usage, stdout);
            return 1;
        } else if (strcmp (opt, "--ignore-term") == 0) {
            o->ignore_term = true;
            takes_value = false;
        } else if (!val)
            return s_bad (opt, NULL);
        else if (strcmp (opt, "--lines") == 0)
            ok = s_parse_ll (val, -1, INT64_MAX / 2, &o->lines);
        else if (strcmp (opt, "--rate") == 0)
            ok = s_parse_rate (val, &o->rate_per_s);
        else if (strcmp (opt, "--line-bytes") == 0)
            ok = s_parse_ll (val, 1, S_MAX_LINE_BYTES, &n), o->line_bytes = (long)n;
        else if (strcmp (opt, "--stderr-every") == 0)
            ok = s_parse_ll (val, 0, 1000000000, &n), o->stderr_every = (long)n;
        else if (strcmp (opt, "--first-output-delay") == 0)
            ok = s_parse_ll (val, 0, 86400000, &o->first_delay_ms);
        else if (strcmp (opt, "--sleep") == 0)
            ok = s_parse_ll (val, -1, 86400000, &o->sleep_ms);
        else if (strcmp (opt, "--exit") == 0)
            ok = s_parse_ll (val, 0, 255, &n), o->exit_code = (int)n;
        else {
            fprintf (stderr, "fb-child: unknown option \"%s\"\n\n%s", opt, s_usage);
            return 2;
        }
        if (!ok)
            return s_bad (opt, val);
        if (takes_value)
            i++;
    }
    return 0;
}

/* Prints the lines on schedule (line k at start + k / rate); false when the parent is gone
 * or nobody reads any more. */
static bool s_print_lines (const s_opts_t *o, pid_t parent) {
    static char line[S_MAX_LINE_BYTES + 1];
    int64_t start_ns = s_now_ns ();
    double period_ns = o->rate_per_s > 0 ? 1e9 / o->rate_per_s : 0;
    for (long long k = 0; o->lines < 0 || k < o->lines; k++) {
        if (period_ns > 0 && k > 0 && !s_sleep_until (start_ns + (int64_t)(k * period_ns), parent))
            return false;
        bool to_stderr = o->stderr_every > 0 && (k + 1) % o->stderr_every == 0;
        size_t len = s_format_line (line, o->line_bytes, k + 1, to_stderr);
        if (s_write_all (to_stderr ? STDERR_FILENO : STDOUT_FILENO, line, len) != 0)
            return false;
    }
    return true;
}

int main (int argc, char **argv) {
    s_opts_t o;
    int rc = s_parse (argc, argv, &o);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    pid_t parent = getppid ();
    /* Who reads our output may leave first: a write error ends us, not a signal. */
    signal (SIGPIPE, SIG_IGN);
    if (o.ignore_term)
        signal (SIGTERM, SIG_IGN);
    if (o.first_delay_ms > 0 &&
        !s_sleep_until (s_now_ns () + o.first_delay_ms * S_NS_PER_MS, parent))
        return o.exit_code;
    if (!s_print_lines (&o, parent))
        return o.exit_code;
    if (o.sleep_ms != 0)
        s_sleep_until (o.sleep_ms < 0 ? -1 : s_now_ns () + o.sleep_ms * S_NS_PER_MS, parent);
    return o.exit_code;
}
