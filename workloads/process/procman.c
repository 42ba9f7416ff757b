/* procman.c: the process manager (see procman.h).
 *
 * Each process has three threads, as Brummer has three goroutines: two readers (stdout,
 * stderr) that split the output into lines and take the manager lock once per line as
 * Brummer's streamLogs does (m.mu.RLock to read the callbacks), and a waiter that learns of the
 * exit through a pidfd and reaps under the write lock. Reaping under the lock is what makes
 * kill (-pgid) safe: stop signals the group only under the same lock and only while the
 * leader is unreaped, so its pid (and the group's id) cannot have been reused.
 *
 * Entries are never freed while in use: an exited process stays listed (as in Brummer until
 * CleanupFinishedProcesses) until its entry is needed again. */
#include "workloads/process/procman.h"

#include "common/clock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define S_LINE_BYTES 4096 /* longer lines are cut into pieces of this size */
#define S_POLL_MS 100     /* readers and waiters look at their stop flags this often */
/* After the leader is reaped, readers keep draining for this long: a grandchild in another
 * group may hold the pipe open for ever. */
#define S_DRAIN_NS (500 * FB_NS_PER_MS)
#define S_KILL_WAIT_NS (5 * FB_NS_PER_S) /* a SIGKILLed process is reaped within this */
#define S_THREAD_STACK (256 * 1024)
#define S_SEQ_TRIES 64 /* lock-free reads retried this often, then they take the mutex */

#define S_GET(field) __atomic_load_n (&(field), __ATOMIC_RELAXED)
#define S_SET(field, value) __atomic_store_n (&(field), (value), __ATOMIC_RELAXED)
#define S_ADD(field, value) __atomic_fetch_add (&(field), (value), __ATOMIC_RELAXED)

typedef struct s_proc s_proc_t;

typedef struct {
    s_proc_t *proc;
    int fd;
    bool is_stderr;
    bool started;
    pthread_t thread;
    size_t used;
    char buf[S_LINE_BYTES];
} s_pipe_t;

/* One entry of the table. The status fields are written under the write lock (and, for
 * lock-free readers, between an odd and an even seq); output counters are the readers'. */
struct s_proc {
    fb_procman_t *man;
    int index;
    /* status: what fb_procman_status copies */
    unsigned seq;
    int id;
    fb_proc_state_t state;
    pid_t pid;
    int exit_code;
    int64_t started_ns, ended_ns;
    int64_t first_output_ns, lines, bytes; /* atomics, written by the readers */
    /* lifecycle, under the write lock */
    int generation;
    bool busy;     /* from the claim in start until reclaimed */
    bool finished; /* the waiter has joined the readers and is leaving: joinable */
    bool abandon;  /* destroy gives up waiting: threads leave at their next poll */
    bool waiter_started;
    int pid_fd;
    pthread_t waiter;
    s_pipe_t pipes[2];
};

struct fb_procman {
    fb_procman_config_t cfg;
    pthread_rwlock_t rwlock;
    pthread_mutex_t mutex; /* MUTEX: the lock; ATOMIC: the writers' lock */
    /* Output seen, exits and finished threads are announced here (not under the measured
     * lock, so that waiting costs nothing in what is measured). */
    pthread_mutex_t ev_lock;
    pthread_cond_t ev_cond;
    pthread_attr_t thread_attr;
    s_proc_t *procs;
    int cursor;
    /* totals since the last take_stats (atomics) */
    int64_t wait_ns, hold_ns, contended, lines, bytes, started, killed;
    int live, fds;
    /* Descriptor changes (pipes made, ends closed: shared) against the leak check's count
     * (alone), so that the count never sees a spawn or a close half done. */
    pthread_rwlock_t fd_lock;
};

/* ---- descriptor changes ---------------------------------------------------------------- */

static void s_fds_change (fb_procman_t *self) { pthread_rwlock_rdlock (&self->fd_lock); }
static void s_fds_changed (fb_procman_t *self) { pthread_rwlock_unlock (&self->fd_lock); }

/* ---- the manager lock ------------------------------------------------------------------ */

typedef struct {
    bool write;
    bool locked;
    int64_t acquired_ns;
} s_held_t;

static int s_try (fb_procman_t *self, bool write) {
    if (self->cfg.lock == FB_PROCMAN_RWLOCK)
        return write ? pthread_rwlock_trywrlock (&self->rwlock)
                     : pthread_rwlock_tryrdlock (&self->rwlock);
    return pthread_mutex_trylock (&self->mutex);
}

