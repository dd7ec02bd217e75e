/* vocab_internal.h - shared between vocab.c and vocab_hf.c (not public). */
#ifndef QUERN_TOKENIZE_VOCAB_INTERNAL_H
#define QUERN_TOKENIZE_VOCAB_INTERNAL_H

#include "../common/json.h"
#include "vocab.h"

/* Add the special tokens of a built-in encoding; 1 if any, 0 if none, -1 on a clash. */
int qvocab_builtin_specials(qvocab *v, const char *name);
int qvocab_from_npm_json(qvocab *v, const qjson *j, const char *path, char *err, size_t errlen);
int qvocab_from_hf_json(qvocab *v, const qjson *j, const char *path, char *err, size_t errlen);
int qvocab_from_gpt2_json(qvocab *v, const qjson *j, const char *path, char *err, size_t errlen);
void qvocab_copy(qvocab *dst, const qvocab *src);

#endif
