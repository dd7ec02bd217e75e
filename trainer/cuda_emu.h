/* cuda_emu.h - a CPU emulation of the slice of CUDA, WMMA and cuBLASLt that
 * the CUDA backend uses, so that the backend's own source (trainer/cuda_*.cu)
 * runs and is checked against the C reference on a machine without a GPU:
 * `bash trainer/gpu_check.sh --emulate` (the .cu files are compiled by g++
 * with this header forced in; their launches are rewritten by the script).
 *
 * Not a simulator of performance or of memory ordering between blocks: every
 * CUDA thread is a fiber (ucontext) on one OS thread, the blocks of a grid run
 * one after another, and a fiber runs until it reaches a barrier
 * (__syncthreads, __syncwarp, a shuffle, which waits for its warp). What it
 * does check, beyond the arithmetic and the indexing:
 *   - barriers reached by only part of a block or warp (a deadlock: aborts),
 *   - shuffles or __syncwarp in a warp where some lanes have exited (aborts),
 *   - reads of memory nobody wrote: cudaMalloc'd and shared memory start as
 *     0xFF bytes (NaN as floats and bf16), so they poison the results,
 *   - cuBLASLt shapes and leading dimensions that do not fit (aborts).
 * WMMA fragments hold the whole 16x16 tile in every lane; cuBLASLt products
 * are plain loops with fp32 accumulation (GELU: the tanh approximation).
 *
 * Define QUERN_CUDA_EMU_IMPL in exactly one translation unit. */
#ifndef QUERN_TRAINER_CUDA_EMU_H
#define QUERN_TRAINER_CUDA_EMU_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <functional>

/* ---- qualifiers and intrinsics ---- */
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static /* one copy per function: blocks run one at a time */
#define __align__(n) alignas(n)

struct uint3 { unsigned x, y, z; };
struct dim3 {
    unsigned x, y, z;
    dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};
struct uint4 { unsigned x, y, z, w; };
static inline uint4 make_uint4(unsigned a, unsigned b, unsigned c, unsigned d)
{
    uint4 u = { a, b, c, d };
    return u;
}
static inline int min(int a, int b) { return a < b ? a : b; }
static inline int max(int a, int b) { return a > b ? a : b; }

struct emu_thread {
    uint3 tidx, bidx;
    dim3 bdim, gdim;
};
extern emu_thread *emu_cur;
#define threadIdx (emu_cur->tidx)
#define blockIdx (emu_cur->bidx)
#define blockDim (emu_cur->bdim)
#define gridDim (emu_cur->gdim)

void emu_syncthreads(void);
void emu_syncwarp(void);
float emu_shfl_xor(float v, int lane_mask);
void *emu_dyn_smem(void);
void emu_launch(dim3 grid, dim3 block, size_t smem, const std::function<void()> &fn);
/* kernel<<<grid, block, smem, stream>>>(args) is rewritten by gpu_check.sh
 * --emulate into emu_launch_cfg(grid, block, smem, stream, [=]() { kernel(args); }) */
static inline void emu_launch_cfg(dim3 g, dim3 b, size_t smem, struct emu_stream_s *,
                                  const std::function<void()> &fn)
{
    emu_launch(g, b, smem, fn);
}
#define __syncthreads() emu_syncthreads()
#define __syncwarp(...) emu_syncwarp()
#define __shfl_xor_sync(mask, v, o) emu_shfl_xor((v), (o))

