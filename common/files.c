/* files.c: mkdir -p and write-to-temp-then-rename. */
#include "common/files.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int fb_files_mkdirs (const char *path, fb_err_t *err) {
    char buf[512];
    if (snprintf (buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return fb_err_set (err, FB_EINPUT, "path too long: %s", path);
    for (char *p = buf + 1;; p++) {
        bool end = *p == '\0';
        if (*p == '/' || end) {
            *p = '\0';
            if (mkdir (buf, 0755) != 0 && errno != EEXIST)
                return fb_err_set (err, FB_ESYS, "cannot create folder %s: %s", buf,
                                   strerror (errno));
            if (end)
                return 0;
            *p = '/';
        }
    }
}

int fb_files_open (fb_file_t *file, const char *path, fb_err_t *err) {
    snprintf (file->path, sizeof file->path, "%s", path);
    char tmp[600];
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    file->f = fopen (tmp, "w");
    if (!file->f)
        return fb_err_set (err, FB_ESYS, "cannot write %s: %s", tmp, strerror (errno));
    return 0;
}

int fb_files_commit (fb_file_t *file, fb_err_t *err) {
    if (!file->f)
        return 0;
    char tmp[600];
    snprintf (tmp, sizeof tmp, "%s.tmp", file->path);
    bool ok = fflush (file->f) == 0 && !ferror (file->f);
    ok = fclose (file->f) == 0 && ok;
    file->f = NULL;
    if (!ok || rename (tmp, file->path) != 0)
        return fb_err_set (err, FB_ESYS, "cannot write %s: %s", file->path, strerror (errno));
    return 0;
}

int fb_files_write (const char *path, const char *text, size_t len, fb_err_t *err) {
    fb_file_t file;
    if (fb_files_open (&file, path, err) != 0)
        return -1;
    fwrite (text, 1, len, file.f);
    return fb_files_commit (&file, err);
}

int fb_files_write_json (const char *path, const json_t *json, fb_err_t *err) {
    char *text =
        json_dumps (json, JSON_INDENT (2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION (10));
    if (!text)
        return fb_err_set (err, FB_ENOMEM, "out of memory writing %s", path);
    int rc = fb_files_write (path, text, strlen (text), err);
    free (text);
    return rc;
}
