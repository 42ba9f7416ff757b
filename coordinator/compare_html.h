/* compare_html.h: `coord compare --html FILE`: the hardware comparison as a page: per workload
 * and metric, each row's p50 and throughput as a ratio to the reference with its interval
 * whiskers, and the table under it. Built from the comparison's JSON (compare.h). */
#ifndef FB_COMPARE_HTML_H
#define FB_COMPARE_HTML_H

#include "common/err.h"

#include <jansson.h>

int fb_compare_html_write (const json_t *comparison, const char *path, fb_err_t *err);

#endif