/* ---- bf16 ---- */
struct __nv_bfloat16 { uint16_t x; };
static inline float __bfloat162float(__nv_bfloat16 b)
{
    uint32_t u = (uint32_t)b.x << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static inline __nv_bfloat16 __float2bfloat16_rn(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    __nv_bfloat16 b;
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        b.x = (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
        return b;
    }
    u += 0x7fffu + ((u >> 16) & 1u); /* round to nearest even */
    b.x = (uint16_t)(u >> 16);
    return b;
}

/* ---- runtime ---- */
typedef int cudaError_t;
enum { cudaSuccess = 0, cudaErrorMemoryAllocation = 2 };
typedef struct emu_stream_s *cudaStream_t;
enum cudaMemcpyKind { cudaMemcpyHostToHost, cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost,
                      cudaMemcpyDeviceToDevice, cudaMemcpyDefault };
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };
struct cudaDeviceProp {
    char name[256];
    int major, minor;
    size_t totalGlobalMem;
};
cudaError_t cudaGetDeviceCount(int *n);
cudaError_t cudaSetDevice(int d);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int d);
cudaError_t cudaGetLastError(void);
const char *cudaGetErrorString(cudaError_t e);
cudaError_t cudaMalloc(void **p, size_t n);
cudaError_t cudaMallocHost(void **p, size_t n);
cudaError_t cudaFree(void *p);
cudaError_t cudaFreeHost(void *p);
cudaError_t cudaMemcpy(void *d, const void *s, size_t n, cudaMemcpyKind k);
cudaError_t cudaMemcpyAsync(void *d, const void *s, size_t n, cudaMemcpyKind k, cudaStream_t st);
cudaError_t cudaMemset(void *d, int v, size_t n);
cudaError_t cudaMemsetAsync(void *d, int v, size_t n, cudaStream_t st);
cudaError_t cudaStreamCreate(cudaStream_t *s);
cudaError_t cudaStreamDestroy(cudaStream_t s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
cudaError_t cudaDeviceSynchronize(void);
cudaError_t cudaMemGetInfo(size_t *free_b, size_t *total_b);
template <typename F> cudaError_t cudaFuncSetAttribute(F *, cudaFuncAttribute, int) { return 0; }

/* ---- WMMA (16x16x16 only) ---- */
namespace nvcuda {
namespace wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };
template <typename Use, int M, int N, int K, typename T, typename Layout = void> struct fragment {
    float v[16][16];
};
template <typename T> static inline float emu_val(T x) { return (float)x; }
template <> inline float emu_val<__nv_bfloat16>(__nv_bfloat16 x) { return __bfloat162float(x); }
template <typename Use, typename T>
static inline void load_matrix_sync(fragment<Use, 16, 16, 16, T, row_major> &f, const T *p,
                                    unsigned ldm)
{
    for (int r = 0; r < 16; r++)
        for (int c = 0; c < 16; c++) f.v[r][c] = emu_val(p[r * ldm + c]);
}
template <typename Use, typename T>
static inline void load_matrix_sync(fragment<Use, 16, 16, 16, T, col_major> &f, const T *p,
                                    unsigned ldm)
{
    for (int r = 0; r < 16; r++)
        for (int c = 0; c < 16; c++) f.v[r][c] = emu_val(p[c * ldm + r]);
}
static inline void fill_fragment(fragment<accumulator, 16, 16, 16, float> &f, float x)
{
    for (int r = 0; r < 16; r++)
        for (int c = 0; c < 16; c++) f.v[r][c] = x;
}
static inline void store_matrix_sync(float *p, const fragment<accumulator, 16, 16, 16, float> &f,
                                     unsigned ldm, layout_t layout)
{
    for (int r = 0; r < 16; r++)
        for (int c = 0; c < 16; c++) {
            if (layout == mem_row_major) p[r * ldm + c] = f.v[r][c];
            else p[c * ldm + r] = f.v[r][c];
        }
}
template <typename T, typename LA, typename LB>
static inline void mma_sync(fragment<accumulator, 16, 16, 16, float> &d,
                            const fragment<matrix_a, 16, 16, 16, T, LA> &a,
                            const fragment<matrix_b, 16, 16, 16, T, LB> &b,
                            const fragment<accumulator, 16, 16, 16, float> &c)
{
    float out[16][16];
    for (int r = 0; r < 16; r++)
        for (int col = 0; col < 16; col++) {
            float s = c.v[r][col];
            for (int k = 0; k < 16; k++) s += a.v[r][k] * b.v[k][col];
            out[r][col] = s;
        }
    memcpy(d.v, out, sizeof out);
}
} // namespace wmma
} // namespace nvcuda

/* ---- cuBLASLt ---- */
typedef int cublasStatus_t;
enum { CUBLAS_STATUS_SUCCESS = 0, CUBLAS_STATUS_NOT_SUPPORTED = 15 };
typedef int cudaDataType_t;
typedef int cudaDataType;
enum { CUDA_R_32F = 0, CUDA_R_16BF = 14 };
typedef int cublasComputeType_t;
enum { CUBLAS_COMPUTE_32F = 68 };
typedef int cublasOperation_t;
enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 };
typedef uint32_t cublasLtEpilogue_t;
enum { CUBLASLT_EPILOGUE_DEFAULT = 1, CUBLASLT_EPILOGUE_BIAS = 4,
       CUBLASLT_EPILOGUE_GELU_AUX_BIAS = 32 | 128 | 4 };
