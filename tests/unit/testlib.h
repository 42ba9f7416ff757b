/* testlib.h: small checks several unit tests share. Include after cmocka.h. */
#ifndef FB_TESTLIB_H
#define FB_TESTLIB_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

/* Entries of a /proc folder of this process ("/proc/self/fd", "/proc/self/task"), without
 * "." and "..". */
static inline int t_count_entries (const char *dir_path) {
    DIR *dir = opendir (dir_path);
    assert_non_null (dir);
    int n = 0;
    for (struct dirent *e; (e = readdir (dir));)
        if (e->d_name[0] != '.')
            n++;
    closedir (dir);
    return n;
}

/* Inflates one whole gzip member into out; asserts it is valid and nothing follows it. */
static inline size_t t_gunzip (const uint8_t *in, size_t len, void *out, size_t cap) {
    z_stream z = {0};
    assert_int_equal (inflateInit2 (&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    assert_int_equal (inflate (&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal (z.avail_in, 0);
    size_t n = cap - z.avail_out;
    inflateEnd (&z);
    return n;
}

#endif
