/* health.h: is this host fit to measure? Between two samples: the share of CPU time the
 * hypervisor stole (/proc/stat's steal column) and whether the CPU was thermally throttled
 * (x86: thermal_throttle counters in sysfs; Raspberry Pi: the firmware's get_throttled bits). */
#ifndef FB_HEALTH_H
#define FB_HEALTH_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t steal, total;  /* /proc/stat jiffies at the last sample */
    int64_t throttle_count; /* x86 throttle events at the last sample, -1 unknown */
} fb_health_t;

void fb_health_init (fb_health_t *self);
/* Since the last sample: steal in parts per million of CPU time, throttled 1 when throttling
 * happened (or the Pi reports it is throttled now), else 0. */
void fb_health_sample (fb_health_t *self, int64_t *steal_ppm, int64_t *throttled);

/* The throttling state as the board reports it, for the fingerprint: "none", the Pi
 * firmware's bits spelled out ("0x50005: under-voltage, throttled (since boot: ...)"), or
 * x86's thermal throttle events since boot; "" when the board reports nothing. */
void fb_health_throttling (char *buf, size_t size);

#endif
