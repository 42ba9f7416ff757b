/* test_gheap.c: the pages standing for Go's heap in the eventbus model
 * (workloads/eventbus/gheap.c): only growth past the most the heap has held touches pages,
 * each page once, and the share asked for is read before it is written, which the kernel
 * answers with a second fault (the zero page mapped, then copied). */
#include "workloads/eventbus/gheap.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#define T_PAGES 64

static long s_faults (void) {
    struct rusage ru;
    getrusage (RUSAGE_THREAD, &ru);
    return ru.ru_minflt;
}

static fb_gheap_t *s_heap_new (double read_first) {
    fb_err_t err = {0};
    fb_gheap_t *heap = fb_gheap_new (read_first, &err);
    assert_non_null (heap);
    return heap;
}

/* Minor faults of this thread while the heap grows by T_PAGES pages. */
static long s_faults_growing (double read_first) {
    fb_gheap_t *heap = s_heap_new (read_first);
    long page = sysconf (_SC_PAGESIZE);
    long before = s_faults ();
    fb_gheap_reach (heap, T_PAGES * page);
    long faults = s_faults () - before;
    fb_gheap_destroy (&heap);
    assert_null (heap);
    return faults;
}

static void test_only_growth_past_the_most_held_touches_pages (void **state) {
    (void)state;
    fb_gheap_t *heap = s_heap_new (0.5);
    long page = sysconf (_SC_PAGESIZE);
    assert_int_equal (fb_gheap_touched (heap), 0);
    fb_gheap_reach (heap, 1);
    assert_int_equal (fb_gheap_touched (heap), page);
    fb_gheap_reach (heap, 10 * page + 1);
    assert_int_equal (fb_gheap_touched (heap), 11 * page);
    long before = s_faults ();
    fb_gheap_reach (heap, 5 * page); /* the heap shrank after a cycle: its pages stay */
    fb_gheap_reach (heap, 11 * page);
    assert_int_equal (s_faults () - before, 0);
    assert_int_equal (fb_gheap_touched (heap), 11 * page);
    fb_gheap_destroy (&heap);
}

static void test_pages_read_first_cost_the_kernel_a_second_fault (void **state) {
    (void)state;
    long written_first = s_faults_growing (0);
    long read_first = s_faults_growing (1);
    long quarter = s_faults_growing (0.25);
    /* up to T_PAGES / 4 more: a sanitizer's shadow pages, read as the heap's are touched */
    assert_true (written_first >= T_PAGES && written_first < T_PAGES + T_PAGES / 4);
    assert_true (read_first >= 2 * T_PAGES && read_first < 2 * T_PAGES + T_PAGES / 4);
    assert_true (quarter >= T_PAGES + T_PAGES / 4 && quarter < T_PAGES + T_PAGES / 2);
}

/* Threads reaching ever higher, interleaved: every page is touched, and the most any reached
 * stands. */
#define T_THREADS 4
#define T_STEPS 64

typedef struct {
    fb_gheap_t *heap;
    int index;
    long faults; /* this thread's, while it reached */
} t_reacher_t;

static void *s_reacher_main (void *arg) {
    t_reacher_t *r = arg;
    long page = sysconf (_SC_PAGESIZE);
    long before = s_faults ();
    for (int step = 0; step < T_STEPS; step++)
        fb_gheap_reach (r->heap, ((int64_t)step * T_THREADS + r->index + 1) * page);
    r->faults = s_faults () - before;
    return NULL;
}

static void test_threads_reaching_together_touch_every_page_and_keep_the_most (void **state) {
    (void)state;
    fb_gheap_t *heap = s_heap_new (0);
    t_reacher_t reachers[T_THREADS];
    pthread_t threads[T_THREADS];
    for (int i = 0; i < T_THREADS; i++) {
        reachers[i] = (t_reacher_t){.heap = heap, .index = i};
        assert_int_equal (pthread_create (&threads[i], NULL, s_reacher_main, &reachers[i]), 0);
    }
    long faults = 0;
    for (int i = 0; i < T_THREADS; i++) {
        pthread_join (threads[i], NULL);
        faults += reachers[i].faults;
    }
    long pages = T_THREADS * T_STEPS;
    assert_int_equal (fb_gheap_touched (heap), pages * sysconf (_SC_PAGESIZE));
    /* up to a quarter more: a sanitizer's shadow pages, read as the heap's are touched */
    assert_true (faults >= pages && faults < pages + pages / 4);
    assert_true (fb_gheap_reserved (heap) >= (int64_t)64 << 20);
    fb_gheap_destroy (&heap);
}

/* Marking scans the live heap a pointer word at a time and marks what the words point to:
 * some objects, at most one per word; each cycle starts with no mark; a cycle scans no more
 * than the pages touched, and a range past its end adds nothing. */
static void test_marking_marks_what_the_live_heap_points_to_anew_each_cycle (void **state) {
    (void)state;
    enum { MB = 1024 * 1024 };
    fb_gheap_t *heap = s_heap_new (0);
    fb_gheap_reach (heap, MB);
    assert_int_equal (fb_gheap_mark_begin (heap, 2 * MB), MB); /* only what was touched */
    fb_gheap_scan (heap, 0, MB / 2);
    int64_t half = fb_gheap_marked (heap);
    assert_true (half > 0);
    fb_gheap_scan (heap, MB / 2, 4 * MB); /* past the end: stops there */
    int64_t all = fb_gheap_marked (heap);
    assert_true (all > half);
    assert_true (all <= MB / FB_GHEAP_PTR_BYTES);
    assert_int_equal (fb_gheap_mark_begin (heap, MB / 4), MB / 4);
    assert_int_equal (fb_gheap_marked (heap), 0);
    assert_int_equal (fb_gheap_mark_begin (heap, 0), 0);
    fb_gheap_destroy (&heap);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_only_growth_past_the_most_held_touches_pages),
        cmocka_unit_test (test_pages_read_first_cost_the_kernel_a_second_fault),
        cmocka_unit_test (test_threads_reaching_together_touch_every_page_and_keep_the_most),
        cmocka_unit_test (test_marking_marks_what_the_live_heap_points_to_anew_each_cycle),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
