/* health.c: CPU steal from /proc/stat, thermal throttling from sysfs. */
#include "common/health.h"

#include <glob.h>
#include <stdio.h>
#include <string.h>

static void s_cpu_times (uint64_t *steal, uint64_t *total) {
    *steal = *total = 0;
    FILE *f = fopen ("/proc/stat", "r");
    if (!f)
        return;
    unsigned long long v[10] = {0};
    /* cpu user nice system idle iowait irq softirq steal guest guest_nice */
    if (fscanf (f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
                &v[5], &v[6], &v[7]) == 8) {
        for (int i = 0; i < 8; i++)
            *total += v[i];
        *steal = v[7];
    }
    fclose (f);
}

static int64_t s_read_number (const char *path, int base) {
    FILE *f = fopen (path, "r");
    if (!f)
        return -1;
    char buf[64] = "";
    long long v = -1;
    if (fgets (buf, sizeof buf, f))
        sscanf (buf, base == 16 ? "%llx" : "%lld", &v);
    fclose (f);
    return v;
}

/* Sum of every CPU's core and package throttle events; -1 when the kernel has none. */
static int64_t s_x86_throttle_count (void) {
    glob_t g;
    int64_t sum = -1;
    if (glob ("/sys/devices/system/cpu/cpu*/thermal_throttle/*_throttle_count", 0, NULL, &g) == 0) {
        sum = 0;
        for (size_t i = 0; i < g.gl_pathc; i++) {
            int64_t v = s_read_number (g.gl_pathv[i], 10);
            sum += v > 0 ? v : 0;
        }
    }
    globfree (&g);
    return sum;
}

void fb_health_init (fb_health_t *self) {
    s_cpu_times (&self->steal, &self->total);
    self->throttle_count = s_x86_throttle_count ();
}

void fb_health_sample (fb_health_t *self, int64_t *steal_ppm, int64_t *throttled) {
    uint64_t steal, total;
    s_cpu_times (&steal, &total);
    uint64_t dt = total - self->total, ds = steal - self->steal;
    *steal_ppm = total > self->total && steal >= self->steal ? (int64_t)(ds * 1000000 / dt) : 0;
    self->steal = steal;
    self->total = total;
    int64_t count = s_x86_throttle_count ();
    *throttled = count >= 0 && self->throttle_count >= 0 && count > self->throttle_count;
    self->throttle_count = count;
    /* Raspberry Pi firmware: bit 2 "currently throttled", bit 1 "arm frequency capped". */
    int64_t pi = s_read_number ("/sys/devices/platform/soc/soc:firmware/get_throttled", 16);
    if (pi > 0 && (pi & 0x6))
        *throttled = 1;
}

void fb_health_throttling (char *buf, size_t size) {
    static const char *const bits[] = {"under-voltage", "frequency capped", "throttled",
                                       "soft temperature limit"};
    int64_t pi = s_read_number ("/sys/devices/platform/soc/soc:firmware/get_throttled", 16);
    if (pi >= 0) {
        if (pi == 0) {
            snprintf (buf, size, "none");
            return;
        }
        int len = snprintf (buf, size, "0x%llx:", (long long)pi);
        for (int b = 0; b < 4 && len > 0 && (size_t)len < size; b++) {
            if (pi & (1 << b))
                len += snprintf (buf + len, size - (size_t)len, " %s now", bits[b]);
            if (pi & (1 << (b + 16)))
                len += snprintf (buf + len, size - (size_t)len, " %s since boot", bits[b]);
        }
        return;
    }
    int64_t count = s_x86_throttle_count ();
    if (count < 0)
        snprintf (buf, size, "%s", "");
    else if (count == 0)
        snprintf (buf, size, "none");
    else
        snprintf (buf, size, "%lld thermal throttle events since boot", (long long)count);
}
