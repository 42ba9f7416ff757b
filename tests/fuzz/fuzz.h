/* fuzz.h: what every libFuzzer target here shares. A broken invariant aborts with a sentence,
 * so libFuzzer saves the input as a crash and the log says what went wrong. */
#ifndef FB_FUZZ_H
#define FB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FB_FUZZ_CHECK(cond, ...)                                                                   \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf (stderr, "%s:%d: fuzz check failed: %s: ", __FILE__, __LINE__, #cond);         \
            fprintf (stderr, __VA_ARGS__);                                                         \
            fputc ('\n', stderr);                                                                  \
            abort ();                                                                              \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#endif
