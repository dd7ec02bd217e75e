#!/usr/bin/env python3
"""Writes adversarial.txt: lines of hard cases for the tiktoken identity test.

Deterministic (seeded). Each line is one document. Covers: invalid UTF-8
(maximal-subpart repair must match WHATWG's TextDecoder), every White_Space
character and U+180E (which PCRE2's \\s would treat differently), letters,
marks and digits of many scripts, titlecase and modifier letters, emoji with
ZWJ and variation selectors, letters, marks and digits assigned in Unicode 15
and 16 (newer than PCRE2 10.42's tables), contractions in both cases and curly
quotes, CR/LF mixes, trailing whitespace, special-token text, long runs, random
mixtures of all of these, and code points drawn from the whole range.  Run: python3 make_adversarial.py > adversarial.txt"""
import random
import sys

rng = random.Random(20240520)
out = sys.stdout.buffer

INVALID = [b'\xff', b'\xc0\xaf', b'\xed\xa0\x80', b'\x80', b'\xe2\x82', b'\xf8\x88\x80\x80\x80',
           b'\xfe', b'\xf4\x90\x80\x80', b'\xe0\x80\x80', b'\xf0\x9f\x98', b'\xc3', b'\xbf\xbf',
           b'\xed\xbf\xbf', b'\xf0\x80\x80\x80', b'\xc1\xbf', b'\xe1\x80']
WS = ['\t', '\x0b', '\x0c', '\r', ' ', '\x85', '\xa0', '\u1680', '\u2000', '\u2005', '\u200a',
      '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\u180e', '\u200b', '\ufeff', '\r\x0b']
LETTERS = ['a', 'Z', 'é', 'ß', 'Ǆ', 'ǅ', 'ǆ', 'ʰ', 'ー', 'ก', 'ا', 'א', 'Ж', 'ж', 'Ω', 'ω', '中', '文',
           'ㄱ', '한', 'ひ', 'カ', 'ᄀ', 'Ꭰ', 'ꮰ', 'ǈ', 'ᾈ', 'ﬀ', 'İ', 'ı', 'ẞ', '𝐀', '𝑎', '𐐀', '𐐨',
           # assigned in Unicode 15 / 16 (after PCRE2 10.42's Unicode 14 tables)
           '\U0001e4d0', '\U00031350', '\U00011f04', '\U000105c0', '\U000143f6', '\u1c89', '\ua7cb',
           '\U00010d50', '\U00010d70']
MARKS = ['\u0301', '\u0308', '\u0323', '\u093f', '\u0e31', '\u05b7', '\u20dd', '\ufe0f', '\u200d',
         '\u0f71', '\U0001f3fb', '\U00011f00', '\U0001e4ec', '\U000113b8']
DIGITS = ['0', '7', '٣', '۹', '३', '５', '²', '½', 'Ⅻ', '𝟘', '൧', '〇', '\U0001e4f0', '\U00016d70',
          '\U000116d0']
PUNCT = ['.', ',', "'", '"', '’', '‘', '!', '?', '-', '—', '(', ')', '/', '\\', '<', '>', '|', '_',
         '#', '@', '$', '€', '©', '™', '…', '¿', '·', '•', '§', '\x00', '\x01', '\x7f', '\x1b']
EMOJI = ['😀', '👍🏽', '👨\u200d👩\u200d👧', '🇫🇷', '❤️', '🏳️\u200d🌈', '🤖', '☃', '⌚', '🫠']
CONTRACTIONS = ["'s", "'S", "'t", "'T", "'re", "'RE", "'Re", "'ve", "'VE", "'m", "'M", "'ll", "'LL",
                "'d", "'D", "’s", "’ll", "''s", "'ss"]
SPECIAL = ['<|endoftext|>', '<|fim_prefix|>', '<|endofprompt|>', '<|endoftext', '<|', '|>']
NEWLINES = ['\r', '\r\n', '\n\r', '\x0b', '\x0c', '\r\r']
POOLS = [LETTERS, MARKS, DIGITS, PUNCT, EMOJI, CONTRACTIONS, SPECIAL, WS, NEWLINES]


def line(parts):
    b = b''.join(p if isinstance(p, bytes) else p.encode('utf-8', 'surrogatepass') for p in parts)
    # A line must not contain "\n": the test splits documents on it.
    out.write(b.replace(b'\n', b' ') + b'\n')


# 1. each special character in a few contexts
for pool in POOLS:
    for ch in pool:
        for ctx in ('{}', 'a{}', '{}a', ' {} ', 'x {}y', '1{}2', '{}{}{}', "it{}s", ' {}\r', 'A{}B'):
            line([ctx.format(ch, ch, ch)])
# 2. invalid UTF-8 between and inside things
for bad in INVALID:
    for ctx in (b'%s', b'a%s', b'%sb', b' %s ', b'\xc3\xa9%s\xc3\xa9', b'%s%s', b'12%s34',
                b"it%s's", b'\xe4\xb8\xad%s\xe6\x96\x87', b'%s\xcc\x81'):
        line([ctx.replace(b'%s', bad)])
# 3. whitespace runs ending in letters, newlines, or the end of the line
for ws in WS:
    for n in (1, 2, 3, 7):
        for tail in ('', 'x', ' x', '\r', '1', '.', 'é'):
            line(['a', ws * n, tail])
# 4. contractions stuck to words, digits and punctuation
for c in CONTRACTIONS:
    line(['don', c, ' I', c, ' ', c, ' 9', c, '.', c, c])
# 5. long runs (long pieces exercise the heap merge)
for ch in ('a', ' ', '1', '.', 'é', '中', '😀', 'ab', ' a', '\t', '\u3000', 'Aa', "'s"):
    for n in (100, 129, 1000, 5000):
        line([ch * n])
# 6. random mixtures
for i in range(3000):
    k = rng.randint(1, 40)
    parts = []
    for _ in range(k):
        r = rng.random()
        if r < 0.05:
            parts.append(rng.choice(INVALID))
        else:
            parts.append(rng.choice(rng.choice(POOLS)) * rng.choice((1, 1, 1, 2, 3)))
    line(parts)
# 7. code points drawn from the whole range (assigned or not, any plane)
for i in range(1500):
    cps = []
    for _ in range(rng.randint(1, 20)):
        r = rng.random()
        cp = rng.randint(0x20, 0x7e) if r < 0.3 else rng.randint(0xa0, 0xffff) if r < 0.8 else rng.randint(0x10000, 0x10ffff)
        cps.append(' ' if 0xd800 <= cp < 0xe000 else chr(cp))
    line([''.join(cps)])
