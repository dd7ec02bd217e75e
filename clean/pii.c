/* pii.c - replace e-mail addresses and public IPv4 addresses with fixed
 * placeholders (pii.email_placeholder, pii.ip_placeholder).
 *
 * E-mail: local part [A-Za-z0-9._%+-]+ (not starting or ending with "."),
 * "@", then two or more labels [A-Za-z0-9-]+ joined by single dots, labels
 * not starting or ending with "-", the last one (the TLD) at least two
 * letters. Scanned around each "@", so text without "@" costs one memchr.
 *
 * IPv4: four decimal octets 0-255 (no leading zeros) joined by dots, not
 * inside a longer run of digits and dots or glued to letters. Only public
 * addresses are replaced: the private, shared, loopback, link-local,
 * documentation, benchmarking, multicast and reserved ranges (RFC 6890 and
 * friends) are kept, since they identify nobody. */
#include <string.h>

#include "clean_impl.h"

static const struct { uint32_t net; int bits; } non_public[] = {
    { 0x00000000u, 8 },   /* 0.0.0.0/8 "this network" */
    { 0x0A000000u, 8 },   /* 10/8 private */
    { 0x64400000u, 10 },  /* 100.64/10 shared (CGN) */
    { 0x7F000000u, 8 },   /* 127/8 loopback */
    { 0xA9FE0000u, 16 },  /* 169.254/16 link-local */
    { 0xAC100000u, 12 },  /* 172.16/12 private */
    { 0xC0000000u, 24 },  /* 192.0.0/24 IETF protocol assignments */
    { 0xC0000200u, 24 },  /* 192.0.2/24 TEST-NET-1 */
    { 0xC0586300u, 24 },  /* 192.88.99/24 6to4 relay (deprecated) */
    { 0xC0A80000u, 16 },  /* 192.168/16 private */
    { 0xC6120000u, 15 },  /* 198.18/15 benchmarking */
    { 0xC6336400u, 24 },  /* 198.51.100/24 TEST-NET-2 */
    { 0xCB007100u, 24 },  /* 203.0.113/24 TEST-NET-3 */
    { 0xE0000000u, 4 },   /* 224/4 multicast */
    { 0xF0000000u, 4 },   /* 240/4 reserved, includes 255.255.255.255 */
};

int ipv4_is_public(uint32_t a)
{
    for (size_t i = 0; i < sizeof non_public / sizeof non_public[0]; i++) {
        uint32_t mask = 0xFFFFFFFFu << (32 - non_public[i].bits);
        if ((a & mask) == non_public[i].net) return 0;
    }
    return 1;
}

static inline int is_digit(int c) { return c >= '0' && c <= '9'; }
static inline int is_alnum(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static inline int is_local(int c)
{
    return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

/* An IPv4 address starting at i? Returns its length and the address. */
static size_t ipv4_at(const char *s, size_t len, size_t i, uint32_t *addr)
{
    if (i > 0) {
        unsigned char p = (unsigned char)s[i - 1];
        if (is_alnum(p) || p == '.' || p == '_' || p >= 0x80) return 0;
    }
    uint32_t a = 0;
    size_t j = i;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (j >= len || s[j] != '.') return 0;
            j++;
        }
        size_t b = j;
        unsigned v = 0;
        while (j < len && is_digit(s[j]) && j - b < 4) v = v * 10 + (unsigned)(s[j++] - '0');
        size_t n = j - b;
        if (n == 0 || n > 3 || v > 255 || (n > 1 && s[b] == '0')) return 0;
        a = a << 8 | v;
    }
    if (j < len) {
        unsigned char c = (unsigned char)s[j];
        if (is_alnum(c) || c == '_' || c >= 0x80) return 0;
        if (c == '.' && j + 1 < len && is_digit(s[j + 1])) return 0;
    }
    *addr = a;
    return j - i;
}

/* An e-mail address whose "@" is at `at`? Returns [*b, *e). */
static int email_at(const char *s, size_t len, size_t at, size_t *b, size_t *e)
{
    size_t l = at;
    while (l > 0 && is_local((unsigned char)s[l - 1])) l--;
    while (l < at && s[l] == '.') l++;              /* no leading dot */
    if (l == at || s[at - 1] == '.') return 0;
    /* domain labels */
    size_t j = at + 1, last_label_b = 0, good_end = 0;
    int labels = 0;
    for (;;) {
        size_t lb = j;
        while (j < len && (is_alnum((unsigned char)s[j]) || s[j] == '-')) j++;
        if (j == lb || s[lb] == '-' || s[j - 1] == '-') break;
        labels++;
        last_label_b = lb;
        good_end = j;
        if (labels >= 2) {
            /* TLD: letters only, at least two */
            int ok = j - lb >= 2;
            for (size_t k = lb; k < j && ok; k++)
                ok = (s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z');
            if (!ok) {
                /* an address may still end at the previous label */
                good_end = 0;
            }
        }
        if (j + 1 < len && s[j] == '.' && is_alnum((unsigned char)s[j + 1])) {
            j++;
            continue;
        }
        break;
    }
    (void)last_label_b;
    if (labels < 2 || !good_end) return 0;
    *b = l;
    *e = good_end;
    return 1;
}

size_t pii_replace(const clean_config *cfg, const char *s, size_t len, strbuf *out,
                   uint64_t *emails, uint64_t *ips)
{
    const char *ep = cfg->pii.email_placeholder ? cfg->pii.email_placeholder : "";
    const char *ip = cfg->pii.ip_placeholder ? cfg->pii.ip_placeholder : "";
    size_t epl = strlen(ep), ipl = strlen(ip);
    size_t from = 0, n = 0;
    sb_reset(out);
    /* e-mails first: collect by scanning "@" */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '@' && cfg->pii.email) {
            size_t b, e;
            if (email_at(s, len, i, &b, &e) && b >= from) {
                if (!(e - b == epl && memcmp(s + b, ep, epl) == 0)) {
                    sb_add(out, s + from, b - from);
                    sb_add(out, ep, epl);
                    from = e;
                    (*emails)++;
                    n++;
                }
                i = e - 1;
            }
        } else if (is_digit(c) && cfg->pii.ipv4 && i >= from) {
            uint32_t a;
            size_t k = ipv4_at(s, len, i, &a);
            if (k) {
                if (ipv4_is_public(a)) {
                    sb_add(out, s + from, i - from);
                    sb_add(out, ip, ipl);
                    from = i + k;
                    (*ips)++;
                    n++;
                }
                i += k - 1;
            } else {
                while (i + 1 < len && is_digit(s[i + 1])) i++;
            }
        }
    }
    if (n) sb_add(out, s + from, len - from);
    return n;
}

int pii_apply(clean_ctx *cx)
{
    clean_doc *d = cx->doc;
    if (pii_replace(&cx->cc->cfg, sb_str(&d->text), d->text.len, &cx->tmp, &d->pii_emails,
                    &d->pii_ips))
        cx_set_text(cx, CF_PII, &cx->tmp);
    return CR_NONE;
}
