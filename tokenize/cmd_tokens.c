/* cmd_tokens.c - `quern tokens inspect|decode`: see what is inside a token
 * shard (header, counts, documents decoded) without writing any code. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/cli.h"
#include "../common/commands.h"
#include "../common/io.h"
#include "../common/json.h"
#include "../common/manifest.h"
#include "../common/shard.h"
#include "bpe.h"
#include "pretok.h"
#include "vocab.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: quern tokens inspect [--vocab SPEC] [--docs N] FILE.bin|DIR\n"
        "       quern tokens decode  [--vocab SPEC] [--doc I] [--jsonl|--raw] FILE.bin\n\n"
        "inspect: the header (magic, version, token count), documents (from the .idx), token id\n"
        "range, EOT count, the checksum against manifest.json, and the first N documents (default 3)\n"
        "decoded. A directory shows its manifest.json and every shard's header.\n"
        "decode: every document (or only document I) decoded to text, one per line with --jsonl\n"
        "({\"text\":...}), else each followed by a newline; the leading EOT of each document is\n"
        "dropped unless --raw, which writes all token bytes as they are.\n"
        "The vocabulary comes from --vocab, else from the manifest.json beside the shard (the\n"
        "vocabulary file `quern tokenize` used, or a built-in name such as cl100k_base).\n\n"
        "Exit: 0 ok; 1 a missing or unreadable FILE, a shard that fails to open (bad header, size\n"
        "or .idx), a DIR whose manifest.json is unreadable or names missing shards or checksums\n"
        "that differ (for a single FILE a differing checksum is shown, not an error), or token\n"
        "ids not in the vocabulary (decode); 2 bad usage, decode without a vocabulary or --doc\n"
        "past the last document.\n");
}

static char *dir_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? strndup(path, (size_t)(s - path)) : strdup(".");
}

/* The vocabulary: --vocab, else the manifest's tokenizer.path, else its
 * tokenizer name if that is a built-in. */
static qbpe *find_vocab(const char *spec, const qmanifest *m, int quiet)
{
    char err[QERR_LEN];
    struct stat st;
    const char *tp = !spec && m && m->tok_path && stat(m->tok_path, &st) == 0 ? m->tok_path : NULL;
    const char *use = spec ? spec : tp ? tp : (m && m->tok_name && qpretok_builtin(m->tok_name)) ? m->tok_name : NULL;
    if (!use) {
        if (!quiet) fprintf(stderr, "quern tokens: no --vocab (and the manifest names no vocabulary file or "
                                    "built-in): showing ids only\n");
        return NULL;
    }
    qvocab v;
    qvocab_init(&v);
    if (qvocab_load(&v, use, err, sizeof err) < 0) {
        qerr("%s", err);
        qvocab_free(&v);
        return NULL;
    }
    char hash[17];
    qvocab_hash(&v, hash);
    if (m && m->tok_hash[0] && strcmp(hash, m->tok_hash))
        fprintf(stderr, "quern tokens: warning: vocabulary %s (hash %s) differs from the manifest's (%s)\n",
                use, hash, m->tok_hash);
    qbpe *b = qbpe_new(&v, err, sizeof err);
    qvocab_free(&v);
    if (!b) qerr("%s: %s", use, err);
    return b;
}

static int load_manifest_near(qmanifest *m, const char *path)
{
    char err[QERR_LEN];
    char *dir = dir_of(path);
    int rc = qmanifest_read(m, dir, err, sizeof err);
    free(dir);
    return rc;
}

static void print_doc(const qbpe *b, const qshard *s, uint64_t start, uint64_t end, size_t limit)
{
    if (!b) {
        printf("   ids:");
        for (uint64_t i = start; i < end && i < start + 64; i++) printf(" %u", qshard_token(s, i));
        printf("%s\n", end - start > 64 ? " ..." : "");
        return;
    }
    strbuf text = STRBUF_INIT, esc = STRBUF_INIT;
    for (uint64_t i = start; i < end && text.len < limit; i++) {
        uint32_t id = qshard_token(s, i);
        qbpe_decode(b, &id, 1, &text);
    }
    int cut = text.len >= limit;
    if (cut) sb_setlen(&text, limit);
    json_put_str(&esc, text.buf, text.len);   /* shows newlines and control bytes visibly */
    printf("   %s%s\n", esc.buf, cut ? " ..." : "");
    sb_free(&text);
    sb_free(&esc);
}