static void s_block (fb_procman_t *self, bool write) {
    if (self->cfg.lock == FB_PROCMAN_RWLOCK) {
        if (write)
            pthread_rwlock_wrlock (&self->rwlock);
        else
            pthread_rwlock_rdlock (&self->rwlock);
    } else
        pthread_mutex_lock (&self->mutex);
}

/* Takes the manager lock (readers in ATOMIC mode take none). An uncontended acquisition costs
 * one try; only a contended one reads the clock to measure its wait. */
static void s_lock (fb_procman_t *self, bool write, s_held_t *held) {
    *held = (s_held_t){.write = write};
    if (!write && self->cfg.lock == FB_PROCMAN_ATOMIC)
        return;
    held->locked = true;
    if (s_try (self, write) == 0) {
        held->acquired_ns = self->cfg.timed ? fb_clock_now_ns () : 0;
        return;
    }
    int64_t t0 = fb_clock_now_ns ();
    s_block (self, write);
    held->acquired_ns = fb_clock_now_ns ();
    S_ADD (self->wait_ns, held->acquired_ns - t0);
    S_ADD (self->contended, 1);
}

static void s_unlock (fb_procman_t *self, s_held_t *held) {
    if (!held->locked)
        return;
    if (self->cfg.timed)
        S_ADD (self->hold_ns, fb_clock_now_ns () - held->acquired_ns);
    if (self->cfg.lock == FB_PROCMAN_RWLOCK)
        pthread_rwlock_unlock (&self->rwlock);
    else
        pthread_mutex_unlock (&self->mutex);
    held->locked = false;
}

/* Status writes, under the write lock: a lock-free reader retries across them. */
static void s_write_begin (s_proc_t *p) {
    S_SET (p->seq, p->seq + 1);
    __atomic_thread_fence (__ATOMIC_RELEASE);
}

static void s_write_end (s_proc_t *p) { __atomic_store_n (&p->seq, p->seq + 1, __ATOMIC_RELEASE); }

static void s_announce (fb_procman_t *self) {
    pthread_mutex_lock (&self->ev_lock);
    pthread_cond_broadcast (&self->ev_cond);
    pthread_mutex_unlock (&self->ev_lock);
}

/* Waits on the event condition until at_ns; false once it has passed. */
static bool s_wait_event (fb_procman_t *self, int64_t at_ns) {
    int64_t now = fb_clock_now_ns ();
    if (now >= at_ns)
        return false;
    struct timespec ts = fb_clock_timespec (at_ns);
    pthread_cond_timedwait (&self->ev_cond, &self->ev_lock, &ts);
    return true;
}

/* ---- reading status -------------------------------------------------------------------- */

static void s_copy (const s_proc_t *p, fb_proc_status_t *out) {
    out->id = S_GET (p->id);
    out->pid = S_GET (p->pid);
    out->state = S_GET (p->state);
    out->exit_code = S_GET (p->exit_code);
    out->started_ns = S_GET (p->started_ns);
    out->ended_ns = S_GET (p->ended_ns);
    out->first_output_ns = S_GET (p->first_output_ns);
    out->lines = S_GET (p->lines);
    out->bytes = S_GET (p->bytes);
}

/* ATOMIC mode: a consistent copy without any lock (a sequence count, retried). */
static void s_copy_lockfree (fb_procman_t *self, const s_proc_t *p, fb_proc_status_t *out) {
    for (int tries = 0; tries < S_SEQ_TRIES; tries++) {
        unsigned before = __atomic_load_n (&p->seq, __ATOMIC_ACQUIRE);
        if (before & 1)
            continue;
        s_copy (p, out);
        __atomic_thread_fence (__ATOMIC_ACQUIRE);
        if (S_GET (p->seq) == before)
            return;
    }
    s_held_t held; /* a writer kept it busy: read it under the writers' lock */
    s_lock (self, true, &held);
    s_copy (p, out);
    s_unlock (self, &held);
}

static s_proc_t *s_entry (fb_procman_t *self, int id) {
    if (id <= 0)
        return NULL;
    return &self->procs[id % self->cfg.max_processes];
}

