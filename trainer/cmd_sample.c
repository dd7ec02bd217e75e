/* cmd_sample.c - `quern sample`: generate text from a checkpoint with the C
 * reference model, decoding through the tokenizer it was trained with. */
#include <getopt.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/commands.h"
#include "cpu.h"
#include "sampler.h"
#include "tokenize/tokenizer.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: quern sample --ckpt RUN_DIR|CKPT [--prompt TEXT] [options]\n"
        "\n"
        "Generates text from a checkpoint of `quern train` (the newest one in a run\n"
        "directory). The context starts with the end-of-text token, then the prompt.\n"
        "\n"
        "  --ckpt PATH          checkpoint file, or a run directory\n"
        "  --prompt TEXT        text to continue (default: none)\n"
        "  -n, --tokens N       tokens to generate (default 200)\n"
        "  --temperature X      softmax temperature (default 0.8; 0 = greedy)\n"
        "  --top-k K            sample among the K most likely tokens (default 40; 0 = all)\n"
        "  --seed N             sampling seed (default 1)\n"
        "  --tokenizer SPEC     tokenizer (default: the one the run recorded - its\n"
        "                       --tokenizer, else the manifest's vocabulary file - else\n"
        "                       the manifest's tokenizer name as a built-in)\n"
        "  --keep-going         do not stop at the end-of-text token\n"
        "  -j, --threads N      CPU threads (default: all cores)\n");
}

int cmd_sample(int argc, char **argv)
{
    enum { O_CKPT = 256, O_PROMPT, O_TEMP, O_TOPK, O_SEED, O_TOK, O_KEEP };
    static const struct option longopts[] = {
        { "ckpt", required_argument, 0, O_CKPT }, { "prompt", required_argument, 0, O_PROMPT },
        { "tokens", required_argument, 0, 'n' }, { "temperature", required_argument, 0, O_TEMP },
        { "top-k", required_argument, 0, O_TOPK }, { "seed", required_argument, 0, O_SEED },
        { "tokenizer", required_argument, 0, O_TOK }, { "keep-going", no_argument, 0, O_KEEP },
        { "threads", required_argument, 0, 'j' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    const char *ckpt = NULL, *prompt = "", *spec = NULL;
    double n_tokens = 200, top_k = 40, seed = 1, threads = 0;
    double temperature = 0.8;
    int keep_going = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:j:h", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'h': usage(stdout); return QEXIT_OK;
        case O_CKPT: ckpt = optarg; break;
        case O_PROMPT: prompt = optarg; break;
        case O_TOK: spec = optarg; break;
        case O_KEEP: keep_going = 1; break;
        case O_TEMP:
            temperature = strtod(optarg, &end);
            if (end == optarg || *end || temperature < 0) {
                qerr("--temperature: '%s' is not a non-negative number", optarg);
                return QEXIT_USAGE;
            }
            break;
        case 'n': case O_TOPK: case O_SEED: case 'j': {
            double x;
            if (cli_parse_count(optarg, &x) || x < 0) {
                qerr("'%s' is not a non-negative count", optarg);
                return QEXIT_USAGE;
            }
            if (c == 'n') n_tokens = x;
            else if (c == O_TOPK) top_k = x;
            else if (c == O_SEED) seed = x;
            else threads = x;
            break;
        }
        default: usage(stderr); return QEXIT_USAGE;
        }
    }
    if (!ckpt || optind < argc) {
        usage(stderr);
        return QEXIT_USAGE;
    }
    if (threads > 0) omp_set_num_threads((int)threads);
    char err[1024], file[4200];
    qckpt_meta meta;
    float *params = NULL;
    if (qckpt_read(ckpt, &meta, &params, NULL, NULL, file, sizeof file, err, sizeof err)) {
        qerr_at(ckpt, "0", "%s", err);
        return QEXIT_BADINPUT;
    }
    qtok *tok = qsample_tokenizer(&meta, spec, err, sizeof err);
    if (!tok) {
        qerr("%s", err);
        free(params);
        return QEXIT_BADINPUT;
    }
    const qgpt_config *cfg = &meta.cfg;
    int T = cfg->seq_len, V = cfg->vocab_size;
    qcpu_model m;
    if (qcpu_model_init(&m, cfg, 1, T)) {
        qerr("out of memory for the model");
        qtok_free(tok);
        free(params);
        return QEXIT_BADINPUT;
    }
    memcpy(m.params, params, m.lay.total * sizeof(float));
    free(params);

    uint32_t *ids = NULL;
    size_t n_prompt = qtok_encode(tok, prompt, strlen(prompt), &ids);
    size_t total = 1 + n_prompt + (size_t)n_tokens;
    int32_t *seq = malloc(total * sizeof *seq), *window = malloc((size_t)T * sizeof *window);
    size_t len = 0;
    seq[len++] = (int32_t)meta.eot;
    for (size_t i = 0; i < n_prompt; i++) seq[len++] = (int32_t)ids[i];
    free(ids);
    fwrite(prompt, 1, strlen(prompt), stdout);
    qrng rng;
    qrng_seed(&rng, (uint64_t)seed);
    for (long g = 0; g < (long)n_tokens; g++) {
        /* the last T tokens of the context (no KV cache: the C reference is
         * the ground truth, not a serving engine) */
        size_t start = len > (size_t)T ? len - (size_t)T : 0;
        int n = (int)(len - start);
        memcpy(window, seq + start, (size_t)n * sizeof *window);
        qcpu_forward(&m, window, NULL, 1, n);
        const float *logits = m.acts.logits + (size_t)(n - 1) * cfg->padded_vocab;
        uint32_t id = qsample_token(logits, V, (float)temperature, (int)top_k, &rng);
        if (id == meta.eot && !keep_going) break;
        seq[len++] = (int32_t)id;
        size_t blen;
        const char *bytes = qtok_token(tok, id, &blen);
        if (bytes) fwrite(bytes, 1, blen, stdout);
        fflush(stdout);
    }
    printf("\n");
    free(seq);
    free(window);
    qcpu_model_free(&m);
    qtok_free(tok);
    return QEXIT_OK;
}
