/* procfs.h: the kB fields of Linux's /proc files (status, meminfo) in bytes. */
#ifndef FB_PROCFS_H
#define FB_PROCFS_H

#include <stdint.h>

/* The field ("VmRSS", "MemTotal", ...) of a "Name:   1234 kB" file in bytes; 0 when the file
 * or the field is not there (a process that is gone). */
int64_t fb_procfs_kb_field (const char *path, const char *field);
/* fb_procfs_kb_field of /proc/<pid>/status; pid 0: this process. */
int64_t fb_procfs_status_bytes (int pid, const char *field);

#endif