int fb_procman_status (fb_procman_t *self, int id, fb_proc_status_t *status) {
    s_proc_t *p = s_entry (self, id);
    if (!p)
        return -1;
    if (self->cfg.lock == FB_PROCMAN_ATOMIC)
        s_copy_lockfree (self, p, status);
    else {
        s_held_t held;
        s_lock (self, false, &held);
        s_copy (p, status);
        s_unlock (self, &held);
    }
    return status->id == id && status->state != FB_PROC_EMPTY ? 0 : -1;
}

int fb_procman_list (fb_procman_t *self, fb_proc_status_t *out, int max) {
    int n = 0;
    bool lockfree = self->cfg.lock == FB_PROCMAN_ATOMIC;
    s_held_t held;
    s_lock (self, false, &held);
    for (int i = 0; i < self->cfg.max_processes && n < max; i++) {
        const s_proc_t *p = &self->procs[i];
        if (S_GET (p->state) == FB_PROC_EMPTY)
            continue;
        if (lockfree)
            s_copy_lockfree (self, p, &out[n]);
        else
            s_copy (p, &out[n]);
        if (out[n].state != FB_PROC_EMPTY)
            n++;
    }
    s_unlock (self, &held);
    return n;
}

/* ---- readers --------------------------------------------------------------------------- */

/* One line: the manager lock as Brummer takes it per line, then the log path outside it. */
static void s_on_line (s_pipe_t *pipe, const char *line, size_t len, int64_t now_ns) {
    s_proc_t *p = pipe->proc;
    fb_procman_t *self = p->man;
    s_held_t held;
    s_lock (self, false, &held);
    fb_procman_line_fn *fn = self->cfg.on_line;
    int id = S_GET (p->id);
    S_ADD (p->lines, 1);
    s_unlock (self, &held);
    S_ADD (self->lines, 1);
    if (fn)
        fn (self->cfg.on_line_arg, id, line, len, pipe->is_stderr, now_ns);
}

/* New bytes at buf[used - n, used): every complete line out, the rest kept. A full buffer
 * without a newline goes out as one line. */
static void s_split_lines (s_pipe_t *pipe, int64_t now_ns, bool eof) {
    size_t start = 0;
    for (size_t i = 0; i < pipe->used; i++)
        if (pipe->buf[i] == '\n') {
            s_on_line (pipe, pipe->buf + start, i - start, now_ns);
            start = i + 1;
        }
    size_t rest = pipe->used - start;
    if (rest > 0 && (eof || (start == 0 && pipe->used == sizeof pipe->buf))) {
        s_on_line (pipe, pipe->buf + start, rest, now_ns);
        start = pipe->used;
    }
    memmove (pipe->buf, pipe->buf + start, pipe->used - start);
    pipe->used -= start;
}

static void s_on_bytes (s_pipe_t *pipe, size_t n, int64_t now_ns) {
    s_proc_t *p = pipe->proc;
    int64_t none = 0;
    S_ADD (p->bytes, (int64_t)n);
    S_ADD (p->man->bytes, (int64_t)n);
    if (S_GET (p->first_output_ns) == 0 &&
        __atomic_compare_exchange_n (&p->first_output_ns, &none, now_ns, false, __ATOMIC_RELEASE,
                                     __ATOMIC_RELAXED))
        s_announce (p->man);
}

/* True when the reader should leave although the pipe is still open. */
static bool s_reader_gives_up (const s_proc_t *p) {
    if (__atomic_load_n (&p->abandon, __ATOMIC_ACQUIRE))
        return true;
    int64_t ended = __atomic_load_n (&p->ended_ns, __ATOMIC_ACQUIRE);
    return ended > 0 && fb_clock_now_ns () - ended > S_DRAIN_NS;
}

static void *s_reader_main (void *arg) {
    s_pipe_t *pipe = arg;
    for (;;) {
        struct pollfd pfd = {.fd = pipe->fd, .events = POLLIN};
        int ready = poll (&pfd, 1, S_POLL_MS);
        if (ready < 0 && errno != EINTR)
            break;
        if (ready > 0) {
            ssize_t n = read (pipe->fd, pipe->buf + pipe->used, sizeof pipe->buf - pipe->used);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
                break;
            if (n > 0) {
                int64_t now = fb_clock_now_ns ();
                s_on_bytes (pipe, (size_t)n, now);
                pipe->used += (size_t)n;
                s_split_lines (pipe, now, false);
            }
        } else if (s_reader_gives_up (pipe->proc))
            break;
    }
    s_split_lines (pipe, fb_clock_now_ns (), true);
    s_fds_change (pipe->proc->man);
    close (pipe->fd);
    pipe->fd = -1;
    S_ADD (pipe->proc->man->fds, -1);
    s_fds_changed (pipe->proc->man);
    return NULL;
}

