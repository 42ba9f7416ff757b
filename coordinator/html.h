/* html.h: report.html, one self-contained page (inline SVG and CSS, no script, no request to
 * anything) built from run.json's content and the .hlog files. The end of a run hands it
 * run.json's parts as it prints them; `coord report RUN_DIR` reads the folder's run.json: the
 * same content, the same page. */
#ifndef FB_HTML_H
#define FB_HTML_H

#include "common/err.h"

#include <jansson.h>
#include <stdio.h>

/* Reads dir/run.json and dir/<host>.<workload>.hlog, writes dir/report.html (temp name, then
 * rename). A missing, half-written or damaged file is an error naming it. */
int fb_html_write_dir (const char *dir, fb_err_t *err);
/* The same page from run.json's parts: head is run.json but for its workloads (hosts
 * included); workload (arg, i, err) gives the i-th of n_workloads as a new reference, or NULL
 * with err set. One workload's tree is held at a time: what a fleet of hosts needs. */
typedef json_t *(fb_html_workload_fn)(const void *arg, int i, fb_err_t *err);
int fb_html_write (const char *dir, const json_t *head, int n_workloads,
                   fb_html_workload_fn *workload, const void *arg, fb_err_t *err);

/* The page's head (title escaped, the stylesheet inline) and its end. */
void fb_html_begin (FILE *out, const char *title);
void fb_html_end (FILE *out);

#endif
