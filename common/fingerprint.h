/* fingerprint.h: what a host is, so results from different hardware can be told apart. */
#ifndef FB_FINGERPRINT_H
#define FB_FINGERPRINT_H

#include <stdint.h>

typedef struct {
    char hostname[64];
    char arch[32];        /* uname machine: x86_64, aarch64, armv7l */
    char cpu_model[128];  /* /proc/cpuinfo "model name" (x86) or "Model"/"Hardware" (ARM) */
    int cores;            /* online CPUs */
    int mhz_max;          /* cpufreq cpuinfo_max_freq, else cpuinfo "cpu MHz"; 0 unknown */
    int mhz_min;          /* cpufreq cpuinfo_min_freq; 0 unknown */
    int64_t memory_bytes; /* MemTotal */
    char kernel[64];      /* uname release */
    char libc[32];        /* "glibc 2.36" */
    char openssl[64];     /* OpenSSL_version (OPENSSL_VERSION) */
    char build[64];       /* fleetbench version and git describe */
    char clocksource[32]; /* current_clocksource */
    char board[128];      /* /proc/device-tree/model, "" when absent */
    char cpu_flags[128];  /* the ones that matter here: aes sha1 sha2 pmull neon asimd avx2 */
    char throttling[64];  /* "none", or what the board reports: the Pi firmware's
                             get_throttled bits ("0x50005: under-voltage, throttled"), x86
                             thermal throttle events since boot; "" when unknown */
} fb_fingerprint_t;

/* Reads this host. Never fails: what cannot be read stays empty or 0. */
void fb_fingerprint_read (fb_fingerprint_t *fp);

#endif
