/* cmd_train.c - `quern train`: options -> qtrain_opts -> qtrain_run(). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/commands.h"
#include "train.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: quern train --data DIR/manifest.json -o RUN_DIR [options]\n"
        "       quern train --resume RUN_DIR|CKPT [-o RUN_DIR] [options]\n"
        "\n"
        "Trains a GPT-2 style model on the token shards a manifest names. The run length\n"
        "comes from the manifest's budget (D tokens), else D = 20 N; --tokens/--steps\n"
        "override it. The plan (parameters, tokens, steps, FLOPs, time) is printed first.\n"
        "RUN_DIR receives checkpoints (ckpt_<step>.bin), log.jsonl and loss.svg.\n"
        "\n"
        "model:\n"
        "  --model NAME         preset: d6, d12 (GPT-2 124M), d24, d36, d48\n"
        "  --layers N --heads N --dim N   explicit sizes (override the preset)\n"
        "  --seq N              context length (default 1024)\n"
        "  --vocab-pad N        pad the vocabulary to a multiple of N (default 128)\n"
        "batch and length:\n"
        "  --batch N            sequences per micro-batch (default 4)\n"
        "  --batch-tokens N     tokens per optimizer step, by gradient accumulation\n"
        "                       (a multiple of batch x seq; default batch x seq)\n"
        "  --tokens N           train on N tokens (e.g. 2M, 1.5B; rounded to whole steps)\n"
        "  --steps N            train for N steps\n"
        "optimizer:\n"
        "  --lr X               peak learning rate (default 6e-4)\n"
        "  --schedule NAME      cosine (default), linear, constant, wsd\n"
        "  --warmup N           warm-up steps (default 5%% of the run)\n"
        "  --min-lr-frac X      final rate as a fraction of the peak (default 0.1)\n"
        "  --decay-frac X       wsd: fraction of the run spent decaying (default 0.2)\n"
        "  --weight-decay X     decoupled, on matrices and embeddings (default 0.1)\n"
        "  --beta1 X --beta2 X --eps X   AdamW (defaults 0.9, 0.95, 1e-8)\n"
        "  --clip X             clip the global gradient norm (default 1; 0 = off)\n"
        "  --seed N             initialisation and data order (default 1337)\n"
        "run:\n"
        "  -o, --out DIR        run directory\n"
        "  --resume PATH        continue from a checkpoint (or the newest in a directory)\n"
        "  --ckpt-every N       checkpoint every N steps (and always at the end)\n"
        "  --keep K             keep the newest K checkpoints (default 3; 0 = all)\n"
        "  --eval-every N       validation loss every N steps (and at the end)\n"
        "  --eval-tokens N      validation tokens per evaluation (default 32768)\n"
        "  --device D           auto (default), cpu or cuda; the GPU backend is the plugin\n"
        "                       quern-cuda.so ($QUERN_CUDA_PLUGIN, else next to quern, else\n"
        "                       ../lib/quern/), loaded only here; cuda without the plugin\n"
        "                       or a GPU exits 1, auto then trains on the CPU\n"
        "  --recompute          GPU: recompute LayerNorm and GELU outputs in the backward\n"
        "                       pass (less memory)\n"
        "  --peak FLOPS         peak FLOP/s of the device, to report MFU (e.g. 989e12)\n"
        "  -j, --threads N      CPU threads (default: all cores)\n"
        "  --print-every N      print every N steps (default 1)\n"
        "  --no-verify          skip checking the shards' checksums\n"
        "  --force              start afresh even if RUN_DIR holds checkpoints (removes them)\n"
        "  --stop-at N          stop after step N with a checkpoint, keeping the plan\n"
        "                       (e.g. to fit a job's time limit; continue with --resume)\n"
        "  --tokenizer SPEC     the tokenizer of the data (a name or vocabulary file, as\n"
        "                       `quern tokenize --vocab` takes it), checked against the\n"
        "                       manifest and recorded so `quern sample` can decode\n"
        "                       (default: the vocabulary file the manifest names, when\n"
        "                       it still loads; else a note, and sample needs one)\n"
        "  --stats FILE         write a JSON summary (tokens, losses, speed, seconds)\n"
        "  --trace DIR          write initial weights, batches, first logits and gradients\n"
        "                       (raw fp32/int32) for checking against another implementation\n");
}

enum {
    O_DATA = 256, O_RESUME, O_MODEL, O_LAYERS, O_HEADS, O_DIM, O_SEQ, O_VPAD, O_BATCH, O_BTOK,
    O_TOKENS, O_STEPS, O_LR, O_SCHED, O_WARMUP, O_MINLR, O_DECAY, O_WD, O_B1, O_B2, O_EPS, O_CLIP,
    O_SEED, O_CKPT, O_KEEP, O_EVAL, O_EVALTOK, O_DEVICE, O_PEAK, O_PRINT, O_NOVERIFY, O_TRACE, O_STOP, O_TOKENIZER, O_FORCE, O_STATS, O_RECOMPUTE,
};

static int parse_num(const char *opt, const char *arg, double *out)
{
    if (cli_parse_count(arg, out)) {
        qerr("%s: '%s' is not a number", opt, arg);
        return -1;
    }
    return 0;
}

static int parse_real(const char *opt, const char *arg, double *out)
{
    char *end;
    *out = strtod(arg, &end);
    if (end == arg || *end) {
        qerr("%s: '%s' is not a number", opt, arg);
        return -1;
    }
    return 0;
}

int cmd_train(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "data", required_argument, 0, O_DATA }, { "out", required_argument, 0, 'o' },
        { "resume", required_argument, 0, O_RESUME }, { "model", required_argument, 0, O_MODEL },
        { "preset", required_argument, 0, O_MODEL }, { "layers", required_argument, 0, O_LAYERS },
        { "heads", required_argument, 0, O_HEADS }, { "dim", required_argument, 0, O_DIM },
        { "seq", required_argument, 0, O_SEQ }, { "vocab-pad", required_argument, 0, O_VPAD },
        { "batch", required_argument, 0, O_BATCH }, { "batch-tokens", required_argument, 0, O_BTOK },
        { "tokens", required_argument, 0, O_TOKENS }, { "steps", required_argument, 0, O_STEPS },
        { "lr", required_argument, 0, O_LR }, { "schedule", required_argument, 0, O_SCHED },
        { "warmup", required_argument, 0, O_WARMUP }, { "min-lr-frac", required_argument, 0, O_MINLR },
        { "decay-frac", required_argument, 0, O_DECAY }, { "weight-decay", required_argument, 0, O_WD },
        { "beta1", required_argument, 0, O_B1 }, { "beta2", required_argument, 0, O_B2 },
        { "eps", required_argument, 0, O_EPS }, { "clip", required_argument, 0, O_CLIP },
        { "seed", required_argument, 0, O_SEED }, { "ckpt-every", required_argument, 0, O_CKPT },
        { "keep", required_argument, 0, O_KEEP }, { "eval-every", required_argument, 0, O_EVAL },
        { "eval-tokens", required_argument, 0, O_EVALTOK }, { "device", required_argument, 0, O_DEVICE },
        { "peak", required_argument, 0, O_PEAK }, { "threads", required_argument, 0, 'j' },
        { "print-every", required_argument, 0, O_PRINT }, { "no-verify", no_argument, 0, O_NOVERIFY },
        { "trace", required_argument, 0, O_TRACE }, { "stop-at", required_argument, 0, O_STOP },
        { "tokenizer", required_argument, 0, O_TOKENIZER }, { "force", no_argument, 0, O_FORCE },
        { "stats", required_argument, 0, O_STATS }, { "recompute", no_argument, 0, O_RECOMPUTE }, { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    qtrain_opts o;
    qtrain_opts_default(&o);
    int explicit_length = 0, c;
    double x;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:j:h", longopts, NULL)) != -1) {
        const char *name = NULL;
        for (const struct option *lo = longopts; lo->name; lo++)
            if (lo->val == c) { name = lo->name; break; }
        char optname[64];
        snprintf(optname, sizeof optname, "--%s", name ? name : "?");
        switch (c) {
        case 'h': usage(stdout); return QEXIT_OK;
        case 'o': o.out = optarg; break;
        case O_DATA: o.data = optarg; break;
        case O_RESUME: o.resume = optarg; break;
        case O_MODEL: o.preset = optarg; break;
        case O_DEVICE: o.device = optarg; break;
        case O_TRACE: o.trace = optarg; break;
        case O_TOKENIZER: o.tokenizer = optarg; break;
        case O_NOVERIFY: o.verify = 0; break;
        case O_FORCE: o.force = 1; break;
        case O_RECOMPUTE: o.recompute = 1; break;
        case O_STATS: o.stats = optarg; break;
        case O_SCHED:
            if (qsched_parse(optarg, &o.schedule)) {
                qerr("--schedule: '%s' is not cosine, linear, constant or wsd", optarg);
                return QEXIT_USAGE;
            }
            break;
        case O_LR: case O_MINLR: case O_DECAY: case O_WD: case O_B1: case O_B2: case O_EPS:
        case O_CLIP: case O_PEAK:
            if (parse_real(optname, optarg, &x)) return QEXIT_USAGE;
            if (x < 0) { qerr("%s must not be negative", optname); return QEXIT_USAGE; }
            if (c == O_LR) o.lr = x;
            else if (c == O_MINLR) o.min_lr_frac = x;
            else if (c == O_DECAY) o.decay_frac = x;
            else if (c == O_WD) o.adamw.weight_decay = (float)x;
            else if (c == O_B1) o.adamw.beta1 = (float)x;
            else if (c == O_B2) o.adamw.beta2 = (float)x;
            else if (c == O_EPS) o.adamw.eps = (float)x;
            else if (c == O_CLIP) o.clip = (float)x;
            else o.peak = x;
            break;
        default: {
            if (c == '?' || c == ':') { usage(stderr); return QEXIT_USAGE; }
            if (parse_num(optname, optarg, &x)) return QEXIT_USAGE;
            if (x < 0 || x > 9.2e18) { qerr("%s: out of range", optname); return QEXIT_USAGE; }
            switch (c) {
            case O_LAYERS: o.layers = (int)x; break;
            case O_HEADS: o.heads = (int)x; break;
            case O_DIM: o.dim = (int)x; break;
            case O_SEQ: o.seq = (int)x; break;
            case O_VPAD: o.vocab_pad = (int)x; break;
            case O_BATCH: o.batch = (int)x; break;
            case O_BTOK: o.batch_tokens = (uint64_t)x; break;
            case O_TOKENS: o.tokens = x; explicit_length = 1; break;
            case O_STEPS: o.steps = (long)x; explicit_length = 1; break;
            case O_WARMUP: o.warmup = (long)x; break;
            case O_SEED: o.seed = (uint64_t)x; break;
            case O_CKPT: o.ckpt_every = (long)x; break;
            case O_KEEP: o.keep = (long)x; break;
            case O_EVAL: o.eval_every = (long)x; break;
            case O_EVALTOK: o.eval_tokens = (long)x; break;
            case 'j': o.threads = (int)x; break;
            case O_PRINT: o.print_every = (long)x; break;
            case O_STOP: o.stop_at = (long)x; break;
            default: usage(stderr); return QEXIT_USAGE;
            }
        }
        }
    }
    if (optind < argc) {
        qerr("unexpected argument '%s' (the data is given with --data)", argv[optind]);
        return QEXIT_USAGE;
    }
    if (o.resume && (explicit_length || o.preset || o.layers || o.heads || o.dim || o.seq)) {
        qerr("--resume continues the checkpoint's model and plan; drop --model/--layers/--heads/"
             "--dim/--seq/--tokens/--steps");
        return QEXIT_USAGE;
    }
    if (o.batch < 1 || o.vocab_pad < 1 || o.vocab_pad > 4096) {
        qerr("--batch must be >= 1 and --vocab-pad between 1 and 4096");
        return QEXIT_USAGE;
    }
    return qtrain_run(&o);
}