static int inspect_file(const char *path, const char *vocab, size_t ndocs)
{
    qshard s;
    char err[QERR_LEN];
    if (qshard_open(&s, path, 0, err, sizeof err) < 0) {
        qerr("%s", err);
        return QEXIT_BADINPUT;
    }
    qmanifest m;
    qmanifest_init(&m);
    int have_m = load_manifest_near(&m, path) == 0;
    struct stat st;
    stat(path, &st);
    printf("%s\n  header: magic %d, version %d (%s tokens), %llu tokens, file %lld bytes\n", path,
           QSHARD_MAGIC, s.version, s.version == 1 ? "uint16" : "uint32", (unsigned long long)s.n_tokens,
           (long long)st.st_size);
    uint32_t lo = UINT32_MAX, hi = 0;
    for (uint64_t i = 0; i < s.n_tokens; i++) {
        uint32_t t = qshard_token(&s, i);
        if (t < lo) lo = t;
        if (t > hi) hi = t;
    }
    if (s.n_tokens) printf("  token ids: %u .. %u\n", lo, hi);
    if (s.doc_ends) printf("  documents (.idx): %llu, mean %.1f tokens\n", (unsigned long long)s.n_docs,
                           s.n_docs ? (double)s.n_tokens / s.n_docs : 0.0);
    else printf("  documents: no .idx beside the file\n");
    if (have_m) {
        printf("  manifest: tokenizer %s, vocab %llu, eot %u, hash %s\n", m.tok_name ? m.tok_name : "?",
               (unsigned long long)m.vocab_size, m.eot, m.tok_hash);
        uint64_t eots = 0;
        for (uint64_t i = 0; i < s.n_tokens; i++) eots += qshard_token(&s, i) == m.eot;
        printf("  EOT tokens: %llu\n", (unsigned long long)eots);
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        for (size_t i = 0; i < m.n_shards; i++) {
            if (strcmp(m.shards[i].name, base)) continue;
            char hex[17];
            if (qshard_file_checksum(path, hex, err, sizeof err) == 0)
                printf("  xxh3: %s (%s the manifest)\n", hex, strcmp(hex, m.shards[i].xxh3) ? "DIFFERS from" : "matches");
        }
    }
    qbpe *b = find_vocab(vocab, have_m ? &m : NULL, 0);
    uint64_t nd = s.doc_ends ? s.n_docs : 1;
    for (uint64_t d = 0; d < nd && d < ndocs; d++) {
        uint64_t a = 0, e = s.n_tokens;
        if (s.doc_ends) qshard_doc_range(&s, d, &a, &e);
        printf("  document %llu: tokens %llu..%llu (%llu)\n", (unsigned long long)d, (unsigned long long)a,
               (unsigned long long)e, (unsigned long long)(e - a));
        print_doc(b, &s, a, e, 400);
    }
    qbpe_free(b);
    qmanifest_free(&m);
    qshard_close(&s);
    return QEXIT_OK;
}

static int inspect_dir(const char *dir, const char *vocab, size_t ndocs)
{
    qmanifest m;
    qmanifest_init(&m);
    char err[QERR_LEN];
    if (qmanifest_read(&m, dir, err, sizeof err) < 0) {
        qerr("%s", err);
        qmanifest_free(&m);
        return QEXIT_BADINPUT;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < m.n_shards; i++) total += m.shards[i].tokens;
    printf("%s/manifest.json: kind %s, tokenizer %s (vocab %llu, eot %u, hash %s), %zu shards, %llu tokens\n",
           dir, m.kind, m.tok_name ? m.tok_name : "?", (unsigned long long)m.vocab_size, m.eot, m.tok_hash,
           m.n_shards, (unsigned long long)total);
    for (size_t i = 0; i < m.n_sources; i++)
        printf("  source %s: weight %g, %llu tokens taken of %llu\n", m.sources[i].name, m.sources[i].weight,
               (unsigned long long)m.sources[i].tokens_taken, (unsigned long long)m.sources[i].available_tokens);
    int rc = QEXIT_OK;
    for (size_t i = 0; i < m.n_shards; i++) {
        printf("  %s: %llu tokens, %llu docs, %s, xxh3 %s\n", m.shards[i].name,
               (unsigned long long)m.shards[i].tokens, (unsigned long long)m.shards[i].docs, m.shards[i].split,
               m.shards[i].xxh3);
    }
    if (qmanifest_verify(&m, err, sizeof err) < 0) {
        qerr("%s", err);
        rc = QEXIT_BADINPUT;
    } else {
        printf("  all shards present, checksums match\n");
    }
    if (m.n_shards && rc == QEXIT_OK) {
        char *p = qmanifest_shard_path(&m, 0);
        rc = inspect_file(p, vocab, ndocs);
        free(p);
    }
    qmanifest_free(&m);
    return rc;
}

