/* cmd_budget.c - `quern budget`: from any one of N, C or D, the rest, plus
 * training time/cost on an accelerator and serving cost. Options here; the
 * arithmetic is in budget.c. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cli.h"
#include "../common/commands.h"
#include "../common/json.h"
#include "../common/strbuf.h"
#include "budget.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: quern budget [-N PARAMS|PRESET] [-D TOKENS] [-C FLOPS] [options]\n"
        "\n"
        "From any one of model parameters N, training tokens D or compute C, the rest\n"
        "(C = 6 N D), the training time and cost on an accelerator, and serving cost.\n"
        "\n"
        "  -N, --params N|PRESET  parameters (\"124M\", \"1.5B\", \"3e11\") or a preset (--list)\n"
        "      --count WHAT       all (default: every weight, tied embedding once, as\n"
        "                         Chinchilla counts) or non-embedding (Kaplan et al.); presets only\n"
        "  -D, --tokens D         training tokens (\"300B\", \"1.4T\")\n"
        "  -C, --flops C          training compute in FLOPs (\"3.14e23\")\n"
        "      --fit RULE         ratio (default: D = R N, R from --ratio, 20) | chinchilla\n"
        "                         (Hoffmann et al. 2022 Approach 3) | besiroglu (2024 refit)\n"
        "      --ratio R          tokens per parameter for the ratio rule (default 20)\n"
        "      --ctx T            add the attention-score term attn L d T per token (needs a\n"
        "                         preset, or --layers and --width)\n"
        "      --layers L, --width D   model shape for --ctx with a numeric N\n"
        "      --attn-factor F    6 (default: llm.c's causal count) or 12 (PaLM's)\n"
        "  training time and cost:\n"
        "      --accel NAME       a100 | h100 | h100-pcie | h200 | dgx-a100 | dgx-h100 | hgx-h200\n"
        "                         (default a100; peak dense bf16 FLOP/s from vendor figures)\n"
        "      --peak FLOPS       override the accelerator's peak FLOP/s per device\n"
        "      --mfu U            model FLOPs utilisation (default 0.4)\n"
        "      --devices K        devices training together (default 1)\n"
        "      --price P          price per device-hour in dollars (default: none)\n"
        "  serving (2 N FLOPs per generated token), at peak load:\n"
        "      --serve-tokens-per-hour X   generated tokens per hour, or from:\n"
        "      --serve-users U --serve-queries Q (per user per hour) --serve-words W (per answer)\n"
        "      --words-per-token R (default 0.75: 1,000 tokens ~ 750 words)\n"
        "      --serve-mfu U      utilisation when serving (default: --mfu)\n"
        "  output:\n"
        "      --json             one JSON object (read by `quern mix --budget FILE`)\n"
        "      --list             list presets and accelerators\n"
        "  -h, --help\n"
        "\n"
        "Example (the GPT-3 numbers): quern budget -N 174.6B -D 300B --accel dgx-a100 --mfu 0.213 --price 20\n");
}

static int parse_num(const char *opt, const char *s, double *out)
{
    if (cli_parse_count(s, out)) {
        qerr("%s: '%s' is not a number (e.g. 124M, 1.5B, 3e23)", opt, s);
        return -1;
    }
    return 0;
}

static void list_all(void)
{
    printf("presets (GPT shape in llm.c's layout; parameters counted from the shape):\n");
    for (size_t i = 0; qbudget_preset_at(i); i++) {
        const qmodel_preset *p = qbudget_preset_at(i);
        qparam_count c;
        qbudget_count_params(&p->shape, &c);
        char h[32];
        printf("  %-10s %-11s L=%-3d d=%-6d ctx=%-5d vocab=%-6d N=%-8s %s\n", p->name,
               p->alias ? p->alias : "", p->shape.n_layer, p->shape.d_model, p->shape.ctx,
               p->shape.vocab, qbudget_human(c.total, h, sizeof h), p->note);
    }
    printf("accelerators (peak dense bf16 FLOP/s per device):\n");
    for (size_t i = 0; qbudget_accel_at(i); i++) {
        const qaccel *a = qbudget_accel_at(i);
        printf("  %-10s %8.0f TFLOP/s  %s\n", a->name, a->peak_flops / 1e12, a->what);
    }
}

static void jkey(strbuf *o, const char *k)
{
    json_put_str(o, k, strlen(k));
    sb_addc(o, ':');
}
static void jnum(strbuf *o, const char *k, double v)
{
    jkey(o, k);
    json_put_num(o, v);
    sb_addc(o, ',');
}
static void jstr(strbuf *o, const char *k, const char *v)
{
    jkey(o, k);
    json_put_str(o, v, strlen(v));
    sb_addc(o, ',');
}
static void jclose(strbuf *o, char c)
{
    if (o->len && o->buf[o->len - 1] == ',') o->len--;
    sb_addc(o, c);
}

/* "1,234,567" for whole hours and dollars. */
static const char *commas(double v, char *buf, size_t n)
{
    char raw[64];
    snprintf(raw, sizeof raw, "%.0f", v);
    size_t len = strlen(raw), j = 0;
    for (size_t i = 0; i < len && j + 2 < n; i++) {
        buf[j++] = raw[i];
        size_t left = len - 1 - i;
        if (left && left % 3 == 0 && raw[i] != '-') buf[j++] = ',';
    }
    buf[j] = 0;
    return buf;
}