enum { CUBLASLT_MATMUL_DESC_TRANSA = 3, CUBLASLT_MATMUL_DESC_TRANSB = 4,
       CUBLASLT_MATMUL_DESC_EPILOGUE = 7, CUBLASLT_MATMUL_DESC_BIAS_POINTER = 8,
       CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER = 11, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD = 12 };
enum { CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES = 5,
       CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES = 6, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES = 7,
       CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES = 8 };
typedef struct emu_lt_s *cublasLtHandle_t;
typedef struct emu_desc_s *cublasLtMatmulDesc_t;
typedef struct emu_layout_s *cublasLtMatrixLayout_t;
typedef struct emu_pref_s *cublasLtMatmulPreference_t;
typedef struct { uint64_t data[8]; } cublasLtMatmulAlgo_t;
typedef struct {
    cublasLtMatmulAlgo_t algo;
    size_t workspaceSize;
    cublasStatus_t state;
    float wavesCount;
    int reserved[4];
} cublasLtMatmulHeuristicResult_t;
cublasStatus_t cublasLtCreate(cublasLtHandle_t *h);
cublasStatus_t cublasLtDestroy(cublasLtHandle_t h);
cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t *d, int compute, int scale);
cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t d);
cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t d, int attr, const void *buf,
                                              size_t size);
cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t *l, int type, uint64_t rows,
                                          uint64_t cols, int64_t ld);
cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t l);
cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t *p);
cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t p);
cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t p, int attr,
                                                    const void *buf, size_t size);
cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t h, cublasLtMatmulDesc_t op,
                                              cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
                                              cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t d,
                                              cublasLtMatmulPreference_t p, int n,
                                              cublasLtMatmulHeuristicResult_t *res, int *count);
cublasStatus_t cublasLtMatmul(cublasLtHandle_t h, cublasLtMatmulDesc_t op, const void *alpha,
                              const void *A, cublasLtMatrixLayout_t la, const void *B,
                              cublasLtMatrixLayout_t lb, const void *beta, const void *C,
                              cublasLtMatrixLayout_t lc, void *D, cublasLtMatrixLayout_t ld,
                              const cublasLtMatmulAlgo_t *algo, void *ws, size_t wss,
                              cudaStream_t s);

#ifdef QUERN_CUDA_EMU_IMPL
#include <ucontext.h>

#include <vector>

emu_thread *emu_cur;

static void emu_die(const char *what)
{
    fprintf(stderr, "cuda_emu: %s\n", what);
    abort();
}

/* ---- fibers ---- */
enum { F_READY, F_WAIT_BLOCK, F_WAIT_WARP, F_DONE };
struct emu_fiber {
    ucontext_t ctx;
    int state;
    emu_thread ts;
};
static ucontext_t emu_sched;
static std::vector<emu_fiber> emu_fibers;
static std::vector<char> emu_stacks;
static std::vector<float> emu_shfl_buf;
static std::vector<unsigned char> emu_smem;
static int emu_running;
static const std::function<void()> *emu_fn;
#define EMU_STACK (192 * 1024)

static void emu_fiber_main(void)
{
    (*emu_fn)();
    emu_fibers[emu_running].state = F_DONE;
    /* uc_link returns to the scheduler */
}

static void emu_yield(int state)
{
    emu_fiber *f = &emu_fibers[emu_running];
    f->state = state;
    swapcontext(&f->ctx, &emu_sched);
}

void emu_syncthreads(void) { emu_yield(F_WAIT_BLOCK); }
void emu_syncwarp(void) { emu_yield(F_WAIT_WARP); }

float emu_shfl_xor(float v, int o)
{
    int t = emu_running;
    emu_shfl_buf[t] = v;
    emu_yield(F_WAIT_WARP);
    float r = emu_shfl_buf[(t & ~31) | ((t & 31) ^ o)];
    emu_yield(F_WAIT_WARP);
    return r;
}

void *emu_dyn_smem(void) { return emu_smem.data(); }

