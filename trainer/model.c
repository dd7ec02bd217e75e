/* model.c - GPT configuration, presets, parameter layout, initialisation and
 * the trainer's random generator. */
#include "model.h"

#include <math.h>
#include <string.h>

static const char *const tensor_names[QP_NTENSORS] = {
    "wte", "wpe", "ln1w", "ln1b", "qkvw", "qkvb", "attprojw", "attprojb",
    "ln2w", "ln2b", "fcw", "fcb", "fcprojw", "fcprojb", "lnfw", "lnfb",
};

const char *qgpt_tensor_name(int i)
{
    return i >= 0 && i < QP_NTENSORS ? tensor_names[i] : "?";
}

int qgpt_tensor_decays(int i)
{
    switch (i) {
    case QP_WTE: case QP_WPE: case QP_QKVW: case QP_ATTPROJW: case QP_FCW: case QP_FCPROJW:
        return 1;
    default:
        return 0;
    }
}

void qgpt_layout_init(qgpt_layout *lay, const qgpt_config *cfg)
{
    size_t L = (size_t)cfg->n_layer, C = (size_t)cfg->n_embd;
    size_t Vp = (size_t)cfg->padded_vocab, T = (size_t)cfg->seq_len;
    size_t *sz = lay->size;
    sz[QP_WTE] = Vp * C;
    sz[QP_WPE] = T * C;
    sz[QP_LN1W] = sz[QP_LN1B] = L * C;
    sz[QP_QKVW] = L * 3 * C * C;
    sz[QP_QKVB] = L * 3 * C;
    sz[QP_ATTPROJW] = L * C * C;
    sz[QP_ATTPROJB] = L * C;
    sz[QP_LN2W] = sz[QP_LN2B] = L * C;
    sz[QP_FCW] = L * 4 * C * C;
    sz[QP_FCB] = L * 4 * C;
    sz[QP_FCPROJW] = L * C * 4 * C;
    sz[QP_FCPROJB] = L * C;
    sz[QP_LNFW] = sz[QP_LNFB] = C;
    size_t off = 0;
    for (int i = 0; i < QP_NTENSORS; i++) {
        lay->offset[i] = off;
        off += sz[i];
    }
    lay->total = off;
}

int qgpt_preset(const char *name, qgpt_config *cfg)
{
    /* The GPT-2 family widths (llm.c's d12/d24/d36/d48) plus a small d6. */
    static const struct { const char *name; int L, H, C; } presets[] = {
        { "d6", 6, 6, 384 }, { "d12", 12, 12, 768 }, { "d24", 24, 16, 1024 },
        { "d36", 36, 20, 1280 }, { "d48", 48, 25, 1600 },
    };
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (!strcmp(name, presets[i].name)) {
            cfg->n_layer = presets[i].L;
            cfg->n_head = presets[i].H;
            cfg->n_embd = presets[i].C;
            return 0;
        }
    return -1;
}

void qgpt_set_vocab(qgpt_config *cfg, int vocab_size, int pad)
{
    cfg->vocab_size = vocab_size;
    cfg->padded_vocab = (vocab_size + pad - 1) / pad * pad;
}

const char *qgpt_config_error(const qgpt_config *cfg)
{
    if (cfg->n_layer < 1) return "the model needs at least one layer";
    if (cfg->n_head < 1) return "the model needs at least one head";
    if (cfg->n_embd < 1 || cfg->n_embd % cfg->n_head) return "the width must be a positive multiple of the head count";
    if (cfg->seq_len < 1) return "the sequence length must be positive";
    if (cfg->vocab_size < 2) return "the vocabulary needs at least two tokens";
    if (cfg->padded_vocab < cfg->vocab_size) return "the padded vocabulary is smaller than the vocabulary";
    return NULL;
}

uint64_t qgpt_num_params(const qgpt_config *cfg)
{
    qgpt_layout lay;
    qgpt_layout_init(&lay, cfg);
    return (uint64_t)lay.total -
           (uint64_t)(cfg->padded_vocab - cfg->vocab_size) * (uint64_t)cfg->n_embd;
}

double qgpt_flops_per_token(const qgpt_config *cfg, int T)
{
    return 6.0 * (double)qgpt_num_params(cfg) + 6.0 * cfg->n_layer * cfg->n_embd * (double)T;
}

/* ---- random numbers ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void qrng_seed(qrng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t qrng_next(qrng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double qrng_uniform(qrng *r)
{
    return (double)(qrng_next(r) >> 11) * 0x1.0p-53;
}

double qrng_normal(qrng *r)
{
    double u1 = qrng_uniform(r), u2 = qrng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* ---- initialisation ---- */

/* Each tensor is filled in chunks with their own generator (seeded from the
 * seed, tensor and chunk), so the fill is parallel and still reproducible. */
#define INIT_CHUNK 65536

static void fill_normal(float *p, size_t n, double stddev, uint64_t seed, int tensor)
{
    size_t chunks = (n + INIT_CHUNK - 1) / INIT_CHUNK;
#pragma omp parallel for schedule(static)
    for (size_t c = 0; c < chunks; c++) {
        qrng r;
        qrng_seed(&r, seed ^ ((uint64_t)(tensor + 1) << 48) ^ (uint64_t)c * 0x9e3779b97f4a7c15ULL);
        size_t end = (c + 1) * INIT_CHUNK < n ? (c + 1) * INIT_CHUNK : n;
        for (size_t i = c * INIT_CHUNK; i < end; i++) p[i] = (float)(stddev * qrng_normal(&r));
    }
}

void qgpt_init_params(const qgpt_config *cfg, const qgpt_layout *lay, float *params, uint64_t seed)
{
    const double std = 0.02, resid_std = 0.02 / sqrt(2.0 * cfg->n_layer);
    for (int i = 0; i < QP_NTENSORS; i++) {
        float *p = params + lay->offset[i];
        size_t n = lay->size[i];
        switch (i) {
        case QP_WTE: {
            size_t real = (size_t)cfg->vocab_size * (size_t)cfg->n_embd;
            fill_normal(p, real, std, seed, i);
            memset(p + real, 0, (n - real) * sizeof(float));
            break;
        }
        case QP_WPE: case QP_QKVW: case QP_FCW:
            fill_normal(p, n, std, seed, i);
            break;
        case QP_ATTPROJW: case QP_FCPROJW:
            fill_normal(p, n, resid_std, seed, i);
            break;
        case QP_LN1W: case QP_LN2W: case QP_LNFW:
            for (size_t k = 0; k < n; k++) p[k] = 1.0f;
            break;
        default:
            memset(p, 0, n * sizeof(float));
        }
    }
}
