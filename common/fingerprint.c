/* fingerprint.c: reads what this host is (CPU, cores, clock speed, memory, kernel, libraries,
 * board) from uname, /proc and /sys, so results from a Pi 4 and an x86 server are never
 * mixed up. Linux only; on anything else the fields stay empty. */
#include "common/fingerprint.h"
#include "common/procfs.h"

#include "common/health.h"

#include <ctype.h>
#include <gnu/libc-version.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef FB_BUILD
#define FB_BUILD "unknown"
#endif

#define S_CPUFREQ_DIR "/sys/devices/system/cpu/cpu0/cpufreq/"

/* The CPU features that change what the workloads measure (crypto in Tor, SIMD in hashing),
 * in the order they are printed. */
static const char *s_flag_names[] = {"aes", "sha1", "sha2", "pmull", "neon", "asimd", "avx2"};
#define S_N_FLAGS (sizeof s_flag_names / sizeof s_flag_names[0])

/* What /proc/cpuinfo says, first value of each key (every core repeats them). */
typedef struct {
    char model_name[128]; /* x86, and 32-bit ARM kernels ("ARMv7 Processor rev 4 (v7l)") */
    char model[128];      /* Raspberry Pi kernels: "Raspberry Pi 4 Model B Rev 1.4" */
    char hardware[128];   /* older ARM kernels: "BCM2835" */
    char cpu_part[16];    /* ARM: "0xd08" */
    char cpu_implementer[16];
    double cpu_mhz; /* x86: the current clock of cpu0 */
    bool flags_seen;
    bool flags[S_N_FLAGS];
} s_cpuinfo_t;

/* Host strings longer than our fields are cut: a fingerprint is for people to read, and its
 * fields are sized so that real values fit. */
static void s_copy (char *dst, size_t cap, const char *src) {
    size_t len = strnlen (src, cap - 1);
    memcpy (dst, src, len);
    dst[len] = '\0';
}

static void s_append (char *dst, size_t cap, const char *src) {
    size_t used = strnlen (dst, cap - 1);
    s_copy (dst + used, cap - used, src);
}

static void s_trim_right (char *s) {
    size_t len = strlen (s);
    while (len > 0 && (isspace ((unsigned char)s[len - 1]) || s[len - 1] == '\0'))
        s[--len] = '\0';
}

/* The first line of a small text file, without its newline; "" when it cannot be read. */
static void s_read_line (const char *path, char *dst, size_t cap) {
    dst[0] = '\0';
    FILE *file = fopen (path, "r");
    if (!file)
        return;
    if (!fgets (dst, (int)cap, file))
        dst[0] = '\0';
    fclose (file);
    s_trim_right (dst);
}

static long long s_read_number (const char *path) {
    char line[64];
    s_read_line (path, line, sizeof line);
    return line[0] ? strtoll (line, NULL, 10) : 0;
}

/* Marks the flags we care about among a space separated feature list. Intel's SHA extensions
 * are called sha_ni and cover SHA-1 and SHA-256; we report them as sha2, the one that
 * matters for TLS and Tor. */
static void s_parse_flags (const char *list, s_cpuinfo_t *info) {
    char *copy = strdup (list);
    if (!copy)
        return;
    char *save = NULL;
    for (char *word = strtok_r (copy, " \t", &save); word; word = strtok_r (NULL, " \t", &save)) {
        const char *name = strcmp (word, "sha_ni") == 0 ? "sha2" : word;
        for (size_t i = 0; i < S_N_FLAGS; i++)
            if (strcmp (name, s_flag_names[i]) == 0)
                info->flags[i] = true;
    }
    free (copy);
}

