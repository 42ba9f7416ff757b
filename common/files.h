/* files.h: output files that a crash never leaves half written (temp name, then rename). */
#ifndef FB_FILES_H
#define FB_FILES_H

#include "common/err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* mkdir -p. */
int fb_files_mkdirs (const char *path, fb_err_t *err);
/* Writes text (len bytes) to path through path.tmp + rename. */
int fb_files_write (const char *path, const char *text, size_t len, fb_err_t *err);
/* Writes json, indented, through a temp file. */
int fb_files_write_json (const char *path, const json_t *json, fb_err_t *err);

/* A file written over time (an interval log): open as path.tmp, renamed on commit. */
typedef struct {
    FILE *f;
    char path[512];
} fb_file_t;
int fb_files_open (fb_file_t *file, const char *path, fb_err_t *err);
/* Flushes, closes and renames into place. */
int fb_files_commit (fb_file_t *file, fb_err_t *err);

#endif
