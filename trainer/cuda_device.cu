/* cuda_device.cu - device discovery, options from the environment, and the
 * table of peak FLOP/s used for model-FLOPs utilisation. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_common.h"

#include "cuda_backend.h"

int qcuda_device_count(void)
{
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        (void)cudaGetLastError(); /* no driver or no GPU: not sticky, clear it */
        return 0;
    }
    return n;
}

static int env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    if (!v || !*v) return dflt;
    char *end;
    long x = strtol(v, &end, 10);
    return *end ? dflt : (int)x;
}

void qcuda_opts_default(qcuda_opts *o)
{
    o->fp32 = env_int("QUERN_CUDA_FP32", 0) != 0;
    o->recompute = env_int("QUERN_CUDA_RECOMPUTE", 0) != 0;
    o->fuse = env_int("QUERN_CUDA_FUSE", 1) != 0;
    o->device = env_int("QUERN_CUDA_DEVICE", 0);
}

/* Dense (no sparsity) bf16 tensor-core peaks with fp32 accumulation, from
 * NVIDIA's data sheets. More specific names come first: a name matches when
 * it occurs in the device name as a whole word ("A10" does not match "A100"
 * or "A10G", "L40" does not match "L40S"). */
static const struct {
    const char *name;
    double flops;
} peaks[] = {
    { "H100 PCIe", 756e12 }, { "H100 NVL", 835e12 }, { "H100", 989e12 },
    { "H200 NVL", 835e12 }, { "H200", 989e12 }, { "GH200", 989e12 },
    { "H800 PCIe", 756e12 }, { "H800", 989e12 }, { "H20", 148e12 },
    { "A100", 312e12 }, { "A800", 312e12 }, { "A30", 165e12 }, { "A40", 149.7e12 },
    { "A10", 125e12 }, { "L40S", 362e12 }, { "L40", 181e12 }, { "L4", 121e12 },
    { "B200", 2250e12 }, { "B100", 1750e12 },
};

static int word_in(const char *hay, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = strstr(hay, word); p; p = strstr(p + 1, word)) {
        int left_ok = p == hay || !isalnum((unsigned char)p[-1]);
        int right_ok = !isalnum((unsigned char)p[n]);
        if (left_ok && right_ok) return 1;
    }
    return 0;
}

double qcuda_peak_flops_by_name(const char *name)
{
    if (!name) return 0;
    for (size_t i = 0; i < sizeof peaks / sizeof peaks[0]; i++)
        if (word_in(name, peaks[i].name)) return peaks[i].flops;
    return 0;
}