/* ---- the waiter ------------------------------------------------------------------------ */

/* Until the process has exited (not reaped). False when abandoned first. */
static bool s_await_exit (s_proc_t *p) {
    if (p->pid_fd < 0) {
        /* No pidfd (Linux < 5.3): block until it exits; SIGKILL bounds this. */
        siginfo_t info;
        while (waitid (P_PID, (id_t)p->pid, &info, WEXITED | WNOWAIT) != 0 && errno == EINTR)
            ;
        return true;
    }
    for (;;) {
        struct pollfd pfd = {.fd = p->pid_fd, .events = POLLIN};
        if (poll (&pfd, 1, S_POLL_MS) > 0)
            return true;
        if (__atomic_load_n (&p->abandon, __ATOMIC_ACQUIRE))
            return false;
    }
}

static void s_reap (s_proc_t *p) {
    fb_procman_t *self = p->man;
    s_held_t held;
    s_lock (self, true, &held);
    int status = 0;
    pid_t got;
    while ((got = waitpid (p->pid, &status, 0)) < 0 && errno == EINTR)
        ;
    s_write_begin (p);
    S_SET (p->exit_code, got < 0                ? -1
                         : WIFEXITED (status)   ? WEXITSTATUS (status)
                         : WIFSIGNALED (status) ? -WTERMSIG (status)
                                                : -1);
    S_SET (p->state, FB_PROC_EXITED);
    __atomic_store_n (&p->ended_ns, fb_clock_now_ns (), __ATOMIC_RELEASE);
    s_write_end (p);
    S_ADD (self->live, -1);
    s_unlock (self, &held);
}

static void *s_waiter_main (void *arg) {
    s_proc_t *p = arg;
    fb_procman_t *self = p->man;
    if (s_await_exit (p))
        s_reap (p);
    if (p->pid_fd >= 0) {
        s_fds_change (self);
        close (p->pid_fd);
        p->pid_fd = -1;
        S_ADD (self->fds, -1);
        s_fds_changed (self);
    }
    s_announce (self);
    for (int i = 0; i < 2; i++)
        if (p->pipes[i].started)
            pthread_join (p->pipes[i].thread, NULL);
    pthread_mutex_lock (&self->ev_lock);
    __atomic_store_n (&p->finished, true, __ATOMIC_RELEASE);
    pthread_cond_broadcast (&self->ev_cond);
    pthread_mutex_unlock (&self->ev_lock);
    return NULL;
}

/* ---- entries --------------------------------------------------------------------------- */

static void s_reset_locked (s_proc_t *p) {
    s_write_begin (p);
    S_SET (p->id, 0);
    S_SET (p->state, FB_PROC_EMPTY);
    S_SET (p->pid, 0);
    S_SET (p->exit_code, 0);
    S_SET (p->started_ns, 0);
    S_SET (p->ended_ns, 0);
    S_SET (p->first_output_ns, 0);
    S_SET (p->lines, 0);
    S_SET (p->bytes, 0);
    s_write_end (p);
    S_SET (p->finished, false);
    S_SET (p->abandon, false);
    p->waiter_started = false;
    p->pid_fd = -1;
    for (int i = 0; i < 2; i++) {
        p->pipes[i].started = false;
        p->pipes[i].fd = -1;
        p->pipes[i].used = 0;
    }
    S_SET (p->busy, false);
}

/* Joins the waiters of finished entries and frees them; under the write lock. */
static int s_reclaim_locked (fb_procman_t *self) {
    int n = 0;
    for (int i = 0; i < self->cfg.max_processes; i++) {
        s_proc_t *p = &self->procs[i];
        if (!S_GET (p->busy) || !__atomic_load_n (&p->finished, __ATOMIC_ACQUIRE))
            continue;
        if (p->waiter_started)
            pthread_join (p->waiter, NULL); /* it has left or is leaving: no lock needed */
        s_reset_locked (p);
        n++;
    }
    return n;
}

/* A free entry, reclaiming finished ones when none is; round robin, so that an exited
 * process stays listed as long as possible. Under the write lock. */