static int decode_file(const char *path, const char *vocab, long only, int jsonl, int raw)
{
    qshard s;
    char err[QERR_LEN];
    if (qshard_open(&s, path, 0, err, sizeof err) < 0) {
        qerr("%s", err);
        return QEXIT_BADINPUT;
    }
    qmanifest m;
    qmanifest_init(&m);
    int have_m = load_manifest_near(&m, path) == 0;
    qbpe *b = find_vocab(vocab, have_m ? &m : NULL, 1);
    if (!b) {
        if (!vocab) qerr("%s: say --vocab (the manifest.json beside it names no vocabulary)", path);
        qmanifest_free(&m);
        qshard_close(&s);
        return QEXIT_USAGE;
    }
    uint32_t eot = qbpe_vocab(b)->eot;
    uint64_t nd = s.doc_ends ? s.n_docs : 1;
    if (only >= 0 && (uint64_t)only >= nd) {
        qerr("%s: --doc %ld: the shard has %llu documents", path, only, (unsigned long long)nd);
        qbpe_free(b);
        qmanifest_free(&m);
        qshard_close(&s);
        return QEXIT_USAGE;
    }
    strbuf text = STRBUF_INIT, line = STRBUF_INIT;
    size_t unknown = 0;
    for (uint64_t d = only >= 0 ? (uint64_t)only : 0; d < nd; d++) {
        uint64_t a = 0, e = s.n_tokens;
        if (s.doc_ends) qshard_doc_range(&s, d, &a, &e);
        sb_reset(&text);
        for (uint64_t i = a; i < e; i++) {
            uint32_t id = qshard_token(&s, i);
            if (!raw && i == a && id == eot) continue;
            unknown += qbpe_decode(b, &id, 1, &text);
        }
        sb_reset(&line);
        if (jsonl) {
            sb_adds(&line, "{\"text\":");
            json_put_str(&line, text.buf, text.len);
            sb_adds(&line, "}\n");
        } else {
            sb_add(&line, text.buf, text.len);
            if (!raw) sb_addc(&line, '\n');
        }
        fwrite(line.buf, 1, line.len, stdout);
        if (only >= 0) break;
    }
    if (unknown) qerr("%s: %zu token ids not in the vocabulary were skipped", path, unknown);
    sb_free(&text);
    sb_free(&line);
    qbpe_free(b);
    qmanifest_free(&m);
    qshard_close(&s);
    return unknown ? QEXIT_BADINPUT : QEXIT_OK;
}

int cmd_tokens(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? QEXIT_USAGE : QEXIT_OK;
    }
    const char *sub = argv[1];
    int is_inspect = !strcmp(sub, "inspect"), is_decode = !strcmp(sub, "decode");
    if (!is_inspect && !is_decode) {
        qerr("'%s' is not a tokens subcommand (inspect, decode)", sub);
        return QEXIT_USAGE;
    }
    enum { O_VOCAB = 1000, O_DOCS, O_DOC, O_JSONL, O_RAW };
    static const struct option opts[] = {
        { "vocab", required_argument, 0, O_VOCAB }, { "docs", required_argument, 0, O_DOCS },
        { "doc", required_argument, 0, O_DOC },     { "jsonl", no_argument, 0, O_JSONL },
        { "raw", no_argument, 0, O_RAW },           { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    const char *vocab = NULL;
    long ndocs = 3, only = -1;
    int jsonl = 0, raw = 0, c;
    optind = 1;
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_VOCAB: vocab = optarg; break;
        case O_DOCS: ndocs = atol(optarg); break;
        case O_DOC: only = atol(optarg); break;
        case O_JSONL: jsonl = 1; break;
        case O_RAW: raw = 1; break;
        case 'h': usage(stdout); return QEXIT_OK;
        default: usage(stderr); return QEXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        qerr("%s: give exactly one FILE", sub);
        return QEXIT_USAGE;
    }
    const char *path = argv[optind];
    struct stat st;
    if (stat(path, &st) != 0) {
        qerr("%s: no such file or directory", path);
        return QEXIT_BADINPUT;
    }
    if (is_inspect) return S_ISDIR(st.st_mode) ? inspect_dir(path, vocab, ndocs < 0 ? 0 : (size_t)ndocs)
                                                : inspect_file(path, vocab, ndocs < 0 ? 0 : (size_t)ndocs);
    if (S_ISDIR(st.st_mode)) {
        qerr("decode: give a shard file (.bin), not a directory");
        return QEXIT_USAGE;
    }
    return decode_file(path, vocab, only, jsonl, raw);
}
