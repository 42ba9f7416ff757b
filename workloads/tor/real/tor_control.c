/* tor_control.c: the control-port client (control-spec.txt sections 2 and 3). A reply is lines
 * "NNN-text" (more follow), "NNN+key=" (a data block ending with a line "."), then "NNN text" (the
 * last); "650" lines are events and may come between any two lines. We keep the last few CIRC
 * endings (BUILT, FAILED, CLOSED) as they pass, because tor may send a circuit's events before the
 * reply that names it. */
#include "workloads/tor/real/tor_control.h"

#include "common/clock.h"
#include "common/sockio.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_BUF_LEN 16384 /* the longest line kept whole; the rest of a longer one is dropped */
#define S_ENDS 256      /* circuit endings remembered */
#define S_COOKIE_LEN 32

typedef struct {
    uint32_t id;
    bool built;    /* BUILT; else FAILED or CLOSED */
    int64_t at_ns; /* when we read the event */
    char reason[32];
} s_end_t;

struct fb_tor_control {
    int fd;
    bool usable;
    bool skipping; /* dropping the rest of an over-long line */
    size_t len;    /* bytes in buf */
    char buf[S_BUF_LEN];
    char line[S_BUF_LEN];
    s_end_t ends[S_ENDS];
    int next_end;
};

static int s_write_all (fb_tor_control_t *self, const char *data, size_t len, int64_t deadline_ns,
                        fb_err_t *err) {
    while (len > 0) {
        ssize_t n = send (self->fd, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            self->usable = false;
            return fb_err_set (err, FB_ESYS, "tor control port: send: %s", strerror (errno));
        } else if (fb_sockio_wait (self->fd, POLLOUT, deadline_ns) != 1) {
            self->usable = false;
            return fb_err_set (err, FB_ESYS, "tor control port: send timed out");
        }
    }
    return 0;
}

/* Reads one line into self->line (CRLF removed). -1 on error or at the deadline (a timeout
 * leaves the conversation in step: a part line stays in buf). */
static int s_read_line (fb_tor_control_t *self, int64_t deadline_ns, fb_err_t *err) {
    for (;;) {
        char *nl = memchr (self->buf, '\n', self->len);
        if (nl && self->skipping) {
            size_t drop = (size_t)(nl - self->buf) + 1;
            memmove (self->buf, nl + 1, self->len - drop);
            self->len -= drop;
            self->skipping = false;
            continue;
        }
        if (nl || self->len == sizeof self->buf) {
            size_t n = nl ? (size_t)(nl - self->buf) : self->len, keep = n;
            if (keep > 0 && self->buf[keep - 1] == '\r')
                keep--;
            memcpy (self->line, self->buf, keep);
            self->line[keep] = '\0';
            size_t drop = nl ? n + 1 : n;
            memmove (self->buf, self->buf + drop, self->len - drop);
            self->len -= drop;
            self->skipping = !nl;
            return 0;
        }
        if (self->skipping)
            self->len = 0;
        ssize_t got = recv (self->fd, self->buf + self->len, sizeof self->buf - self->len, 0);
        if (got > 0) {
            self->len += (size_t)got;
            continue;
        }
        if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
            self->usable = false;
            return fb_err_set (err, FB_ESYS, "tor control port: connection lost%s%s",
                               got ? ": " : "", got ? strerror (errno) : "");
        }
        int ready = fb_sockio_wait (self->fd, POLLIN, deadline_ns);
        if (ready != 1) {
            if (ready < 0)
                self->usable = false;
            return fb_err_set (err, FB_ESYS, "tor control port: no answer in time");
        }
    }
}

/* Keeps the ending of a circuit from a "650 CIRC <id> <status> ..." line. */
static void s_note_event (fb_tor_control_t *self, const char *line) {
    unsigned id;
    char status[16];
    if (sscanf (line, "650 CIRC %u %15s", &id, status) != 2)
        return;
    bool built = strcmp (status, "BUILT") == 0;
    if (!built && strcmp (status, "FAILED") != 0 && strcmp (status, "CLOSED") != 0)
        return;
    s_end_t *end = &self->ends[self->next_end];
    self->next_end = (self->next_end + 1) % S_ENDS;
    *end = (s_end_t){.id = id, .built = built, .at_ns = fb_clock_now_ns ()};
    const char *reason = strstr (line, " REASON=");
    snprintf (end->reason, sizeof end->reason, "%s", reason ? reason + 8 : status);
    char *space = strchr (end->reason, ' ');
    if (space)
        *space = '\0';
}

static const s_end_t *s_find_end (const fb_tor_control_t *self, uint32_t id) {
    for (int i = 0; i < S_ENDS; i++)
        if (self->ends[i].id == id && self->ends[i].at_ns > 0)
            return &self->ends[i];
    return NULL;
}

