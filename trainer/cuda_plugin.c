/* cuda_plugin.c - finding and loading quern-cuda.so (cuda_plugin.h), once per
 * process: only `quern train --device auto|cuda` and the CUDA tests get here,
 * so no other command pays for the CUDA libraries. */
#include "cuda_plugin.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const qcuda_plugin *loaded;
static char load_err[2 * PATH_MAX + 512]; /* two paths and a sentence */

/* dlerror() usually names the file itself; say the path only when it does not. */
static void say_dlerror(const char *path)
{
    const char *why = dlerror();
    if (!why) why = "unknown dlopen error";
    if (strstr(why, path))
        snprintf(load_err, sizeof load_err, "cannot load the CUDA plugin: %s", why);
    else
        snprintf(load_err, sizeof load_err, "cannot load the CUDA plugin %s: %s", path, why);
}

static const qcuda_plugin *open_plugin(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        say_dlerror(path);
        return NULL;
    }
    qcuda_plugin_entry entry = (qcuda_plugin_entry)dlsym(h, QCUDA_PLUGIN_SYMBOL);
    if (!entry) {
        say_dlerror(path);
        dlclose(h);
        return NULL;
    }
    const qcuda_plugin *p = entry();
    if (!p || p->abi != QCUDA_PLUGIN_ABI || p->size_table != sizeof(qcuda_plugin) ||
        p->size_backend != sizeof(qbackend) || p->size_config != sizeof(qgpt_config) ||
        p->size_opts != sizeof(qcuda_opts)) {
        snprintf(load_err, sizeof load_err,
                 "the CUDA plugin %s was built for another quern (plugin ABI %d, this quern %d; "
                 "rebuild it with this tree's `make`)",
                 path, p ? p->abi : -1, QCUDA_PLUGIN_ABI);
        dlclose(h);
        return NULL;
    }
    /* never closed: the CUDA runtime's exit handlers live in it */
    return p;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void load_once(void)
{
    const char *env = getenv("QUERN_CUDA_PLUGIN");
    if (env && *env) {
        loaded = open_plugin(env);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(load_err, sizeof load_err,
                 "cannot find the CUDA plugin: /proc/self/exe: %s (set QUERN_CUDA_PLUGIN)",
                 strerror(errno));
        return;
    }
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0;
    char next_to[PATH_MAX + 32], installed[PATH_MAX + 32];
    snprintf(next_to, sizeof next_to, "%s/" QCUDA_PLUGIN_FILE, exe);
    snprintf(installed, sizeof installed, "%s/../lib/quern/" QCUDA_PLUGIN_FILE, exe);
    /* the first that exists is the one meant: its failure to load is the
     * answer (e.g. libcudart missing), not a reason to try the next */
    if (exists(next_to)) loaded = open_plugin(next_to);
    else if (exists(installed)) loaded = open_plugin(installed);
    else
        snprintf(load_err, sizeof load_err,
                 "no CUDA plugin: neither %s nor %s exists (build it with `make cuda` where "
                 "nvcc is installed, or set QUERN_CUDA_PLUGIN)",
                 next_to, installed);
}

const qcuda_plugin *qcuda_plugin_load(char *err, size_t errlen)
{
    pthread_once(&once, load_once);
    if (!loaded && err && errlen) snprintf(err, errlen, "%s", load_err);
    return loaded;
}