static void s_cpuinfo_line (s_cpuinfo_t *info, const char *key, const char *value) {
    struct {
        const char *key;
        char *dst;
        size_t cap;
    } texts[] = {
        {"model name", info->model_name, sizeof info->model_name},
        {"Model", info->model, sizeof info->model},
        {"Hardware", info->hardware, sizeof info->hardware},
        {"CPU part", info->cpu_part, sizeof info->cpu_part},
        {"CPU implementer", info->cpu_implementer, sizeof info->cpu_implementer},
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (strcmp (key, texts[i].key) == 0 && texts[i].dst[0] == '\0')
            s_copy (texts[i].dst, texts[i].cap, value);
    if (strcmp (key, "cpu MHz") == 0 && info->cpu_mhz == 0)
        info->cpu_mhz = strtod (value, NULL);
    /* Only the first core's list: every core repeats it, and big.LITTLE cores share these. */
    if (!info->flags_seen && (strcmp (key, "flags") == 0 || strcmp (key, "Features") == 0)) {
        s_parse_flags (value, info);
        info->flags_seen = true;
    }
}

static void s_read_cpuinfo (s_cpuinfo_t *info) {
    memset (info, 0, sizeof *info);
    FILE *file = fopen ("/proc/cpuinfo", "r");
    if (!file)
        return;
    char *line = NULL;
    size_t cap = 0;
    while (getline (&line, &cap, file) > 0) {
        char *colon = strchr (line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        char *value = colon + 1;
        while (*value == ' ' || *value == '\t')
            value++;
        s_trim_right (line);
        s_trim_right (value);
        s_cpuinfo_line (info, line, value);
    }
    free (line);
    fclose (file);
}

/* ARM's own cores by "CPU part" (implementer 0x41), the ones on Raspberry Pis and common
 * boards; lscpu has the full table. */
static const char *s_arm_core_name (const s_cpuinfo_t *info) {
    static const struct {
        long part;
        const char *name;
    } cores[] = {
        {0xc07, "Cortex-A7"},   {0xc0f, "Cortex-A15"},  {0xd03, "Cortex-A53"},
        {0xd04, "Cortex-A35"},  {0xd05, "Cortex-A55"},  {0xd07, "Cortex-A57"},
        {0xd08, "Cortex-A72"},  {0xd09, "Cortex-A73"},  {0xd0b, "Cortex-A76"},
        {0xd0c, "Neoverse-N1"}, {0xd40, "Neoverse-V1"}, {0xd49, "Neoverse-N2"},
    };
    if (strtol (info->cpu_implementer, NULL, 16) != 0x41)
        return NULL;
    long part = strtol (info->cpu_part, NULL, 16);
    for (size_t i = 0; i < sizeof cores / sizeof cores[0]; i++)
        if (cores[i].part == part)
            return cores[i].name;
    return NULL;
}

/* x86: "model name". ARM: the board's "Model" or "Hardware" line, with the core named after
 * it when known ("Raspberry Pi 4 Model B Rev 1.4 (Cortex-A72)"), since 32-bit ARM kernels'
 * "model name" says only "ARMv7 Processor". */
static void s_cpu_model (const s_cpuinfo_t *info, const char *arch, char *dst, size_t cap) {
    bool x86 = strcmp (arch, "x86_64") == 0 || (arch[0] == 'i' && strstr (arch, "86"));
    const char *core = s_arm_core_name (info);
    const char *name = info->model[0]      ? info->model
                       : info->hardware[0] ? info->hardware
                                           : info->model_name;
    if (x86 || !info->cpu_part[0])
        s_copy (dst, cap, info->model_name[0] ? info->model_name : name);
    else if (name[0] && core) {
        s_copy (dst, cap, name);
        s_append (dst, cap, " (");
        s_append (dst, cap, core);
        s_append (dst, cap, ")");
    } else if (name[0])
        s_copy (dst, cap, name);
    else if (core)
        s_copy (dst, cap, core);
    else
        snprintf (dst, cap, "CPU part %s", info->cpu_part);
}

static void s_flags_text (const s_cpuinfo_t *info, char *dst, size_t cap) {
    dst[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < S_N_FLAGS; i++) {
        if (!info->flags[i])
            continue;
        int n = snprintf (dst + used, cap - used, "%s%s", used ? " " : "", s_flag_names[i]);
        if (n < 0 || (size_t)n >= cap - used)
            break;
        used += (size_t)n;
    }
}

static void s_read_cpu (fb_fingerprint_t *fp) {
    s_cpuinfo_t info;
    s_read_cpuinfo (&info);
    s_cpu_model (&info, fp->arch, fp->cpu_model, sizeof fp->cpu_model);
    s_flags_text (&info, fp->cpu_flags, sizeof fp->cpu_flags);
    long cores = sysconf (_SC_NPROCESSORS_ONLN);
    fp->cores = cores > 0 ? (int)cores : 0;
    /* cpufreq gives the range the governor may use; without it (VMs, some boards) the
     * clock cpu0 runs at now is the best we have. */
    long long max_khz = s_read_number (S_CPUFREQ_DIR "cpuinfo_max_freq");
    long long min_khz = s_read_number (S_CPUFREQ_DIR "cpuinfo_min_freq");
    if (max_khz > 0)
        fp->mhz_max = (int)(max_khz / 1000);
    else if (info.cpu_mhz > 0 && info.cpu_mhz < 1e6)
        fp->mhz_max = (int)(info.cpu_mhz + 0.5);
    if (min_khz > 0)
        fp->mhz_min = (int)(min_khz / 1000);
}

void fb_fingerprint_read (fb_fingerprint_t *fp) {
    memset (fp, 0, sizeof *fp);
    if (gethostname (fp->hostname, sizeof fp->hostname) != 0)
        fp->hostname[0] = '\0';
    fp->hostname[sizeof fp->hostname - 1] = '\0';
    struct utsname uts;
    if (uname (&uts) == 0) {
        s_copy (fp->arch, sizeof fp->arch, uts.machine);
        s_copy (fp->kernel, sizeof fp->kernel, uts.release);
    }
    s_read_cpu (fp);
    fp->memory_bytes = fb_procfs_kb_field ("/proc/meminfo", "MemTotal");
    snprintf (fp->libc, sizeof fp->libc, "glibc %s", gnu_get_libc_version ());
    s_copy (fp->openssl, sizeof fp->openssl, OpenSSL_version (OPENSSL_VERSION));
    s_copy (fp->build, sizeof fp->build, FB_BUILD);
    s_read_line ("/sys/devices/system/clocksource/clocksource0/current_clocksource",
                 fp->clocksource, sizeof fp->clocksource);
    /* The device tree's model is a NUL-terminated string with no newline: fgets keeps the
     * NUL and s_trim_right drops it. */
    s_read_line ("/proc/device-tree/model", fp->board, sizeof fp->board);
    fb_health_throttling (fp->throttling, sizeof fp->throttling);
}
