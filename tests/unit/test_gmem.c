/* test_gmem.c: goroutine-sized blocks for the eventbus model (workloads/eventbus/gmem.c): each
 * block is a g record and a 2 KB stack, blocks in use never overlap, a freed block is the next
 * one handed out (Go's gfget takes the last dead g), and fresh ones come from chunks mapped as
 * needed. */
#include "workloads/eventbus/gmem.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define T_BLOCKS 4000 /* more than one chunk holds */

static void test_blocks_do_not_overlap_and_the_last_freed_comes_back_first (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_gmem_t *g = fb_gmem_new (&err);
    assert_non_null (g);
    assert_int_equal (fb_gmem_mapped (g), 0);
    static char *blocks[T_BLOCKS];
    for (int i = 0; i < T_BLOCKS; i++) {
        bool fresh = false;
        blocks[i] = fb_gmem_get (g, &fresh);
        assert_non_null (blocks[i]);
        assert_true (fresh); /* a new g: Go allocates it on its heap */
        memset (blocks[i], i & 0xff, FB_GMEM_BLOCK_BYTES); /* the whole block is ours */
    }
    for (int i = 0; i < T_BLOCKS; i++) /* nothing written later overwrote it */
        assert_int_equal ((unsigned char)blocks[i][FB_GMEM_BLOCK_BYTES - 1], i & 0xff);
    assert_true (fb_gmem_mapped (g) >= (int64_t)T_BLOCKS * FB_GMEM_BLOCK_BYTES);
    int64_t mapped = fb_gmem_mapped (g);
    fb_gmem_put (g, blocks[10]);
    fb_gmem_put (g, blocks[20]);
    bool fresh = true;
    assert_ptr_equal (fb_gmem_get (g, &fresh), blocks[20]);
    assert_false (fresh); /* a dead g taken again costs no allocation */
    assert_ptr_equal (fb_gmem_get (g, NULL), blocks[10]);
    assert_int_equal (fb_gmem_mapped (g), mapped);  /* reused, nothing new mapped */
    assert_int_equal (fb_gmem_reset (g), T_BLOCKS); /* every g ever handed out, as allgs */
    fb_gmem_destroy (&g);
    assert_null (g);
}

/* A frame is at the top of the block's stack, above its g record. */
static void test_a_frame_is_at_the_top_of_the_stack (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_gmem_t *g = fb_gmem_new (&err);
    char *block = fb_gmem_get (g, NULL);
    char *frame = fb_gmem_frame (block, 64);
    assert_ptr_equal (frame + 64, block + FB_GMEM_BLOCK_BYTES);
    assert_true (frame >= block + FB_GMEM_G_BYTES);
    fb_gmem_put (g, block);
    fb_gmem_destroy (&g);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_blocks_do_not_overlap_and_the_last_freed_comes_back_first),
        cmocka_unit_test (test_a_frame_is_at_the_top_of_the_stack),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
