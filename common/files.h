/* files.h: output files that a crash never leaves half written (temp name, then rename). */
#ifndef FB_FILES_H
#define FB_FILES_H

#include "common/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* mkdir -p. */
int fb_files_mkdirs (const char *path, fb_err_t *err);
/* Writes text (len bytes) to path through path.tmp, fsync and rename. Every step is checked:
 * on failure err names the file and the reason, and neither path.tmp nor a half path is left. */
int fb_files_write (const char *path, const char *text, size_t len, fb_err_t *err);
/* What render prints (into memory first), written to dir/name as fb_files_write does. */
typedef void (fb_files_render_fn) (FILE *out, const void *arg);
int fb_files_write_rendered (const char *dir, const char *name, fb_files_render_fn *render,
                             const void *arg, fb_err_t *err);
/* Writes json, indented, through a temp file. */
int fb_files_write_json (const char *path, const json_t *json, fb_err_t *err);

/* A file written over time (an interval log) as path.tmp and renamed on commit. Between writes
 * it can be closed (fb_files_pause) and reopened for appending (fb_files_resume), so that a
 * writer of many such files holds a descriptor only while it writes. */
typedef struct {
    FILE *f; /* open for writing, or NULL while paused */
    char path[512];
    bool started; /* path.tmp exists */
} fb_file_t;
/* Creates path.tmp (truncating) and leaves it open. */
int fb_files_open (fb_file_t *file, const char *path, fb_err_t *err);
/* Reopens a paused file for appending; nothing to do when it is open. */
int fb_files_resume (fb_file_t *file, fb_err_t *err);
/* Flushes and closes, checked: a write that did not reach the file is an error here. */
int fb_files_pause (fb_file_t *file, fb_err_t *err);
/* Flushes, fsyncs (when sync), closes and renames into place (a paused file is reopened
 * first). On failure path.tmp is removed. Without sync the caller has made the data durable
 * another way (fb_files_sync), so that a crash never leaves a renamed file without its data. */
int fb_files_commit (fb_file_t *file, bool sync, fb_err_t *err);
/* syncfs of the file system that holds dir: one flush for many files about to be renamed,
 * where an fsync each would cost thousands of disk flushes at the end of a large run. */
int fb_files_sync (const char *dir, fb_err_t *err);
/* Closes and removes path.tmp: what a file that lost a write comes to. */
void fb_files_discard (fb_file_t *file);

#endif
