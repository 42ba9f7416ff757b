/* test_manpage.c: fleetbench-scenario(5) (docs/man/fleetbench-scenario.5.scd) lists every param
 * of every workload kind with the default the code uses, and no param the code does not know:
 * the page is written by hand, so this is what keeps it true when a workload changes. */
#include "workloads/workload.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define S_PAGE FB_TEST_DATA "/../../docs/man/fleetbench-scenario.5.scd"

static char *s_read_page (void) {
    FILE *f = fopen (S_PAGE, "rb");
    if (!f)
        fail_msg ("cannot open %s", S_PAGE);
    static char text[256 * 1024];
    size_t n = fread (text, 1, sizeof text - 1, f);
    fclose (f);
    text[n] = '\0';
    return text;
}

/* text as scdoc source writes it: "_" and "*" escaped with a backslash. */
static void s_escape (const char *text, char *buf, size_t size) {
    size_t at = 0;
    for (; *text && at + 2 < size; text++) {
        if (*text == '_' || *text == '*')
            buf[at++] = '\\';
        buf[at++] = *text;
    }
    buf[at] = '\0';
}

/* The section "## kind: KIND" up to the next heading, copied into buf. */
static void s_section (const char *page, const char *kind, char *buf, size_t size) {
    char heading[96];
    snprintf (heading, sizeof heading, "\n## kind: %s\n", kind);
    const char *start = strstr (page, heading);
    if (!start)
        fail_msg ("no \"## kind: %s\" section in %s", kind, S_PAGE);
    start += strlen (heading);
    const char *end = strstr (start, "\n#");
    size_t len = end ? (size_t)(end - start) : strlen (start);
    assert_true (len < size);
    memcpy (buf, start, len);
    buf[len] = '\0';
}

static void test_every_param_is_on_the_page_with_its_default (void **state) {
    (void)state;
    const char *page = s_read_page ();
    const fb_workload_t *const *all = fb_workload_all ();
    for (int i = 0; all[i]; i++) {
        static char section[64 * 1024];
        s_section (page, all[i]->kind, section, sizeof section);
        for (int j = 0; all[i]->params[j].name; j++) {
            const fb_param_spec_t *spec = &all[i]->params[j];
            char name[96], def[96], want[256];
            s_escape (spec->name, name, sizeof name);
            /* No default: the scenario must give it; an empty one is written "empty". */
            s_escape (spec->default_text && spec->default_text[0] ? spec->default_text : "empty",
                      def, sizeof def);
            snprintf (want, sizeof want,
                      spec->default_text ? "\n*%s* (default %s; " : "\n*%s* (%.0srequired; ", name,
                      def);
            if (!strstr (section, want))
                fail_msg ("%s: no line \"%s\" in the page's %s section", S_PAGE, want + 1,
                          all[i]->kind);
        }
    }
}

static void test_the_page_has_no_param_the_code_does_not_know (void **state) {
    (void)state;
    const char *page = s_read_page ();
    const fb_workload_t *const *all = fb_workload_all ();
    for (int i = 0; all[i]; i++) {
        static char section[64 * 1024];
        s_section (page, all[i]->kind, section, sizeof section);
        int on_page = 0, in_code = 0;
        for (const char *p = section; (p = strstr (p, "\n*")); p++)
            on_page++;
        while (all[i]->params[in_code].name)
            in_code++;
        if (on_page != in_code)
            fail_msg ("%s: %d params in the %s section, %d in the code", S_PAGE, on_page,
                      all[i]->kind, in_code);
    }
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_param_is_on_the_page_with_its_default),
        cmocka_unit_test (test_the_page_has_no_param_the_code_does_not_know),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