static void s_append (char *out, size_t cap, size_t *used, const char *line) {
    if (!out || cap == 0)
        return;
    int n = snprintf (out + *used, cap - *used, "%s\n", line);
    if (n > 0)
        *used = *used + (size_t)n < cap ? *used + (size_t)n : cap - 1;
}

/* After a "NNN+" line: the data lines up to ".", appended to out. */
static int s_read_data (fb_tor_control_t *self, char *out, size_t cap, size_t *used,
                        int64_t deadline_ns, fb_err_t *err) {
    for (int lines = 0;; lines++) {
        if (s_read_line (self, deadline_ns, err) != 0)
            return -1;
        if (strcmp (self->line, ".") == 0)
            return 0;
        s_append (out, cap, used, self->line[0] == '.' ? self->line + 1 : self->line);
    }
}

/* Reads lines up to the last line of a reply; events on the way are noted. */
static int s_read_reply (fb_tor_control_t *self, char *out, size_t cap, int64_t deadline_ns,
                         fb_err_t *err) {
    size_t used = 0;
    if (out && cap)
        out[0] = '\0';
    for (;;) {
        if (s_read_line (self, deadline_ns, err) != 0)
            break;
        const char *l = self->line;
        if (strlen (l) < 4 || l[0] < '1' || l[0] > '6' || !strchr ("- +", l[3])) {
            fb_err_set (err, FB_EINPUT, "tor control port: unexpected line \"%.60s\"", l);
            break;
        }
        char kind = l[3];
        if (strncmp (l, "650", 3) == 0) {
            s_note_event (self, l);
            if (kind == '+' && s_read_data (self, NULL, 0, NULL, deadline_ns, err) != 0)
                break;
            continue;
        }
        s_append (out, cap, &used, l);
        if (kind == '+' && s_read_data (self, out, cap, &used, deadline_ns, err) != 0)
            break;
        if (kind == ' ')
            return atoi (l);
    }
    self->usable = false; /* cut in the middle of a reply: out of step from now on */
    return -1;
}

fb_tor_control_t *fb_tor_control_new (uint16_t port, const char *cookie_path, int64_t timeout_ns,
                                      fb_err_t *err) {
    int64_t deadline = fb_clock_now_ns () + timeout_ns;
    uint8_t cookie[S_COOKIE_LEN];
    FILE *f = fopen (cookie_path, "rb");
    size_t got = f ? fread (cookie, 1, sizeof cookie, f) : 0;
    if (f)
        fclose (f);
    if (got != sizeof cookie) {
        fb_err_set (err, FB_ESYS, "cannot read tor's control cookie %s", cookie_path);
        return NULL;
    }
    fb_tor_control_t *self = calloc (1, sizeof *self);
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "out of memory for a tor control connection");
        return NULL;
    }
    self->fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    self->usable = true;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons (port)};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (self->fd < 0 ||
        (connect (self->fd, (struct sockaddr *)&addr, sizeof addr) != 0 &&
         (errno != EINPROGRESS || fb_sockio_wait (self->fd, POLLOUT, deadline) != 1 ||
          getsockopt (self->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0))) {
        fb_err_set (err, FB_ESYS, "cannot connect to tor's control port 127.0.0.1:%u: %s",
                    (unsigned)port,
                    strerror (soerr   ? soerr
                              : errno ? errno
                                      : ETIMEDOUT));
        fb_tor_control_destroy (&self);
        return NULL;
    }
    char command[16 + 2 * S_COOKIE_LEN] = "AUTHENTICATE ", reply[256];
    for (int i = 0; i < S_COOKIE_LEN; i++)
        snprintf (command + 13 + 2 * i, 3, "%02X", cookie[i]);
    int code = fb_tor_control_command (self, command, reply, sizeof reply, timeout_ns, err);
    if (code != 250) {
        if (code > 0)
            fb_err_set (err, FB_EINPUT, "tor refused the control cookie: %.100s", reply);
        fb_tor_control_destroy (&self);
    }
    return self;
}

void fb_tor_control_destroy (fb_tor_control_t **self_p) {
    fb_tor_control_t *self = *self_p;
    if (!self)
        return;
    if (self->fd >= 0)
        close (self->fd);
    free (self);
    *self_p = NULL;
}

bool fb_tor_control_usable (const fb_tor_control_t *self) { return self && self->usable; }

