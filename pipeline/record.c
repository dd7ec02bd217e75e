/* record.c - what the done units of a work dir were made from.
 *
 * Units are numbered by input position and found done by their outputs, so a
 * pipeline file edited between runs could silently mix old and new: another
 * input at position 3, or tokens from other options next to the old ones.
 * <workdir>/.pipeline/record.tsv keeps the inputs and each stage's options as
 * the done units saw them. A later run compares: a changed input list, or a
 * changed stage while that stage or any later one has done units, is refused
 * with what changed; a change with nothing done downstream is accepted and
 * recorded (so removing a stage's outputs and what follows, then rerunning,
 * is how options are changed). The quern binary's path is not recorded. */
#include "pipeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void words(strbuf *sb, const char *label, char **w)
{
    sb_adds(sb, label);
    for (; w && *w; w++) {
        sb_addc(sb, ' ');
        qpl_shell_quote(sb, *w);
    }
}

/* One line per stage ("stage\tNAME\tWHAT") and per input ("input\tN\tPATH"). */
static void render(const qpl_config *c, strbuf *out)
{
    for (size_t i = 0; i < c->n_inputs; i++) sb_addf(out, "input\t%zu\t%s\n", i, c->inputs[i]);
    for (int s = 0; s < QPL_NSTAGES; s++) {
        if (!c->enabled[s]) continue;
        strbuf l = STRBUF_INIT;
        switch (s) {
        case QPL_DOCS:
            if (c->has_ingest) words(&l, "ingest:", c->opt_ingest);
            if (c->has_clean) words(&l, c->has_ingest ? " clean:" : "clean:", c->opt_clean);
            break;
        case QPL_PAIRS:
            words(&l, "dedup:", c->opt_dedup_common);
            words(&l, " pairs:", c->opt[s]);
            sb_addf(&l, " units: %u", qpl_units(c, (qpl_stage)s));
            break;
        case QPL_SIGNATURES: case QPL_CLUSTERS: case QPL_FILTER:
            words(&l, "dedup:", c->opt_dedup_common);
            sb_addf(&l, " %s:", qpl_stage_name((qpl_stage)s));
            words(&l, "", c->opt[s]);
            break;
        case QPL_MIX:
            words(&l, "mix:", c->opt[s]);
            sb_addf(&l, " weight: %s", c->mix_weight ? c->mix_weight : "1");
            break;
        default:
            words(&l, "options:", c->opt[s]);
            break;
        }
        sb_addf(out, "stage\t%s\t%s\n", qpl_stage_name((qpl_stage)s), sb_str(&l));
        sb_free(&l);
    }
}

/* The line of `key` ("input\t3" or "stage\tclean") in text, or NULL. */
static char *find_line(const char *text, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > kl && !strncmp(p, key, kl) && p[kl] == '\t') {
            char *l = malloc(len + 1);
            if (!l) abort();
            memcpy(l, p, len);
            l[len] = '\0';
            return l;
        }
        p = nl ? nl + 1 : NULL;
    }
    return NULL;
}

static int any_done_from(const qpl_config *c, int first)
{
    for (int s = first; s < QPL_NSTAGES; s++)
        for (unsigned u = 0; u < qpl_units(c, (qpl_stage)s); u++)
            if (qpl_unit_done(c, (qpl_stage)s, u)) return 1;
    return 0;
}

static int count_inputs(const char *text)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, "input\t")); p++)
        if (p == text || p[-1] == '\n') n++;
    return n;
}

int qpl_check_record(const qpl_config *c, int write, char *err, size_t errlen)
{
    char *path = qpl_path_join(c->workdir, ".pipeline/record.tsv");
    strbuf now = STRBUF_INIT, old = STRBUF_INIT;
    render(c, &now);
    FILE *f = fopen(path, "r");
    int rc = 0;
    if (f) {
        char buf[8192];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) sb_add(&old, buf, n);
        fclose(f);
        const char *o = sb_str(&old);
        /* inputs: any difference, with anything done, is refused */
        int changed = count_inputs(o) != (int)c->n_inputs;
        char key[64];
        for (size_t i = 0; i < c->n_inputs && !changed; i++) {
            snprintf(key, sizeof key, "input\t%zu", i);
            char *ol = find_line(o, key);
            changed = !ol || strcmp(ol + strlen(key) + 1, c->inputs[i]);
            free(ol);
        }
        if (changed && any_done_from(c, 0)) {
            snprintf(err, errlen, "the inputs differ from those the done units in %s were made from "
                     "(units are numbered by input position); use a new workdir, or remove this one",
                     c->workdir);
            rc = -1;
        }
        for (int s = 0; s < QPL_NSTAGES && !rc; s++) {
            if (!c->enabled[s]) continue;
            snprintf(key, sizeof key, "stage\t%s", qpl_stage_name((qpl_stage)s));
            char *ol = find_line(o, key), *nl = find_line(sb_str(&now), key);
            if (ol && nl && strcmp(ol, nl) && any_done_from(c, s)) {
                snprintf(err, errlen, "stage %s changed since its outputs were made (was \"%s\", now \"%s\"); "
                         "remove its outputs and those of the stages after it under %s to redo them",
                         qpl_stage_name((qpl_stage)s), ol + strlen(key) + 1, nl + strlen(key) + 1, c->workdir);
                rc = -1;
            }
            free(ol);
            free(nl);
        }
    } else if (errno != ENOENT) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    if (!rc && write && strcmp(sb_str(&old), sb_str(&now))) {
        char *dir = qpl_path_join(c->workdir, ".pipeline");
        char *p = qpl_strdup(dir);
        for (char *s = p + 1; *s; s++)
            if (*s == '/') { *s = '\0'; mkdir(p, 0755); *s = '/'; }
        mkdir(p, 0755);
        free(p);
        free(dir);
        if (qpl_write_atomic(path, now.buf, now.len) != 0) {
            snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
            rc = -1;
        }
    }
    sb_free(&now);
    sb_free(&old);
    free(path);
    return rc;
}
