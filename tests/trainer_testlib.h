/* trainer_testlib.h - helpers shared by tests/test_trainer_cuda_*.c. */
#ifndef QUERN_TRAINER_TESTLIB_H
#define QUERN_TRAINER_TESTLIB_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trainer/cuda_plugin.h"

/* The tests live in $BUILD/tests, the plugin in $BUILD: point the loader at
 * it unless the caller chose one. */
static inline void default_plugin_path(void)
{
    if (getenv("QUERN_CUDA_PLUGIN")) return;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 32);
    if (n <= 0) return;
    exe[n] = 0;
    for (int up = 0; up < 2; up++) { /* $BUILD/tests/test_x -> $BUILD */
        char *slash = strrchr(exe, '/');
        if (!slash) return;
        *slash = 0;
    }
    strcat(exe, "/" QCUDA_PLUGIN_FILE);
    setenv("QUERN_CUDA_PLUGIN", exe, 1);
}

#endif