int fb_tor_control_command (fb_tor_control_t *self, const char *command, char *reply,
                            size_t reply_len, int64_t timeout_ns, fb_err_t *err) {
    int64_t deadline = fb_clock_now_ns () + timeout_ns;
    char line[1024];
    int n = snprintf (line, sizeof line, "%s\r\n", command);
    assert (n > 0 && (size_t)n < sizeof line);
    if (!self->usable)
        return fb_err_set (err, FB_ESTATE, "tor control connection out of step");
    if (s_write_all (self, line, (size_t)n, deadline, err) != 0)
        return -1;
    return s_read_reply (self, reply, reply_len, deadline, err);
}

int fb_tor_control_getinfo (fb_tor_control_t *self, const char *key, char *value, size_t value_len,
                            int64_t timeout_ns, fb_err_t *err) {
    char command[256], reply[1024];
    snprintf (command, sizeof command, "GETINFO %s", key);
    int code = fb_tor_control_command (self, command, reply, sizeof reply, timeout_ns, err);
    if (code < 0)
        return -1;
    char *nl = strchr (reply, '\n');
    if (nl)
        *nl = '\0';
    if (code != 250)
        return fb_err_set (err, FB_EINPUT, "tor: GETINFO %s: %.120s", key, reply);
    const char *eq = strchr (reply, '=');
    snprintf (value, value_len, "%s", eq ? eq + 1 : "");
    return 0;
}

int fb_tor_control_watch_circuits (fb_tor_control_t *self, int64_t timeout_ns, fb_err_t *err) {
    char reply[256];
    int code =
        fb_tor_control_command (self, "SETEVENTS CIRC", reply, sizeof reply, timeout_ns, err);
    if (code > 0 && code != 250)
        return fb_err_set (err, FB_EINPUT, "tor: SETEVENTS CIRC: %.120s", reply);
    return code == 250 ? 0 : -1;
}

/* Reads one event line (no command is waiting for its reply). */
static int s_read_event (fb_tor_control_t *self, int64_t deadline_ns, fb_err_t *err) {
    if (s_read_line (self, deadline_ns, err) != 0)
        return -1;
    if (strncmp (self->line, "650", 3) != 0) {
        self->usable = false;
        return fb_err_set (err, FB_EINPUT, "tor control port: unexpected line \"%.60s\"",
                           self->line);
    }
    s_note_event (self, self->line);
    if (self->line[3] == '+' && s_read_data (self, NULL, 0, NULL, deadline_ns, err) != 0) {
        self->usable = false;
        return -1;
    }
    return 0;
}

int fb_tor_control_build (fb_tor_control_t *self, const char *const *fingerprints, int hops,
                          int64_t timeout_ns, uint32_t *circ_id, int64_t *build_ns, fb_err_t *err) {
    char command[64 + FB_TOR_CONTROL_MAX_HOPS * 43] = "EXTENDCIRCUIT 0 ", reply[512];
    size_t used = strlen (command);
    assert (hops >= 1 && hops <= FB_TOR_CONTROL_MAX_HOPS);
    for (int h = 0; h < hops; h++)
        used += (size_t)snprintf (command + used, sizeof command - used, "%s$%s", h ? "," : "",
                                  fingerprints[h]);
    *circ_id = 0;
    int64_t t0 = fb_clock_now_ns (), deadline = t0 + timeout_ns;
    int code = fb_tor_control_command (self, command, reply, sizeof reply, timeout_ns, err);
    if (code < 0)
        return -1;
    unsigned id;
    if (code != 250 || sscanf (reply, "250 EXTENDED %u", &id) != 1) {
        reply[strcspn (reply, "\n")] = '\0';
        return fb_err_set (err, FB_EINPUT, "tor refused EXTENDCIRCUIT: %.120s", reply);
    }
    *circ_id = id;
    for (;;) {
        const s_end_t *end = s_find_end (self, id);
        if (end && end->built) {
            if (build_ns)
                *build_ns = end->at_ns - t0;
            return 0;
        }
        if (end)
            return fb_err_set (err, FB_EINPUT, "tor: circuit %u failed (%s)", id, end->reason);
        if (s_read_event (self, deadline, err) != 0)
            return -1;
    }
}

int fb_tor_control_close_circuit (fb_tor_control_t *self, uint32_t circ_id, int64_t timeout_ns,
                                  fb_err_t *err) {
    char command[64], reply[256];
    snprintf (command, sizeof command, "CLOSECIRCUIT %u", circ_id);
    int code = fb_tor_control_command (self, command, reply, sizeof reply, timeout_ns, err);
    if (code < 0)
        return -1;
    if (code != 250 && code != 552) /* 552: unknown circuit, tor closed it already */
        return fb_err_set (err, FB_EINPUT, "tor: CLOSECIRCUIT %u: %.120s", circ_id, reply);
    return 0;
}
