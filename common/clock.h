/* clock.h: time as int64 nanoseconds of CLOCK_MONOTONIC; wall time only for what people read. */
#ifndef FB_CLOCK_H
#define FB_CLOCK_H

#include <stdint.h>
#include <time.h>

#define FB_NS_PER_US 1000LL
#define FB_NS_PER_MS 1000000LL
#define FB_NS_PER_S 1000000000LL

int64_t fb_clock_now_ns (void);
/* Wall clock (CLOCK_REALTIME) in ns since the epoch. */
int64_t fb_clock_wall_ns (void);
/* Go's time.Now(), for the models of Go code: it reads the wall clock and the monotonic clock;
 * returns the wall reading and, when mono_ns is not NULL, the monotonic one. */
int64_t fb_clock_go_now (int64_t *mono_ns);
/* Sleeps until the monotonic instant at_ns (returns at once if it has passed). */
void fb_clock_sleep_until_ns (int64_t at_ns);
/* CPU time this process has used, in ns. */
int64_t fb_clock_process_cpu_ns (void);
/* CPU time used by the calling thread (user + system). */
int64_t fb_clock_thread_cpu_ns (void);
/* ns (an instant on some clock, or a duration, >= 0) as a struct timespec. */
struct timespec fb_clock_timespec (int64_t ns);
/* One spin-wait pause (x86 PAUSE, Arm YIELD): what a loop that spins on a flag or a clock
 * does between looks. */
void fb_clock_pause (void);

#endif
