/* clock.c: monotonic and wall clocks in int64 nanoseconds. */
#include "common/clock.h"

#include <errno.h>
#include <time.h>

static int64_t s_read (clockid_t id) {
    struct timespec ts;
    clock_gettime (id, &ts);
    return (int64_t)ts.tv_sec * FB_NS_PER_S + ts.tv_nsec;
}

int64_t fb_clock_now_ns (void) { return s_read (CLOCK_MONOTONIC); }

int64_t fb_clock_wall_ns (void) { return s_read (CLOCK_REALTIME); }

int64_t fb_clock_process_cpu_ns (void) { return s_read (CLOCK_PROCESS_CPUTIME_ID); }

int64_t fb_clock_thread_cpu_ns (void) { return s_read (CLOCK_THREAD_CPUTIME_ID); }

struct timespec fb_clock_timespec (int64_t ns) {
    return (struct timespec){.tv_sec = (time_t)(ns / FB_NS_PER_S), .tv_nsec = ns % FB_NS_PER_S};
}

void fb_clock_pause (void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause ();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ volatile("yield");
#endif
}

int64_t fb_clock_go_now (int64_t *mono_ns) {
    int64_t wall_ns = fb_clock_wall_ns ();
    int64_t now_ns = fb_clock_now_ns ();
    if (mono_ns)
        *mono_ns = now_ns;
    return wall_ns;
}

void fb_clock_sleep_until_ns (int64_t at_ns) {
    struct timespec ts = fb_clock_timespec (at_ns);
    while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}
