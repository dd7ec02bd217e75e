// lang_cld2.cc - the one C++ file of clean/: a C entry point over CLD2's
// ExtDetectLanguageSummary, so the rest of the stage stays C.
#include <cstdio>  // compact_lang_det.h uses FILE without including it

#include <cld2/public/compact_lang_det.h>
#include <cld2/public/encodings.h>

#include <cstring>

extern "C" int cld2_detect(const char *text, size_t len, char codes[3][16], int percent[3],
                           int *reliable);

namespace CLD2 {
// Declared in cld2/internal/lang_script.h (not a public header in Debian's package).
const char *LanguageCode(Language lang);
}

extern "C" int cld2_detect(const char *text, size_t len, char codes[3][16], int percent[3],
                           int *reliable)
{
    CLD2::Language lang3[3];
    int pct[3];
    double norm[3];
    int text_bytes = 0;
    bool is_reliable = false;
    CLD2::CLDHints hints = { nullptr, nullptr, CLD2::UNKNOWN_ENCODING, CLD2::UNKNOWN_LANGUAGE };
    if (len > 0x7fffffff) len = 0x7fffffff;
    CLD2::ExtDetectLanguageSummary(text, (int)len, true, &hints, 0, lang3, pct, norm, nullptr,
                                   &text_bytes, &is_reliable);
    int n = 0;
    for (int i = 0; i < 3; i++) {
        if (lang3[i] == CLD2::UNKNOWN_LANGUAGE && i > 0) continue;
        const char *code = CLD2::LanguageCode(lang3[i]);
        std::strncpy(codes[n], code ? code : "un", 15);
        codes[n][15] = 0;
        percent[n] = pct[i];
        n++;
    }
    *reliable = is_reliable ? 1 : 0;
    return n;
}