void emu_launch(dim3 grid, dim3 block, size_t smem, const std::function<void()> &fn)
{
    int n = (int)(block.x * block.y * block.z);
    if (n < 1 || n > 1024) emu_die("block size out of range");
    if (n % 32) emu_die("block size not a multiple of 32 (the kernels assume whole warps)");
    if (grid.y > 65535 || grid.z > 65535) emu_die("grid y or z above 65535");
    if (smem > 227 * 1024) emu_die("dynamic shared memory above 227 KiB");
    emu_fibers.assign(n, emu_fiber());
    emu_stacks.resize((size_t)n * EMU_STACK);
    emu_shfl_buf.assign(n, 0.0f);
    emu_fn = &fn;
    for (unsigned bz = 0; bz < grid.z; bz++)
        for (unsigned by = 0; by < grid.y; by++)
            for (unsigned bx = 0; bx < grid.x; bx++) {
                emu_smem.assign(smem + 16, 0xff); /* uninitialised: NaN */
                for (int t = 0; t < n; t++) {
                    emu_fiber *f = &emu_fibers[t];
                    f->state = F_READY;
                    f->ts.tidx.x = t % block.x;
                    f->ts.tidx.y = t / block.x % block.y;
                    f->ts.tidx.z = t / (block.x * block.y);
                    f->ts.bidx.x = bx;
                    f->ts.bidx.y = by;
                    f->ts.bidx.z = bz;
                    f->ts.bdim = block;
                    f->ts.gdim = grid;
                    getcontext(&f->ctx);
                    f->ctx.uc_stack.ss_sp = &emu_stacks[(size_t)t * EMU_STACK];
                    f->ctx.uc_stack.ss_size = EMU_STACK;
                    f->ctx.uc_link = &emu_sched;
                    makecontext(&f->ctx, emu_fiber_main, 0);
                }
                for (;;) {
                    int ran = 0;
                    for (int t = 0; t < n; t++) {
                        if (emu_fibers[t].state != F_READY) continue;
                        emu_running = t;
                        emu_cur = &emu_fibers[t].ts;
                        swapcontext(&emu_sched, &emu_fibers[t].ctx);
                        ran = 1;
                    }
                    (void)ran;
                    int live = 0, ready = 0;
                    for (int w = 0; w < n / 32; w++) {
                        int done = 0, warp_wait = 0, other = 0;
                        for (int l = 0; l < 32; l++) {
                            int s = emu_fibers[w * 32 + l].state;
                            if (s == F_DONE) done++;
                            else if (s == F_WAIT_WARP) warp_wait++;
                            else other++;
                        }
                        if (warp_wait && (other || done)) {
                            if (!other) emu_die("shuffle or __syncwarp in a warp with exited lanes");
                            continue; /* others of the warp still running or at a block barrier */
                        }
                        if (warp_wait == 32)
                            for (int l = 0; l < 32; l++) emu_fibers[w * 32 + l].state = F_READY;
                    }
                    for (int t = 0; t < n; t++) {
                        if (emu_fibers[t].state != F_DONE) live++;
                        if (emu_fibers[t].state == F_READY) ready++;
                    }
                    if (!live) break;
                    if (ready) continue;
                    int block_wait = 0;
                    for (int t = 0; t < n; t++) block_wait += emu_fibers[t].state == F_WAIT_BLOCK;
                    if (block_wait == live) {
                        for (int t = 0; t < n; t++)
                            if (emu_fibers[t].state == F_WAIT_BLOCK) emu_fibers[t].state = F_READY;
                        continue;
                    }
                    emu_die("deadlock: threads of a block wait at different barriers");
                }
            }
}

