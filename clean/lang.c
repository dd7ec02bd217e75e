/* lang.c - language identification with CLD2 (lang_cld2.cc).
 *
 * lang = CLD2's top language (ISO 639-1 where one exists: "en", "de",
 * "zh-Hant"; "un" when it finds none). Score of a language = the share of
 * the text CLD2 attributes to it (its percent / 100), halved when CLD2 does
 * not call the guess reliable. Both go into metadata (lang, lang_score).
 * With lang.keep set (default "en"), a document is kept when one of CLD2's
 * top three languages is in the list with a score > lang.threshold
 * (datatrove's rule, default 0.65); otherwise it is dropped with
 * lang_low_score when the top language is listed (but scores too low), else
 * lang_not_allowed. lang.keep=all only labels.
 *
 * Speed: CLD2 reads about 47 MB/s per core (measured), slower than the whole
 * rest of the cascade, so a text longer than lang.max_bytes (default 1024)
 * is sampled: three slices of max_bytes/3 from its start, middle and end. */
#include <string.h>

#include "clean_impl.h"

int lang_apply(clean_ctx *cx)
{
    const clean_cascade *cc = cx->cc;
    clean_doc *d = cx->doc;
    const char *s = sb_str(&d->text);
    size_t len = d->text.len;
    int64_t max = cc->cfg.lang.max_bytes;
    if (max > 0 && len > (uint64_t)max) {
        /* three slices (start, middle, end), each cut at character boundaries */
        size_t part = (size_t)max / 3, starts[3] = { 0, len / 2 - part / 2, len - part };
        strbuf *smp = &cx->tmp;
        sb_reset(smp);
        for (int k = 0; k < 3; k++) {
            size_t b = starts[k], e = b + part;
            while (b > 0 && ((unsigned char)s[b] & 0xC0) == 0x80) b++;
            while (e < len && ((unsigned char)s[e] & 0xC0) == 0x80) e--;
            if (e > b) {
                if (k) sb_addc(smp, '\n');
                sb_add(smp, s + b, e - b);
            }
        }
        s = smp->buf;
        len = smp->len;
    }
    char codes[3][16];
    int pct[3], reliable = 0;
    int n = cld2_detect(s, len, codes, pct, &reliable);
    double scale = reliable ? 1.0 : 0.5;
    if (n == 0) {
        strcpy(codes[0], "un");
        pct[0] = 0;
        n = 1;
    }
    memcpy(d->lang, codes[0], sizeof d->lang);
    d->lang_score = pct[0] / 100.0 * scale;
    d->lang_set = 1;
    if (cc->n_keep_langs == 0) return CR_NONE;
    for (int i = 0; i < n; i++)
        for (size_t k = 0; k < cc->n_keep_langs; k++)
            if (strcmp(codes[i], cc->keep_langs[k]) == 0 && pct[i] / 100.0 * scale > cc->cfg.lang.threshold)
                return CR_NONE;
    /* why not: the top language is listed but scores too low, or it is not */
    for (size_t k = 0; k < cc->n_keep_langs; k++)
        if (strcmp(codes[0], cc->keep_langs[k]) == 0) return CR_LANG_LOW_SCORE;
    return CR_LANG_NOT_ALLOWED;
}
