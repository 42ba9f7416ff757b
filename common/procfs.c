/* procfs.c: one line at a time, the first line that names the field wins. */
#include "common/procfs.h"

#include <stdio.h>
#include <string.h>

int64_t fb_procfs_kb_field (const char *path, const char *field) {
    FILE *f = fopen (path, "r");
    if (!f)
        return 0;
    char line[256];
    size_t len = strlen (field);
    long long kb = 0;
    while (fgets (line, sizeof line, f))
        if (strncmp (line, field, len) == 0 && line[len] == ':' &&
            sscanf (line + len + 1, "%lld kB", &kb) == 1)
            break;
    fclose (f);
    return kb > 0 ? (int64_t)kb * 1024 : 0;
}

int64_t fb_procfs_status_bytes (int pid, const char *field) {
    char path[64];
    if (pid > 0)
        snprintf (path, sizeof path, "/proc/%d/status", pid);
    else
        snprintf (path, sizeof path, "/proc/self/status");
    return fb_procfs_kb_field (path, field);
}
