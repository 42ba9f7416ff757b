/* files.c: mkdir -p and write-to-temp-then-rename, every step checked (a full disk shows up
 * in fwrite, fflush, fsync or close, whichever comes first). */
#include "common/files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static void s_tmp_path (const fb_file_t *file, char *tmp, size_t size) {
    snprintf (tmp, size, "%s.tmp", file->path);
}

static int s_failed (const char *path, int errnum, fb_err_t *err) {
    return fb_err_set (err, FB_ESYS, "cannot write %s: %s", path, strerror (errnum));
}

int fb_files_open (fb_file_t *file, const char *path, fb_err_t *err) {
    if (snprintf (file->path, sizeof file->path, "%s", path) >= (int)sizeof file->path)
        return fb_err_set (err, FB_EINPUT, "path too long: %s", path);
    char tmp[600];
    s_tmp_path (file, tmp, sizeof tmp);
    file->f = fopen (tmp, "w");
    file->started = file->f != NULL;
    if (!file->f)
        return s_failed (file->path, errno, err);
    return 0;
}

int fb_files_resume (fb_file_t *file, fb_err_t *err) {
    if (file->f)
        return 0;
    char tmp[600];
    s_tmp_path (file, tmp, sizeof tmp);
    file->f = fopen (tmp, "a");
    if (!file->f)
        return s_failed (file->path, errno, err);
    return 0;
}

/* fflush, fsync if asked, fclose: the first errno of the three, 0 when all went well. */
static int s_close (FILE **f_p, bool sync) {
    FILE *f = *f_p;
    *f_p = NULL;
    int errnum = 0;
    if (fflush (f) != 0 || ferror (f))
        errnum = errno ? errno : EIO;
    if (!errnum && sync && fsync (fileno (f)) != 0)
        errnum = errno;
    if (fclose (f) != 0 && !errnum)
        errnum = errno;
    return errnum;
}

int fb_files_pause (fb_file_t *file, fb_err_t *err) {
    if (!file->f)
        return 0;
    /* errno is not cleared: when an earlier fprintf failed, it still says why */
    int errnum = s_close (&file->f, false);
    return errnum ? s_failed (file->path, errnum, err) : 0;
}

int fb_files_commit (fb_file_t *file, bool sync, fb_err_t *err) {
    if (!file->started)
        return 0;
    char tmp[600];
    s_tmp_path (file, tmp, sizeof tmp);
    if (fb_files_resume (file, err) != 0) {
        fb_files_discard (file);
        return -1;
    }
    errno = 0;
    int errnum = s_close (&file->f, sync);
    if (!errnum && rename (tmp, file->path) != 0)
        errnum = errno;
    if (errnum) {
        fb_files_discard (file);
        return s_failed (file->path, errnum, err);
    }
    file->started = false;
    return 0;
}

void fb_files_discard (fb_file_t *file) {
    if (file->f)
        fclose (file->f);
    file->f = NULL;
    if (file->started) {
        char tmp[600];
        s_tmp_path (file, tmp, sizeof tmp);
        unlink (tmp);
    }
    file->started = false;
}

int fb_files_write (const char *path, const char *text, size_t len, fb_err_t *err) {
    fb_file_t file;
    if (fb_files_open (&file, path, err) != 0)
        return -1;
    errno = 0;
    if (len > 0 && fwrite (text, 1, len, file.f) != len) {
        int errnum = errno ? errno : EIO;
        fb_files_discard (&file);
        return s_failed (path, errnum, err);
    }
    return fb_files_commit (&file, true, err);
}

int fb_files_sync (const char *dir, fb_err_t *err) {
    int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return fb_err_set (err, FB_ESYS, "cannot open %s: %s", dir, strerror (errno));
    int rc = syncfs (fd);
    int errnum = errno;
    close (fd);
    if (rc != 0)
        return fb_err_set (err, FB_ESYS, "cannot write the files in %s: %s", dir,
                           strerror (errnum));
    return 0;
}

int fb_files_write_json (const char *path, const json_t *json, fb_err_t *err) {
    /* Straight to the temp file: a fleet's run.json is tens of MB, and its text in memory
     * (grown by doubling) came on top of the tree at the run's peak. */
    fb_file_t file = {0};
    if (fb_files_open (&file, path, err) != 0)
        return -1;
    errno = 0;
    if (json_dumpf (json, file.f,
                    JSON_INDENT (2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION (10)) != 0) {
        int errnum = errno ? errno : ENOMEM;
        fb_files_discard (&file);
        return s_failed (path, errnum, err);
    }
    return fb_files_commit (&file, true, err);
}

int fb_files_write_rendered (const char *dir, const char *name, fb_files_render_fn *render,
                             const void *arg, fb_err_t *err) {
    char *text = NULL, path[700];
    size_t len = 0;
    FILE *mem = open_memstream (&text, &len);
    if (!mem)
        return fb_err_set (err, FB_ENOMEM, "out of memory writing %s", name);
    render (mem, arg);
    fclose (mem);
    snprintf (path, sizeof path, "%s/%s", dir, name);
    int rc = fb_files_write (path, text, len, err);
    free (text);
    return rc;
}
