/* procman.h: a process manager modelled on Brummer's (internal/process): a table of child
 * processes under one manager lock, each child in its own process group with its stdout and
 * stderr drained line by line by reader threads (the log path) and reaped by a waiter thread.
 * Stop is SIGTERM to the group, a grace period, then SIGKILL; every child is reaped, no fd is
 * left open. Status and list read the table under the manager's lock; the lock kind is a
 * choice, to compare (rwlock as Brummer's sync.RWMutex, a plain mutex, or lock-free reads). */
#ifndef FB_PROCMAN_H
#define FB_PROCMAN_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FB_PROCMAN_MAX_PROCESSES 1024

typedef enum {
    FB_PROCMAN_RWLOCK, /* readers share, writers exclude (Brummer's sync.RWMutex) */
    FB_PROCMAN_MUTEX,  /* every reader and writer excludes every other */
    FB_PROCMAN_ATOMIC, /* readers take no lock (a sequence count per entry); writers a mutex */
} fb_procman_lock_t;

typedef enum {
    FB_PROC_EMPTY,    /* no process in this entry */
    FB_PROC_RUNNING,  /* started, not yet exited */
    FB_PROC_STOPPING, /* SIGTERM sent */
    FB_PROC_EXITED,   /* exited and reaped; exit_code says how */
} fb_proc_state_t;

/* A line of output, called on the reader thread outside the manager lock (the log path).
 * line has no newline; is_stderr says which pipe. */
typedef void (fb_procman_line_fn) (void *arg, int id, const char *line, size_t len, bool is_stderr,
                                   int64_t now_ns);

typedef struct {
    int max_processes;           /* entries in the table, 1..FB_PROCMAN_MAX_PROCESSES */
    fb_procman_lock_t lock;      /* how the table is locked */
    int64_t grace_ns;            /* stop: SIGTERM, this long, then SIGKILL */
    bool timed;                  /* measure how long the lock is held too (costs two clock reads) */
    fb_procman_line_fn *on_line; /* may be NULL */
    void *on_line_arg;
} fb_procman_config_t;

/* One process as status and list report it: a copy, consistent at one instant. */
typedef struct {
    int id;
    pid_t pid;
    fb_proc_state_t state;
    int exit_code;           /* EXITED: the exit status, or -signal when killed by one */
    int64_t started_ns;      /* monotonic, just before the spawn */
    int64_t ended_ns;        /* EXITED: when it was reaped */
    int64_t first_output_ns; /* 0 until its first byte on stdout or stderr */
    int64_t lines, bytes;    /* read so far */
} fb_proc_status_t;

/* Lock and output totals since the last call (fb_procman_take_stats). */
typedef struct {
    int64_t lock_wait_ns;    /* time spent waiting to acquire the manager lock */
    int64_t lock_hold_ns;    /* time it was held (timed managers only) */
    int64_t contended;       /* acquisitions that had to wait */
    int64_t lines, bytes;    /* output read */
    int64_t started, killed; /* processes started; stops that needed SIGKILL */
    int live;                /* processes not yet reaped, now */
    int fds;                 /* pipe and pidfd descriptors the manager holds, now */
} fb_procman_stats_t;

typedef struct fb_procman fb_procman_t;

fb_procman_t *fb_procman_new (const fb_procman_config_t *config, fb_err_t *err);
/* Stops every process (SIGTERM to each group at once, one grace period, then SIGKILL), reaps
 * them, joins every thread and closes every descriptor. Bounded in time. */
void fb_procman_destroy (fb_procman_t **self_p);

/* Starts argv (argv[0] a path, or a name looked up in PATH) in a new process group, stdin from
 * /dev/null, stdout and stderr into pipes. *id names it from now on. The table full, or the
 * spawn refused: -1 with err. */
int fb_procman_start (fb_procman_t *self, const char *const *argv, int *id, fb_err_t *err);
/* Waits until id's first byte of output was read, at most until deadline_ns (monotonic).
 * 0 and *first_ns (when the byte was read) when it came; -1 on timeout, or when the process
 * ended without output, or id is unknown. */
int fb_procman_wait_output (fb_procman_t *self, int id, int64_t deadline_ns, int64_t *first_ns);
/* Waits until id has exited and was reaped, at most until deadline_ns. 0 when it was. */
int fb_procman_wait_exit (fb_procman_t *self, int id, int64_t deadline_ns);
/* SIGTERM to id's group, the grace period, SIGKILL, and waits until reaped. 0 when it was
 * (or had already exited); *killed (may be NULL) tells whether SIGKILL was needed. */
int fb_procman_stop (fb_procman_t *self, int id, bool *killed, fb_err_t *err);
/* A copy of id's entry, read under the manager lock. -1 when id is unknown. */
int fb_procman_status (fb_procman_t *self, int id, fb_proc_status_t *status);
/* A snapshot of every entry in use, under the manager lock, into out (at most max). Returns
 * how many were copied. No allocation. */
int fb_procman_list (fb_procman_t *self, fb_proc_status_t *out, int max);
/* Totals since the last call (live and fds: the current values). */
void fb_procman_take_stats (fb_procman_t *self, fb_procman_stats_t *stats);
/* The leak check's count, exact: the pipes and pidfds open in this process (*open_fds) and
 * those the manager holds (*held_fds), both taken while no start or close is half done.
 * -1 when /proc/self/fd cannot be read. */
int fb_procman_count_fds (fb_procman_t *self, int *open_fds, int *held_fds);

#endif