/* ---- runtime ---- */
cudaError_t cudaGetDeviceCount(int *n)
{
    *n = 1;
    return 0;
}
cudaError_t cudaSetDevice(int) { return 0; }
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "CPU emulation (cuda_emu.h)");
    p->major = 9;
    p->totalGlobalMem = (size_t)16 << 30;
    return 0;
}
cudaError_t cudaGetLastError(void) { return 0; }
const char *cudaGetErrorString(cudaError_t) { return "emulated error"; }
cudaError_t cudaMalloc(void **p, size_t n)
{
    size_t r = (n + 255) / 256 * 256;
    *p = aligned_alloc(256, r ? r : 256);
    if (!*p) return cudaErrorMemoryAllocation;
    memset(*p, 0xff, r); /* uninitialised device memory: NaN */
    return 0;
}
cudaError_t cudaMallocHost(void **p, size_t n) { return cudaMalloc(p, n); }
cudaError_t cudaFree(void *p)
{
    free(p);
    return 0;
}
cudaError_t cudaFreeHost(void *p) { return cudaFree(p); }
cudaError_t cudaMemcpy(void *d, const void *s, size_t n, cudaMemcpyKind)
{
    memmove(d, s, n);
    return 0;
}
cudaError_t cudaMemcpyAsync(void *d, const void *s, size_t n, cudaMemcpyKind k, cudaStream_t)
{
    return cudaMemcpy(d, s, n, k);
}
cudaError_t cudaMemset(void *d, int v, size_t n)
{
    memset(d, v, n);
    return 0;
}
cudaError_t cudaMemsetAsync(void *d, int v, size_t n, cudaStream_t) { return cudaMemset(d, v, n); }
cudaError_t cudaStreamCreate(cudaStream_t *s)
{
    static int dummy;
    *s = (cudaStream_t)(void *)&dummy;
    return 0;
}
cudaError_t cudaStreamDestroy(cudaStream_t) { return 0; }
cudaError_t cudaStreamSynchronize(cudaStream_t) { return 0; }
cudaError_t cudaDeviceSynchronize(void) { return 0; }
cudaError_t cudaMemGetInfo(size_t *f, size_t *t)
{
    *f = *t = (size_t)16 << 30;
    return 0;
}

/* ---- cuBLASLt ---- */
struct emu_desc_s {
    int transa, transb;
    uint32_t epilogue;
    const void *bias;
    void *aux;
    int64_t aux_ld;
};
struct emu_layout_s {
    int type;
    uint64_t rows, cols;
    int64_t ld;
};
cublasStatus_t cublasLtCreate(cublasLtHandle_t *h)
{
    static int dummy;
    *h = (cublasLtHandle_t)(void *)&dummy;
    return 0;
}
cublasStatus_t cublasLtDestroy(cublasLtHandle_t) { return 0; }
cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t *d, int compute, int scale)
{
    if (compute != CUBLAS_COMPUTE_32F || scale != CUDA_R_32F) emu_die("unexpected compute type");
    *d = new emu_desc_s();
    (*d)->epilogue = CUBLASLT_EPILOGUE_DEFAULT;
    return 0;
}
cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t d)
{
    delete d;
    return 0;
}
cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t d, int attr, const void *buf,
                                              size_t size)
{
    switch (attr) {
    case CUBLASLT_MATMUL_DESC_TRANSA:
        if (size != sizeof(int)) emu_die("TRANSA size");
        memcpy(&d->transa, buf, size);
        break;
    case CUBLASLT_MATMUL_DESC_TRANSB:
        if (size != sizeof(int)) emu_die("TRANSB size");
        memcpy(&d->transb, buf, size);
        break;
    case CUBLASLT_MATMUL_DESC_EPILOGUE:
        if (size != sizeof(uint32_t)) emu_die("EPILOGUE size");
        memcpy(&d->epilogue, buf, size);
        break;
    case CUBLASLT_MATMUL_DESC_BIAS_POINTER:
        if (size != sizeof(void *)) emu_die("BIAS_POINTER size");
        memcpy(&d->bias, buf, size);
        break;
    case CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER:
        if (size != sizeof(void *)) emu_die("AUX_POINTER size");
        memcpy(&d->aux, buf, size);
        break;
    case CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD:
        if (size != sizeof(int64_t)) emu_die("AUX_LD size");
        memcpy(&d->aux_ld, buf, size);
        break;
    default:
        emu_die("unknown matmul attribute");
    }
    return 0;
}
cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t *l, int type, uint64_t rows,
                                          uint64_t cols, int64_t ld)
{
    if (ld < (int64_t)rows) emu_die("leading dimension below the row count");
    *l = new emu_layout_s{ type, rows, cols, ld };
    return 0;
}
cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t l)
{
    delete l;
    return 0;
}
cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t *p)
{
    static int dummy;
    *p = (cublasLtMatmulPreference_t)(void *)&dummy;
    return 0;
}
cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t) { return 0; }
cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t, int, const void *,
                                                    size_t)
{
    return 0;
}
/* QUERN_EMU_EPILOGUES=0 answers "no algorithm" for any epilogue, as a
 * cuBLASLt without them would, to exercise the fallbacks */
cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t, cublasLtMatmulDesc_t op,
                                              cublasLtMatrixLayout_t, cublasLtMatrixLayout_t,
                                              cublasLtMatrixLayout_t, cublasLtMatrixLayout_t,
                                              cublasLtMatmulPreference_t, int n,
                                              cublasLtMatmulHeuristicResult_t *res, int *count)
{
    const char *e = getenv("QUERN_EMU_EPILOGUES");
    if (e && !strcmp(e, "0") && op->epilogue != CUBLASLT_EPILOGUE_DEFAULT) {
        *count = 0;
        return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    if (n < 1) return CUBLAS_STATUS_NOT_SUPPORTED;
    memset(res, 0, sizeof *res);
    *count = 1;
    return 0;
}
static float emu_get(const void *p, int type, size_t i)
{
    if (type == CUDA_R_32F) return ((const float *)p)[i];
    return __bfloat162float(((const __nv_bfloat16 *)p)[i]);
}
static void emu_put(void *p, int type, size_t i, float v)
{
    if (type == CUDA_R_32F) ((float *)p)[i] = v;
    else ((__nv_bfloat16 *)p)[i] = __float2bfloat16_rn(v);
}
cublasStatus_t cublasLtMatmul(cublasLtHandle_t, cublasLtMatmulDesc_t op, const void *alpha,
                              const void *A, cublasLtMatrixLayout_t la, const void *B,
                              cublasLtMatrixLayout_t lb, const void *beta, const void *C,
                              cublasLtMatrixLayout_t lc, void *D, cublasLtMatrixLayout_t ld,
                              const cublasLtMatmulAlgo_t *, void *, size_t, cudaStream_t)
{
    /* D (m x n) = alpha op(A) (m x k) op(B) (k x n) + beta C [+ bias] [-> GELU] */
    uint64_t m = ld->rows, n = ld->cols;
    uint64_t am = op->transa ? la->cols : la->rows, ak = op->transa ? la->rows : la->cols;
    uint64_t bk = op->transb ? lb->cols : lb->rows, bn = op->transb ? lb->rows : lb->cols;
    if (am != m || bn != n || ak != bk) emu_die("matmul shapes do not fit");
    if (lc->rows != m || lc->cols != n || lc->type != ld->type) emu_die("C layout differs from D");
    if (la->type != lb->type) emu_die("A and B types differ");
    uint64_t k = ak;
    float a_ = *(const float *)alpha, b_ = *(const float *)beta;
    int gelu = op->epilogue == CUBLASLT_EPILOGUE_GELU_AUX_BIAS;
    int bias = op->epilogue == CUBLASLT_EPILOGUE_BIAS || gelu;
    if (bias && !op->bias) emu_die("bias epilogue without a bias pointer");
    if (gelu && (!op->aux || op->aux_ld < (int64_t)m || op->aux_ld % 8)) emu_die("bad GELU aux");
    if (op->epilogue != CUBLASLT_EPILOGUE_DEFAULT && !bias) emu_die("unemulated epilogue");
    /* op(A) as [m][k] and op(B) as [n][k], contiguous fp32 */
    std::vector<float> a((size_t)m * k), b((size_t)n * k);
    for (uint64_t i = 0; i < m; i++)
        for (uint64_t kk = 0; kk < k; kk++)
            a[i * k + kk] = emu_get(A, la->type, op->transa ? kk + i * la->ld : i + kk * la->ld);
    for (uint64_t j = 0; j < n; j++)
        for (uint64_t kk = 0; kk < k; kk++)
            b[j * k + kk] = emu_get(B, lb->type, op->transb ? j + kk * lb->ld : kk + j * lb->ld);
    for (uint64_t j = 0; j < n; j++)
        for (uint64_t i = 0; i < m; i++) {
            const float *ar = &a[i * k], *br = &b[j * k];
            float s = 0.0f;
            for (uint64_t kk = 0; kk < k; kk++) s += ar[kk] * br[kk];
            float v = a_ * s;
            if (b_ != 0.0f) v += b_ * emu_get(C, lc->type, i + j * lc->ld);
            if (bias) v += emu_get(op->bias, ld->type, i);
            if (gelu) {
                emu_put(op->aux, ld->type, i + j * op->aux_ld, v);
                v = 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
            }
            emu_put(D, ld->type, i + j * ld->ld, v);
        }
    return 0;
}
#endif /* QUERN_CUDA_EMU_IMPL */

#endif