static s_proc_t *s_claim_locked (fb_procman_t *self) {
    int n = self->cfg.max_processes;
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < n; k++) {
            int i = (self->cursor + k) % n;
            s_proc_t *p = &self->procs[i];
            if (!S_GET (p->busy)) {
                self->cursor = (i + 1) % n;
                S_SET (p->busy, true);
                return p;
            }
        }
        if (s_reclaim_locked (self) == 0)
            break;
    }
    return NULL;
}

static void s_release (fb_procman_t *self, s_proc_t *p) {
    s_held_t held;
    s_lock (self, true, &held);
    s_reset_locked (p);
    s_unlock (self, &held);
}

/* The spawned process becomes visible: RUNNING, with a new id. */
static void s_publish (fb_procman_t *self, s_proc_t *p, pid_t pid, int64_t started_ns) {
    int n = self->cfg.max_processes;
    s_held_t held;
    s_lock (self, true, &held);
    p->generation = p->generation % (0x7fffffff / n - 1) + 1;
    s_write_begin (p);
    S_SET (p->id, p->generation * n + p->index);
    S_SET (p->pid, pid);
    S_SET (p->started_ns, started_ns);
    S_SET (p->state, FB_PROC_RUNNING);
    s_write_end (p);
    S_ADD (self->live, 1);
    s_unlock (self, &held);
}

/* ---- start ----------------------------------------------------------------------------- */

/* posix_spawn into a new process group, stdin /dev/null, stdout and stderr into the pipes,
 * every signal at its default and none blocked (the agent's own dispositions are not the
 * child's business). Returns an errno value. */
static int s_spawn (const char *const *argv, int out_fd, int err_fd, pid_t *pid) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    int rc = posix_spawn_file_actions_init (&actions);
    if (rc != 0)
        return rc;
    if ((rc = posix_spawnattr_init (&attr)) != 0) {
        posix_spawn_file_actions_destroy (&actions);
        return rc;
    }
    sigset_t none, all;
    sigemptyset (&none);
    sigfillset (&all);
    sigdelset (&all, SIGKILL);
    sigdelset (&all, SIGSTOP);
    short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (!rc)
        rc = posix_spawn_file_actions_addopen (&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (!rc)
        rc = posix_spawn_file_actions_adddup2 (&actions, out_fd, STDOUT_FILENO);
    if (!rc)
        rc = posix_spawn_file_actions_adddup2 (&actions, err_fd, STDERR_FILENO);
    if (!rc)
        rc = posix_spawnattr_setflags (&attr, flags);
    if (!rc)
        rc = posix_spawnattr_setpgroup (&attr, 0);
    if (!rc)
        rc = posix_spawnattr_setsigmask (&attr, &none);
    if (!rc)
        rc = posix_spawnattr_setsigdefault (&attr, &all);
    char *const *args = (char *const *)argv;
    if (!rc)
        rc = strchr (argv[0], '/') ? posix_spawn (pid, argv[0], &actions, &attr, args, environ)
                                   : posix_spawnp (pid, argv[0], &actions, &attr, args, environ);
    posix_spawnattr_destroy (&attr);
    posix_spawn_file_actions_destroy (&actions);
    return rc;
}

/* The threads could not all be started (the waiter is the last): the process is killed and
 * reaped here, the readers that did start are joined, and the entry is freed. */
static void s_abort_start (fb_procman_t *self, s_proc_t *p) {
    __atomic_store_n (&p->abandon, true, __ATOMIC_RELEASE);
    s_held_t held;
    s_lock (self, true, &held);
    kill (-p->pid, SIGKILL);
    s_unlock (self, &held);
    s_reap (p);
    for (int i = 0; i < 2; i++)
        if (p->pipes[i].started)
            pthread_join (p->pipes[i].thread, NULL); /* it closes its own end */
    s_fds_change (self);
    for (int i = 0; i < 2; i++)
        if (!p->pipes[i].started && p->pipes[i].fd >= 0) {
            close (p->pipes[i].fd);
            S_ADD (self->fds, -1);
        }
    if (p->pid_fd >= 0) {
        close (p->pid_fd);
        S_ADD (self->fds, -1);
    }
    s_fds_changed (self);
    s_release (self, p);
}

