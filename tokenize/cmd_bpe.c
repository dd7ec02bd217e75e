/* cmd_bpe.c - `quern bpe train|convert|encode|decode`: train a byte-level BPE
 * vocabulary, convert between vocabulary formats, and encode or decode text
 * from the command line (what a user needs to check a vocabulary by eye). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../common/cli.h"
#include "../common/cli_stream.h"
#include "../common/commands.h"
#include "../common/doc.h"
#include "../common/io.h"
#include "bpe.h"
#include "bpe_train.h"
#include "vocab.h"
#include "vocab_internal.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: quern bpe <subcommand> [options]\n\n"
        "  train    --vocab-size V [-o DIR] [options] inputs...   learn a vocabulary (see bpe train --help)\n"
        "  convert  --vocab SPEC -o OUT [--to tiktoken|hf|gpt2]   write a vocabulary in another format\n"
        "  encode   --vocab SPEC [--jsonl|--whole] [inputs...]     text -> ids, one line of ids per document\n"
        "  decode   --vocab SPEC [ids...]                          ids (arguments or stdin) -> bytes on stdout\n\n"
        "SPEC is a built-in name (gpt2, r50k_base, p50k_base, cl100k_base, o200k_base; looked up in\n"
        "$QUERN_DATA/tokenizers, made offline by scripts/vocab-from-npm.sh), a .tiktoken file (with its\n"
        ".json sidecar), a tokenizer.json, a GPT-2 encoder.json (+ vocab.bpe), an npm tiktoken\n"
        "encoders/*.json, or a directory holding one of these.\n\n"
        "convert: OUT ending in .tiktoken writes OUT + OUT.json (pattern, special tokens); ending in\n"
        ".json writes a Hugging Face tokenizer.json; --to gpt2 writes OUT/encoder.json + OUT/vocab.bpe.\n"
        "encode: plain input is split into lines (the newline is not encoded) and each line is one\n"
        "document; --jsonl takes the text field (--text-field) of each JSON line; --whole encodes the\n"
        "entire input as one text. --allow-special recognises special tokens (default: plain text).\n"
        "--time prints the seconds spent encoding (excluding reading and writing) to stderr.\n\n"
        "Exit: 0 ok; 1 an input that cannot be read, bad lines skipped (encode --jsonl), ids that\n"
        "are not numbers or not in the vocabulary (decode), a vocabulary that fails to convert or\n"
        "an output that cannot be written; 2 bad usage or a vocabulary that cannot be loaded\n"
        "(encode, decode).\n");
}

static qbpe *load_bpe(const char *spec)
{
    char err[QERR_LEN];
    qvocab v;
    qvocab_init(&v);
    if (qvocab_load(&v, spec, err, sizeof err) < 0) {
        qerr("%s", err);
        qvocab_free(&v);
        return NULL;
    }
    qbpe *b = qbpe_new(&v, err, sizeof err);
    qvocab_free(&v);
    if (!b) qerr("%s: %s", spec, err);
    return b;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void put_ids(strbuf *o, const qbpe_ids *ids)
{
    for (size_t i = 0; i < ids->n; i++) {
        char tmp[12];
        int k = 0;
        uint32_t x = ids->v[i];
        do tmp[k++] = (char)('0' + x % 10); while ((x /= 10));
        if (i) sb_addc(o, ' ');
        while (k) sb_addc(o, tmp[--k]);
    }
    sb_addc(o, '\n');
}

typedef struct encode_state {
    const qbpe *b;
    qbpe_scratch *s;
    qbpe_ids ids;
    strbuf out;
    int allow_special;
    double secs;
    size_t repairs;
    uint64_t tokens, bytes, docs;
    int failed;
} encode_state;

static void encode_one(encode_state *st, const char *text, size_t len)
{
    st->ids.n = 0;
    double t0 = now_s();
    if (qbpe_encode(st->b, st->s, text, len, st->allow_special, &st->ids, &st->repairs) < 0)
        st->failed = 1;
    st->secs += now_s() - t0;
    st->tokens += st->ids.n;
    st->bytes += len;
    st->docs++;
    put_ids(&st->out, &st->ids);
    if (st->out.len > (1 << 20)) {
        fwrite(st->out.buf, 1, st->out.len, stdout);
        sb_reset(&st->out);
    }
}

static int cmd_encode(int argc, char **argv)
{
    static const struct option opts[] = {
        { "vocab", required_argument, 0, 'v' }, { "jsonl", no_argument, 0, 'J' },
        { "whole", no_argument, 0, 'W' },       CLI_OPT_TEXT_FIELD,
        { "allow-special", no_argument, 0, 'S' }, { "time", no_argument, 0, 't' },
        { "help", no_argument, 0, 'h' },        { 0, 0, 0, 0 },
    };
    const char *vocab = NULL, *field = NULL;
    int jsonl = 0, whole = 0, allow = 0, timing = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "v:h", opts, NULL)) != -1) {
        switch (c) {
        case 'v': vocab = optarg; break;
        case 'J': jsonl = 1; break;
        case 'W': whole = 1; break;
        case CLI_O_TEXT_FIELD: field = optarg; break;
        case 'S': allow = 1; break;
        case 't': timing = 1; break;
        case 'h': usage(stdout); return QEXIT_OK;
        default: usage(stderr); return QEXIT_USAGE;
        }
    }
    if (!vocab) {
        qerr("encode: --vocab is required");
        return QEXIT_USAGE;
    }
    qbpe *b = load_bpe(vocab);
    if (!b) return QEXIT_USAGE;
    char err[QERR_LEN];
    qinputs in;
    if (qinputs_expand(&in, argv + optind, argc - optind, 0, 1, err, sizeof err) < 0) {
        qerr("%s", err);
        qbpe_free(b);
        return QEXIT_BADINPUT;
    }
    encode_state st = { .b = b, .s = qbpe_scratch_new(), .allow_special = allow };
    int rc = QEXIT_OK;
    if (jsonl) {
        qdoc_reader_opts ro = { .text_field = field, .skip_bad = 1 };
        qdoc_reader *r = qdoc_reader_open(in.paths, in.n, &ro);
        qdoc d;
        qdoc_init(&d);
        int k;
        while ((k = qdoc_reader_next(r, &d)) == 1) {
            st.repairs += d.repairs;
            encode_one(&st, d.text.buf, d.text.len);
        }
        if (k < 0 || qdoc_reader_errors(r) || qdoc_reader_failed_inputs(r)) rc = QEXIT_BADINPUT;
        qdoc_free(&d);
        qdoc_reader_close(r);
    } else {
        strbuf all = STRBUF_INIT, line = STRBUF_INIT;
        for (size_t i = 0; i < in.n && rc == QEXIT_OK; i++) {
            qin *q = qin_open(in.paths[i], err, sizeof err);
            if (!q) {
                qerr("%s", err);
                rc = QEXIT_BADINPUT;
                break;
            }
            if (whole) {
                char buf[1 << 16];
                ssize_t n;
                while ((n = qin_read(q, buf, sizeof buf, err, sizeof err)) > 0) sb_add(&all, buf, (size_t)n);
                if (n < 0) { qerr("%s", err); rc = QEXIT_BADINPUT; }
            } else {
                int k;
                while ((k = qin_getline(q, &line, err, sizeof err)) == 1) encode_one(&st, line.buf, line.len);
                if (k < 0) { qerr("%s", err); rc = QEXIT_BADINPUT; }
            }
            qin_close(q);
        }
        if (whole && rc == QEXIT_OK) encode_one(&st, all.buf ? all.buf : "", all.len);
        sb_free(&all);
        sb_free(&line);
    }
    fwrite(st.out.buf, 1, st.out.len, stdout);
    fflush(stdout);
    if (st.failed) {
        qerr("the split pattern hit a PCRE2 resource limit on some input");
        rc = QEXIT_BADINPUT;
    }
    if (st.repairs) fprintf(stderr, "quern bpe: %zu invalid UTF-8 sequences replaced by U+FFFD\n", st.repairs);
    if (timing)
        fprintf(stderr, "quern bpe encode: docs=%llu bytes=%llu tokens=%llu encode_seconds=%.3f MB/s=%.2f\n",
                (unsigned long long)st.docs, (unsigned long long)st.bytes, (unsigned long long)st.tokens,
                st.secs, st.secs > 0 ? st.bytes / 1e6 / st.secs : 0.0);
    sb_free(&st.out);
    qbpe_ids_free(&st.ids);
    qbpe_scratch_free(st.s);
    qinputs_free(&in);
    qbpe_free(b);
    return rc;
}

static int cmd_decode(int argc, char **argv)
{
    static const struct option opts[] = {
        { "vocab", required_argument, 0, 'v' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    const char *vocab = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "v:h", opts, NULL)) != -1) {
        if (c == 'v') vocab = optarg;
        else if (c == 'h') { usage(stdout); return QEXIT_OK; }
        else { usage(stderr); return QEXIT_USAGE; }
    }
    if (!vocab) {
        qerr("decode: --vocab is required");
        return QEXIT_USAGE;
    }
    qbpe *b = load_bpe(vocab);
    if (!b) return QEXIT_USAGE;
    qbpe_ids ids = { 0 };
    int bad = 0;
    if (optind < argc) {
        for (int i = optind; i < argc; i++) {
            char *e;
            unsigned long x = strtoul(argv[i], &e, 10);
            if (*e || x > UINT32_MAX) bad = 1;
            else qbpe_ids_push(&ids, (uint32_t)x);
        }
    } else {
        unsigned long x;
        int k;
        while ((k = scanf("%lu", &x)) == 1) qbpe_ids_push(&ids, (uint32_t)x);
        if (k != EOF) bad = 1;
    }
    strbuf out = STRBUF_INIT;
    size_t unknown = qbpe_decode(b, ids.v, ids.n, &out);
    fwrite(out.buf, 1, out.len, stdout);
    if (unknown) qerr("decode: %zu unknown ids skipped", unknown);
    if (bad) qerr("decode: input that is not a token id was ignored");
    sb_free(&out);
    qbpe_ids_free(&ids);
    qbpe_free(b);
    return unknown || bad ? QEXIT_BADINPUT : QEXIT_OK;
}

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcmp(s + n - m, suf);
}

static int cmd_convert(int argc, char **argv)
{
    static const struct option opts[] = {
        { "vocab", required_argument, 0, 'v' }, { "output", required_argument, 0, 'o' },
        { "to", required_argument, 0, 't' },    { "name", required_argument, 0, 'n' },
        { "help", no_argument, 0, 'h' },        { 0, 0, 0, 0 },
    };
    const char *vocab = NULL, *out = NULL, *to = NULL, *name = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "v:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'v': vocab = optarg; break;
        case 'o': out = optarg; break;
        case 't': to = optarg; break;
        case 'n': name = optarg; break;
        case 'h': usage(stdout); return QEXIT_OK;
        default: usage(stderr); return QEXIT_USAGE;
        }
    }
    if (!vocab && optind < argc) vocab = argv[optind++];
    if (!vocab || !out) {
        qerr("convert: --vocab and -o are required");
        return QEXIT_USAGE;
    }
    if (!to) to = has_suffix(out, ".tiktoken") ? "tiktoken" : has_suffix(out, ".json") ? "hf" : NULL;
    if (!to || (strcmp(to, "tiktoken") && strcmp(to, "hf") && strcmp(to, "gpt2"))) {
        qerr("convert: say --to tiktoken|hf|gpt2 (or name OUT *.tiktoken / *.json)");
        return QEXIT_USAGE;
    }
    char err[QERR_LEN];
    qvocab v;
    qvocab_init(&v);
    if (qvocab_load(&v, vocab, err, sizeof err) < 0) {
        qerr("%s", err);
        qvocab_free(&v);
        return QEXIT_BADINPUT;
    }
    if (name) qvocab_set_name(&v, name);
    /* validate (duplicates, bytes, pattern) before writing anything */
    int rc;
    qvocab copy;
    qvocab_copy(&copy, &v);
    qbpe *b = qbpe_new(&copy, err, sizeof err);
    qvocab_free(&copy);
    if (!b) {
        qerr("%s: %s", vocab, err);
        qvocab_free(&v);
        return QEXIT_BADINPUT;
    }
    qbpe_free(b);
    if (!strcmp(to, "tiktoken")) {
        rc = qvocab_save_tiktoken(&v, out, err, sizeof err);
    } else if (!strcmp(to, "hf")) {
        rc = qvocab_save_hf(&v, out, err, sizeof err);
    } else {
        strbuf e = STRBUF_INIT, m = STRBUF_INIT;
        sb_addf(&e, "%s/encoder.json", out);
        sb_addf(&m, "%s/vocab.bpe", out);
        rc = qvocab_save_gpt2(&v, e.buf, m.buf, err, sizeof err);
        sb_free(&e);
        sb_free(&m);
    }
    if (rc < 0) qerr("%s", err);
    qvocab_free(&v);
    return rc < 0 ? QEXIT_BADINPUT : QEXIT_OK;
}

int cmd_bpe(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return QEXIT_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        usage(stdout);
        return QEXIT_OK;
    }
    if (!strcmp(sub, "train")) return cmd_bpe_train(argc - 1, argv + 1);
    if (!strcmp(sub, "convert")) return cmd_convert(argc - 1, argv + 1);
    if (!strcmp(sub, "encode")) return cmd_encode(argc - 1, argv + 1);
    if (!strcmp(sub, "decode")) return cmd_decode(argc - 1, argv + 1);
    qerr("'%s' is not a bpe subcommand (train, convert, encode, decode)", sub);
    usage(stderr);
    return QEXIT_USAGE;
}