int cmd_budget(int argc, char **argv)
{
    enum {
        O_COUNT = 256, O_FIT, O_RATIO, O_CTX, O_LAYERS, O_WIDTH, O_ATTN, O_ACCEL, O_PEAK, O_MFU,
        O_DEVICES, O_PRICE, O_STPH, O_SUSERS, O_SQUERIES, O_SWORDS, O_WPT, O_SMFU, O_JSON, O_LIST,
    };
    static const struct option opts[] = {
        { "params", required_argument, 0, 'N' }, { "tokens", required_argument, 0, 'D' },
        { "flops", required_argument, 0, 'C' }, { "count", required_argument, 0, O_COUNT },
        { "fit", required_argument, 0, O_FIT }, { "ratio", required_argument, 0, O_RATIO },
        { "ctx", required_argument, 0, O_CTX }, { "layers", required_argument, 0, O_LAYERS },
        { "width", required_argument, 0, O_WIDTH }, { "attn-factor", required_argument, 0, O_ATTN },
        { "accel", required_argument, 0, O_ACCEL }, { "peak", required_argument, 0, O_PEAK },
        { "mfu", required_argument, 0, O_MFU }, { "devices", required_argument, 0, O_DEVICES },
        { "price", required_argument, 0, O_PRICE },
        { "serve-tokens-per-hour", required_argument, 0, O_STPH },
        { "serve-users", required_argument, 0, O_SUSERS },
        { "serve-queries", required_argument, 0, O_SQUERIES },
        { "serve-words", required_argument, 0, O_SWORDS },
        { "words-per-token", required_argument, 0, O_WPT },
        { "serve-mfu", required_argument, 0, O_SMFU }, { "json", no_argument, 0, O_JSON },
        { "list", no_argument, 0, O_LIST }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    qbudget_in in = { 0 };
    in.ratio = 20;
    in.attn_factor = 6;
    const qmodel_preset *preset = NULL;
    int non_embedding = 0, json = 0, layers = 0, width = 0, ctx = 0;
    const char *accel_name = "a100";
    double peak = 0, mfu = 0.4, devices = 1, price = 0, smfu = 0;
    double stph = 0, susers = 0, squeries = 0, swords = 0, wpt = 0.75;
    int ctx_given = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "N:D:C:h", opts, NULL)) != -1) {
        double v;
        switch (c) {
        case 'N':
            preset = qbudget_preset(optarg);
            if (!preset && parse_num("--params", optarg, &in.params)) return QEXIT_USAGE;
            break;
        case 'D': if (parse_num("--tokens", optarg, &in.tokens)) return QEXIT_USAGE; break;
        case 'C': if (parse_num("--flops", optarg, &in.flops)) return QEXIT_USAGE; break;
        case O_COUNT:
            if (!strcmp(optarg, "all")) non_embedding = 0;
            else if (!strcmp(optarg, "non-embedding")) non_embedding = 1;
            else { qerr("--count: 'all' or 'non-embedding', not '%s'", optarg); return QEXIT_USAGE; }
            break;
        case O_FIT:
            if (!strcmp(optarg, "ratio") || !strcmp(optarg, "20n")) { in.rule = QRULE_RATIO; in.fit = NULL; }
            else if (!strcmp(optarg, "chinchilla")) { in.rule = QRULE_FIT; in.fit = &QFIT_HOFFMANN2022; }
            else if (!strcmp(optarg, "besiroglu")) { in.rule = QRULE_FIT; in.fit = &QFIT_BESIROGLU2024; }
            else { qerr("--fit: ratio, chinchilla or besiroglu, not '%s'", optarg); return QEXIT_USAGE; }
            break;
        case O_RATIO: if (parse_num("--ratio", optarg, &in.ratio) || in.ratio <= 0) return QEXIT_USAGE; break;
        case O_CTX: if (parse_num("--ctx", optarg, &v)) return QEXIT_USAGE; ctx = (int)v; ctx_given = 1; break;
        case O_LAYERS: if (parse_num("--layers", optarg, &v)) return QEXIT_USAGE; layers = (int)v; break;
        case O_WIDTH: if (parse_num("--width", optarg, &v)) return QEXIT_USAGE; width = (int)v; break;
        case O_ATTN: if (parse_num("--attn-factor", optarg, &in.attn_factor)) return QEXIT_USAGE; break;
        case O_ACCEL:
            if (!qbudget_accel(optarg)) { qerr("--accel: unknown accelerator '%s' (see --list)", optarg); return QEXIT_USAGE; }
            accel_name = optarg;
            break;
        case O_PEAK: if (parse_num("--peak", optarg, &peak)) return QEXIT_USAGE; break;
        case O_MFU:
            if (parse_num("--mfu", optarg, &mfu) || mfu <= 0 || mfu > 1) { qerr("--mfu: a fraction in (0, 1]"); return QEXIT_USAGE; }
            break;
        case O_DEVICES: if (parse_num("--devices", optarg, &devices) || devices < 1) return QEXIT_USAGE; break;
        case O_PRICE: if (parse_num("--price", optarg, &price)) return QEXIT_USAGE; break;
        case O_STPH: if (parse_num("--serve-tokens-per-hour", optarg, &stph)) return QEXIT_USAGE; break;
        case O_SUSERS: if (parse_num("--serve-users", optarg, &susers)) return QEXIT_USAGE; break;
        case O_SQUERIES: if (parse_num("--serve-queries", optarg, &squeries)) return QEXIT_USAGE; break;
        case O_SWORDS: if (parse_num("--serve-words", optarg, &swords)) return QEXIT_USAGE; break;
        case O_WPT: if (parse_num("--words-per-token", optarg, &wpt) || wpt <= 0) return QEXIT_USAGE; break;
        case O_SMFU:
            if (parse_num("--serve-mfu", optarg, &smfu) || smfu <= 0 || smfu > 1) { qerr("--serve-mfu: a fraction in (0, 1]"); return QEXIT_USAGE; }
            break;
        case O_JSON: json = 1; break;
        case O_LIST: list_all(); return QEXIT_OK;
        case 'h': usage(stdout); return QEXIT_OK;
        default: usage(stderr); return QEXIT_USAGE;
        }
    }
    if (optind < argc) {
        qerr("unexpected argument '%s'", argv[optind]);
        return QEXIT_USAGE;
    }
    if (in.params <= 0 && in.tokens <= 0 && in.flops <= 0 && !preset) {
        qerr("give one of --params (or a preset), --tokens or --flops; see --help");
        return QEXIT_USAGE;
    }

    /* Which parameters N counts. */
    qparam_count pc = { 0 };
    char counted[400];
    if (preset) {
        qbudget_count_params(&preset->shape, &pc);
        in.params = non_embedding ? pc.non_embedding : pc.total;
        char t[32], e[32], p[32], ne[32];
        qbudget_human(pc.total, t, sizeof t);
        qbudget_human(pc.token_embedding, e, sizeof e);
        qbudget_human(pc.position_embedding, p, sizeof p);
        qbudget_human(pc.non_embedding, ne, sizeof ne);
        if (non_embedding)
            snprintf(counted, sizeof counted,
                     "non-embedding weights only (Kaplan et al.): %s of %s in all; token embedding %s "
                     "and position embedding %s left out", ne, t, e, p);
        else
            snprintf(counted, sizeof counted,
                     "every trained weight (as Chinchilla counts): token embedding %s (vocabulary %d, "
                     "unpadded; tied to the output layer, counted once) + position embedding %s + %s "
                     "non-embedding", e, preset->shape.vocab, p, ne);
        layers = layers ? layers : preset->shape.n_layer;
        width = width ? width : preset->shape.d_model;
        if (ctx_given && ctx == 0) ctx = preset->shape.ctx;
    } else if (non_embedding) {
        qerr("--count non-embedding needs a preset (a plain number is used as given)");
        return QEXIT_USAGE;
    } else {
        snprintf(counted, sizeof counted, "%s (every weight you train, embeddings included, as Chinchilla's "
                                          "fits count them)", in.params > 0 ? "as given" : "derived");
    }
    if (ctx_given) {
        if (!layers || !width || ctx <= 0) {
            qerr("--ctx needs the model shape: a preset, or --layers and --width");
            return QEXIT_USAGE;
        }
        in.n_layer = layers;
        in.d_model = width;
        in.ctx = ctx;
    }

    qbudget_out out;
    char err[256];
    if (qbudget_solve(&in, &out, err, sizeof err)) {
        qerr("%s", err);
        return QEXIT_USAGE;
    }

    const qaccel *acc = qbudget_accel(accel_name);
    qtrain_cost tc = { 0 };
    tc.peak_flops = peak > 0 ? peak : acc->peak_flops;
    tc.mfu = mfu;
    tc.devices = devices;
    tc.price = price;
    qbudget_train_cost(out.flops, &tc);

    int serving = stph > 0 || susers > 0;
    qserve_cost sc = { 0 };
    if (serving) {
        if (stph <= 0) {
            if (susers <= 0 || squeries <= 0 || swords <= 0) {
                qerr("serving: give --serve-tokens-per-hour, or all of --serve-users, --serve-queries, --serve-words");
                return QEXIT_USAGE;
            }
            stph = susers * squeries * swords / wpt;
        }
        sc.params = out.params;
        sc.tokens_per_hour = stph;
        sc.peak_flops = tc.peak_flops;
        sc.mfu = smfu > 0 ? smfu : mfu;
        sc.price = price;
        qbudget_serve_cost(&sc);
    }
    const char *rule = in.rule == QRULE_FIT ? (in.fit == &QFIT_HOFFMANN2022 ? "chinchilla-approach3" : "besiroglu2024") : "ratio";

    if (json) {
        strbuf o = STRBUF_INIT;
        sb_addc(&o, '{');
        jnum(&o, "params", out.params);
        jstr(&o, "params_counted", preset ? (non_embedding ? "non-embedding" : "all") : "given");
        if (preset) jstr(&o, "preset", preset->name);
        jnum(&o, "tokens", out.tokens);
        jnum(&o, "flops", out.flops);
        jnum(&o, "flops_6nd", out.flops_6nd);
        jnum(&o, "flops_attention", out.flops_attn);
        if (in.ctx) jnum(&o, "ctx", in.ctx);
        jnum(&o, "tokens_per_param", out.tokens_per_param);
        jnum(&o, "pf_days", out.flops / 8.64e19);
        jstr(&o, "rule", rule);
        if (in.rule == QRULE_RATIO) jnum(&o, "ratio", in.ratio);
        jkey(&o, "rule_used");
        sb_adds(&o, out.used_rule ? "true," : "false,");
        jstr(&o, "solved", out.solved);
        if (isfinite(out.loss)) jnum(&o, "predicted_loss", out.loss);
        jkey(&o, "train");
        sb_addc(&o, '{');
        jstr(&o, "accelerator", peak > 0 ? "custom" : acc->name);
        jnum(&o, "peak_flops", tc.peak_flops);
        jnum(&o, "mfu", tc.mfu);
        jnum(&o, "devices", tc.devices);
        jnum(&o, "device_hours", tc.device_hours);
        jnum(&o, "wall_hours", tc.wall_hours);
        if (price > 0) {
            jnum(&o, "price_per_device_hour", price);
            jnum(&o, "cost", tc.cost);
        }
        jclose(&o, '}');
        sb_addc(&o, ',');
        if (serving) {
            jkey(&o, "serve");
            sb_addc(&o, '{');
            jnum(&o, "tokens_per_hour", sc.tokens_per_hour);
            jnum(&o, "flops_per_token", sc.flops_per_token);
            jnum(&o, "flops_per_hour", sc.flops_per_hour);
            jnum(&o, "mfu", sc.mfu);
            jnum(&o, "devices_needed", sc.devices_needed);
            jnum(&o, "devices_provisioned", sc.devices_provisioned);
            if (price > 0) {
                jnum(&o, "hours_per_month", QHOURS_PER_MONTH);
                jnum(&o, "cost_per_month", sc.cost_per_month);
            }
            jclose(&o, '}');
        }
        jclose(&o, '}');
        puts(o.buf);
        sb_free(&o);
        return QEXIT_OK;
    }

    char a[32], b[32], cbuf[64];
    printf("parameters  N = %s (%.6g)%s%s\n", qbudget_human(out.params, a, sizeof a), out.params,
           preset ? ", preset " : "", preset ? preset->name : "");
    printf("            counted: %s\n", counted);
    printf("tokens      D = %s (%.6g), %.3g tokens per parameter\n", qbudget_human(out.tokens, a, sizeof a),
           out.tokens, out.tokens_per_param);
    printf("compute     C = %.4g FLOPs = %.4g PF-days", out.flops, out.flops / 8.64e19);
    if (out.flops_attn > 0)
        printf(" = 6 N D %.4g + attention %g L d T D %.4g (L=%d d=%d T=%d)", out.flops_6nd, in.attn_factor,
               out.flops_attn, in.n_layer, in.d_model, in.ctx);
    else
        printf(" (6 N D)");
    printf("\n");
    if (!out.used_rule)
        printf("rule        none needed: two of N, D, C given (derived: %s)\n", out.solved);
    else if (in.rule == QRULE_RATIO)
        printf("rule        D = %g N (Hoffmann et al. 2022: ~20 tokens per parameter); derived: %s\n", in.ratio,
               out.solved);
    else
        printf("rule        %s loss fit: E=%g A=%g B=%g alpha=%g beta=%g; compute-optimal; derived: %s\n",
               in.fit->name, in.fit->E, in.fit->A, in.fit->B, in.fit->alpha, in.fit->beta, out.solved);
    if (isfinite(out.loss)) printf("loss        predicted by the %s fit: %.4f\n", in.fit->name, out.loss);
    if (tc.device_hours >= 1000) commas(tc.device_hours, cbuf, sizeof cbuf);
    else snprintf(cbuf, sizeof cbuf, "%.4g", tc.device_hours);
    printf("training    on %s at %.4g TFLOP/s peak, %.3g%% utilisation: %s device-hours",
           peak > 0 ? "a custom device" : acc->name, tc.peak_flops / 1e12, tc.mfu * 100, cbuf);
    if (peak <= 0 && acc->gpus > 1)
        printf(" (one %s for %.3g years; %.4g GPU-years)", acc->name, tc.single_device_years,
               tc.single_device_years * acc->gpus);
    else
        printf(" (one device for %.3g years)", tc.single_device_years);
    printf("\n");
    printf("            with %g device%s: %.4g hours = %.4g days\n", tc.devices, tc.devices == 1 ? "" : "s",
           tc.wall_hours, tc.wall_hours / 24);
    if (price > 0) printf("cost        at $%g per device-hour: $%s\n", price, commas(tc.cost, cbuf, sizeof cbuf));
    if (serving) {
        printf("serving     2 N = %.4g TFLOPs per 1,000 generated tokens; %s tokens/hour at peak = %.4g FLOPs/hour\n",
               sc.flops_per_token * 1000 / 1e12, qbudget_human(sc.tokens_per_hour, b, sizeof b), sc.flops_per_hour);
        printf("            at %.3g%% of %.4g TFLOP/s: %.1f devices busy, provision %.0f",
               sc.mfu * 100, sc.peak_flops / 1e12, sc.devices_needed, sc.devices_provisioned);
        if (price > 0)
            printf(", $%s per month (%.1f h/month)", commas(sc.cost_per_month, cbuf, sizeof cbuf), QHOURS_PER_MONTH);
        printf("\n");
    }
    return QEXIT_OK;
}