static int s_start_threads (fb_procman_t *self, s_proc_t *p) {
    for (int i = 0; i < 2; i++) {
        if (pthread_create (&p->pipes[i].thread, &self->thread_attr, s_reader_main, &p->pipes[i]) !=
            0)
            return -1;
        p->pipes[i].started = true;
    }
    if (pthread_create (&p->waiter, &self->thread_attr, s_waiter_main, p) != 0)
        return -1;
    p->waiter_started = true;
    return 0;
}

int fb_procman_start (fb_procman_t *self, const char *const *argv, int *id, fb_err_t *err) {
    if (!argv || !argv[0] || !argv[0][0])
        return fb_err_set (err, FB_EINPUT, "no program to start");
    s_held_t held;
    s_lock (self, true, &held);
    s_proc_t *p = s_claim_locked (self);
    s_unlock (self, &held);
    if (!p)
        return fb_err_set (err, FB_ESTATE,
                           "all %d process entries hold running processes (raise max_processes)",
                           self->cfg.max_processes);
    /* Counted as they are made and closed, all under the descriptor lock, so that the leak
     * check (descriptors open beyond those counted) never sees one in between. */
    s_fds_change (self);
    S_ADD (self->fds, 5);
    int out[2] = {-1, -1}, errs[2] = {-1, -1};
    if (pipe2 (out, O_CLOEXEC) != 0 || pipe2 (errs, O_CLOEXEC) != 0) {
        int e = errno;
        for (int i = 0; i < 2; i++) {
            if (out[i] >= 0)
                close (out[i]);
            if (errs[i] >= 0)
                close (errs[i]);
        }
        S_ADD (self->fds, -5);
        s_fds_changed (self);
        s_release (self, p);
        return fb_err_set (err, FB_ESYS, "cannot make a pipe for %s: %s", argv[0], strerror (e));
    }
    int64_t started_ns = fb_clock_now_ns ();
    pid_t pid = 0;
    int rc = s_spawn (argv, out[1], errs[1], &pid);
    close (out[1]);
    close (errs[1]);
    S_ADD (self->fds, -2);
    if (rc != 0) {
        close (out[0]);
        close (errs[0]);
        S_ADD (self->fds, -3);
        s_fds_changed (self);
        s_release (self, p);
        return fb_err_set (err, FB_ESYS, "cannot start %s: %s", argv[0], strerror (rc));
    }
    p->pid_fd = (int)syscall (SYS_pidfd_open, pid, 0);
    if (p->pid_fd < 0)
        S_ADD (self->fds, -1);
    p->pipes[0].fd = out[0];
    p->pipes[1].fd = errs[0];
    s_fds_changed (self);
    s_publish (self, p, pid, started_ns);
    S_ADD (self->started, 1);
    *id = p->id;
    if (s_start_threads (self, p) != 0) {
        s_abort_start (self, p);
        return fb_err_set (err, FB_ESYS, "cannot start the threads that watch %s", argv[0]);
    }
    return 0;
}

/* ---- waiting and stopping -------------------------------------------------------------- */

int fb_procman_wait_output (fb_procman_t *self, int id, int64_t deadline_ns, int64_t *first_ns) {
    s_proc_t *p = s_entry (self, id);
    if (!p)
        return -1;
    int64_t first = 0;
    pthread_mutex_lock (&self->ev_lock);
    for (;;) {
        if (S_GET (p->id) != id)
            break;
        first = __atomic_load_n (&p->first_output_ns, __ATOMIC_ACQUIRE);
        if (first > 0 || __atomic_load_n (&p->finished, __ATOMIC_ACQUIRE))
            break;
        if (!s_wait_event (self, deadline_ns))
            break;
    }
    pthread_mutex_unlock (&self->ev_lock);
    if (first > 0 && first_ns)
        *first_ns = first;
    return first > 0 ? 0 : -1;
}

/* Until id is reaped (or its entry was reused: it was reaped long ago). */
int fb_procman_wait_exit (fb_procman_t *self, int id, int64_t deadline_ns) {
    s_proc_t *p = s_entry (self, id);
    if (!p)
        return -1;
    bool done = false;
    pthread_mutex_lock (&self->ev_lock);
    for (;;) {
        done = S_GET (p->id) != id || S_GET (p->state) == FB_PROC_EXITED;
        if (done || !s_wait_event (self, deadline_ns))
            break;
    }
    pthread_mutex_unlock (&self->ev_lock);
    return done ? 0 : -1;
}

