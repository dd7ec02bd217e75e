/* cuda_export.cu - the plugin's one exported symbol (cuda_plugin.h): the
 * table through which quern's C side reaches the CUDA backend. Every other
 * symbol of quern-cuda.so is kept local by trainer/cuda_plugin.map. */
#include "cuda_backend.h"

static const qcuda_plugin table = {
    QCUDA_PLUGIN_ABI,
    sizeof(qcuda_plugin),
    sizeof(qbackend),
    sizeof(qgpt_config),
    sizeof(qcuda_opts),
    qcuda_opts_default,
    qcuda_device_count,
    qbackend_cuda_create_opts,
    qcuda_peak_flops_by_name,
    qbackend_cuda_device_name,
    qbackend_cuda_peak_flops,
    qbackend_cuda_memory_bytes,
};

extern "C" const qcuda_plugin *quern_cuda_plugin(void)
{
    return &table;
}
