/* epollwait.c: once epoll_pwait2 is refused (a kernel before 5.11: ENOSYS; a seccomp filter
 * older than the call, as systemd's SystemCallFilter: EPERM), every later wait rounds up to
 * milliseconds. */
#include "common/epollwait.h"

#include "common/clock.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

static atomic_bool s_no_pwait2;

int fb_epoll_wait_ns (int epfd, struct epoll_event *events, int max, int64_t wait_ns) {
    if (!atomic_load_explicit (&s_no_pwait2, memory_order_relaxed)) {
        struct timespec ts = fb_clock_timespec (wait_ns);
        int n = epoll_pwait2 (epfd, events, max, &ts, NULL);
        if (n >= 0 || errno == EINTR)
            return n;
        atomic_store_explicit (&s_no_pwait2, true, memory_order_relaxed);
    }
    int64_t ms = wait_ns / FB_NS_PER_MS + (wait_ns % FB_NS_PER_MS != 0); /* rounded up */
    return epoll_wait (epfd, events, max, ms < INT_MAX ? (int)ms : INT_MAX);
}