/* Sends sig to id's group while its leader is unreaped. -1 when id is unknown. */
static int s_signal (fb_procman_t *self, s_proc_t *p, int id, int sig) {
    s_held_t held;
    s_lock (self, true, &held);
    int rc = S_GET (p->id) == id && S_GET (p->state) != FB_PROC_EMPTY ? 0 : -1;
    fb_proc_state_t state = S_GET (p->state);
    if (rc == 0 && (state == FB_PROC_RUNNING || state == FB_PROC_STOPPING)) {
        kill (-p->pid, sig);
        if (state == FB_PROC_RUNNING) {
            s_write_begin (p);
            S_SET (p->state, FB_PROC_STOPPING);
            s_write_end (p);
        }
    }
    s_unlock (self, &held);
    return rc;
}

int fb_procman_stop (fb_procman_t *self, int id, bool *killed, fb_err_t *err) {
    s_proc_t *p = s_entry (self, id);
    if (killed)
        *killed = false;
    if (!p || s_signal (self, p, id, SIGTERM) != 0)
        return fb_err_set (err, FB_EINPUT, "no process %d to stop", id);
    if (fb_procman_wait_exit (self, id, fb_clock_now_ns () + self->cfg.grace_ns) == 0)
        return 0;
    s_signal (self, p, id, SIGKILL);
    if (killed)
        *killed = true;
    S_ADD (self->killed, 1);
    if (fb_procman_wait_exit (self, id, fb_clock_now_ns () + S_KILL_WAIT_NS) == 0)
        return 0;
    return fb_err_set (err, FB_ESYS, "process %d (pid %d) did not end within 5 s of SIGKILL", id,
                       (int)S_GET (p->pid));
}

void fb_procman_take_stats (fb_procman_t *self, fb_procman_stats_t *stats) {
    stats->lock_wait_ns = __atomic_exchange_n (&self->wait_ns, 0, __ATOMIC_RELAXED);
    stats->lock_hold_ns = __atomic_exchange_n (&self->hold_ns, 0, __ATOMIC_RELAXED);
    stats->contended = __atomic_exchange_n (&self->contended, 0, __ATOMIC_RELAXED);
    stats->lines = __atomic_exchange_n (&self->lines, 0, __ATOMIC_RELAXED);
    stats->bytes = __atomic_exchange_n (&self->bytes, 0, __ATOMIC_RELAXED);
    stats->started = __atomic_exchange_n (&self->started, 0, __ATOMIC_RELAXED);
    stats->killed = __atomic_exchange_n (&self->killed, 0, __ATOMIC_RELAXED);
    stats->live = S_GET (self->live);
    stats->fds = S_GET (self->fds);
}

/* Pipes and pidfds: the kinds of descriptor the manager makes (ZeroMQ's eventfds and
 * sockets, and files other threads read for a moment, are not counted). */
static bool s_is_manager_kind (int dir_fd, const char *name) {
    char target[64];
    ssize_t n = readlinkat (dir_fd, name, target, sizeof target - 1);
    if (n <= 0)
        return false;
    target[n] = '\0';
    return strncmp (target, "pipe:", 5) == 0 || strcmp (target, "anon_inode:[pidfd]") == 0;
}

int fb_procman_count_fds (fb_procman_t *self, int *open_fds, int *held_fds) {
    pthread_rwlock_wrlock (&self->fd_lock); /* no spawn or close half done from here */
    DIR *dir = opendir ("/proc/self/fd");
    int n = 0;
    if (dir) {
        for (struct dirent *e; (e = readdir (dir));)
            if (e->d_name[0] != '.' && s_is_manager_kind (dirfd (dir), e->d_name))
                n++;
        closedir (dir);
    }
    *held_fds = S_GET (self->fds);
    pthread_rwlock_unlock (&self->fd_lock);
    *open_fds = n;
    return dir ? 0 : -1;
}

/* ---- new and destroy ------------------------------------------------------------------- */

