/* libFuzzer target for the pipeline description parser: arbitrary bytes as
 * a pipeline file. The INI layer (sections, key = value, continuation lines,
 * comments) and the shell-like word splitting run on every value; the full
 * loader (qpl_config_load: validation, inputs, stages, Slurm resources) runs
 * on the file in a scratch directory, and on success the stage graph is
 * walked (units, dependencies, unit output paths). Properties: no crash, leak
 * or over-read; every refusal says why, naming the file; an accepted file
 * gives units and dependencies within range. Inputs with globs that could
 * walk the file system ('/' and '*' or '?') skip the full loader.
 * FUZZ_MODULES: pipeline common (tests/fuzz/run.sh builds and runs it) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "pipeline/pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    char err[1024];
    qpl_ini ini;
    memset(&ini, 0, sizeof ini);
    err[0] = 0;
    if (qpl_ini_parse(&ini, text, size, "fuzz.pipeline", err, sizeof err) == 0) {
        for (size_t s = 0; s < ini.n_sec; s++)
            for (size_t k = 0; k < ini.sec[s].n_kv; k++) {
                size_t nw = 0;
                char **w = qpl_split_words(ini.sec[s].kv[k].val, &nw, err, sizeof err);
                if (w) {
                    for (size_t i = 0; i < nw; i++)
                        if (!w[i]) abort();
                    if (w[nw]) abort();
                    qpl_words_free(w);
                } else if (!err[0]) {
                    abort();
                }
            }
    } else if (!err[0]) {
        abort();
    }
    qpl_ini_free(&ini);

    int globby = memchr(data, '/', size) && (memchr(data, '*', size) || memchr(data, '?', size));
    if (globby) return 0;
    const char *path = fz_write(0, "p.pipeline", data, size);
    qpl_config c;
    err[0] = 0;
    if (qpl_config_load(&c, path, "/bin/true", err, sizeof err) == 0) {
        for (int s = 0; s < QPL_NSTAGES; s++) {
            unsigned u = qpl_units(&c, (qpl_stage)s);
            if (!qpl_stage_name((qpl_stage)s)) abort();
            qpl_stage deps[QPL_NSTAGES];
            int nd = qpl_stage_deps(&c, (qpl_stage)s, deps);
            if (nd < 0 || nd > QPL_NSTAGES) abort();
            for (int d = 0; d < nd; d++)
                if ((int)deps[d] < 0 || deps[d] >= QPL_NSTAGES) abort();
            for (unsigned k = 0; k < u && k < 3; k++) {
                char *o = qpl_unit_output(&c, (qpl_stage)s, k);
                if (!o) abort();
                free(o);
            }
        }
        qpl_config_free(&c);
    } else if (!err[0]) {
        abort();
    }
    return 0;
}
