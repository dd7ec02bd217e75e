/* replay_main.c - a main() for the fuzz targets without libFuzzer: runs
 * LLVMFuzzerTestOneInput once on every file named (directories: every file
 * inside). Used by tests/e2e/reliability_fuzz_regress.sh to replay the kept
 * crash inputs and the stored seeds with the normal compiler, in the normal
 * and the ASan+UBSan suites, so a fixed crash stays fixed without clang. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return 1; }
    size_t cap = 1 << 16, n = 0, r;
    uint8_t *buf = malloc(cap);
    if (!buf) abort();
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap && !(buf = realloc(buf, cap *= 2))) abort();
    }
    fclose(f);
    /* an exact-size copy, so a read past the input is caught by ASan */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) abort();
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

int main(int argc, char **argv)
{
    int bad = 0, runs = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st)) { perror(argv[i]); bad = 1; continue; }
        if (!S_ISDIR(st.st_mode)) { bad |= run_file(argv[i]); runs++; continue; }
        struct dirent **list;
        int n = scandir(argv[i], &list, NULL, alphasort);
        for (int k = 0; k < n; k++) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", argv[i], list[k]->d_name);
            if (list[k]->d_name[0] != '.' && !stat(p, &st) && S_ISREG(st.st_mode)) {
                bad |= run_file(p);
                runs++;
            }
            free(list[k]);
        }
        free(list);
    }
    printf("replayed %d inputs\n", runs);
    return bad;
}