fb_procman_t *fb_procman_new (const fb_procman_config_t *config, fb_err_t *err) {
    if (config->max_processes < 1 || config->max_processes > FB_PROCMAN_MAX_PROCESSES) {
        fb_err_set (err, FB_EINPUT, "max_processes must be between 1 and %d (got %d)",
                    FB_PROCMAN_MAX_PROCESSES, config->max_processes);
        return NULL;
    }
    fb_procman_t *self = calloc (1, sizeof *self);
    s_proc_t *procs = calloc ((size_t)config->max_processes, sizeof *procs);
    if (!self || !procs) {
        free (self);
        free (procs);
        fb_err_set (err, FB_ENOMEM, "out of memory for %d processes", config->max_processes);
        return NULL;
    }
    self->cfg = *config;
    self->procs = procs;
    /* Writers first, as Go's RWMutex: a waiting writer stops new readers, so a reap is never
     * starved by a stream of status reads. */
    pthread_rwlockattr_t rw_attr;
    pthread_rwlockattr_init (&rw_attr);
    pthread_rwlockattr_setkind_np (&rw_attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init (&self->rwlock, &rw_attr);
    pthread_rwlock_init (&self->fd_lock, &rw_attr); /* the count waits for no stream of spawns */
    pthread_rwlockattr_destroy (&rw_attr);
    pthread_mutex_init (&self->mutex, NULL);
    pthread_mutex_init (&self->ev_lock, NULL);
    pthread_condattr_t cond_attr;
    pthread_condattr_init (&cond_attr);
    pthread_condattr_setclock (&cond_attr, CLOCK_MONOTONIC);
    pthread_cond_init (&self->ev_cond, &cond_attr);
    pthread_condattr_destroy (&cond_attr);
    pthread_attr_init (&self->thread_attr);
    pthread_attr_setstacksize (&self->thread_attr, S_THREAD_STACK);
    for (int i = 0; i < config->max_processes; i++) {
        procs[i].man = self;
        procs[i].index = i;
        for (int k = 0; k < 2; k++)
            procs[i].pipes[k] = (s_pipe_t){.proc = &procs[i], .fd = -1, .is_stderr = k == 1};
        procs[i].pid_fd = -1;
    }
    return self;
}

/* Signals every process not yet reaped. */
static void s_signal_all (fb_procman_t *self, int sig) {
    for (int i = 0; i < self->cfg.max_processes; i++) {
        s_proc_t *p = &self->procs[i];
        int id = S_GET (p->id);
        if (S_GET (p->busy) && id > 0)
            s_signal (self, p, id, sig);
    }
}

/* True when every entry in use has exited (or, with threads, also finished). */
static bool s_all_done (fb_procman_t *self, bool threads) {
    for (int i = 0; i < self->cfg.max_processes; i++) {
        const s_proc_t *p = &self->procs[i];
        if (!S_GET (p->busy) || !p->waiter_started)
            continue;
        if (threads ? !__atomic_load_n (&p->finished, __ATOMIC_ACQUIRE)
                    : S_GET (p->state) != FB_PROC_EXITED)
            return false;
    }
    return true;
}

static bool s_wait_all (fb_procman_t *self, bool threads, int64_t deadline_ns) {
    bool done;
    pthread_mutex_lock (&self->ev_lock);
    while (!(done = s_all_done (self, threads)) && s_wait_event (self, deadline_ns))
        ;
    pthread_mutex_unlock (&self->ev_lock);
    return done;
}

void fb_procman_destroy (fb_procman_t **self_p) {
    fb_procman_t *self = *self_p;
    if (!self)
        return;
    /* Everyone gets SIGTERM at once and one grace period in all, then SIGKILL. */
    s_signal_all (self, SIGTERM);
    if (!s_wait_all (self, false, fb_clock_now_ns () + self->cfg.grace_ns)) {
        s_signal_all (self, SIGKILL);
        s_wait_all (self, false, fb_clock_now_ns () + S_KILL_WAIT_NS);
    }
    if (!s_wait_all (self, true, fb_clock_now_ns () + S_DRAIN_NS + 2 * S_POLL_MS * FB_NS_PER_MS))
        for (int i = 0; i < self->cfg.max_processes; i++)
            __atomic_store_n (&self->procs[i].abandon, true, __ATOMIC_RELEASE);
    for (int i = 0; i < self->cfg.max_processes; i++) {
        s_proc_t *p = &self->procs[i];
        if (S_GET (p->busy) && p->waiter_started)
            pthread_join (p->waiter, NULL); /* abandoned threads leave at their next poll */
    }
    pthread_attr_destroy (&self->thread_attr);
    pthread_cond_destroy (&self->ev_cond);
    pthread_mutex_destroy (&self->ev_lock);
    pthread_mutex_destroy (&self->mutex);
    pthread_rwlock_destroy (&self->rwlock);
    pthread_rwlock_destroy (&self->fd_lock);
    free (self->procs);
    free (self);
    *self_p = NULL;
}
