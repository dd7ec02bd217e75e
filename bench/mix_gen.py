"""Writes a synthetic token directory for the mix benchmark (Debian python3 + numpy):
llm.c shards of uint16 tokens + .idx + manifest.json, as tokenize would.

    python3 bench/mix_gen.py DIR TOKENS TAG SEED [SHARD_TOKENS]

Document lengths are log-normal around ~700 tokens (web-like: many short,
some long), every document starts with EOT 50256. Vectorised: ~1 s per 100M tokens.
"""
import json
import os
import sys

import numpy as np

EOT = 50256


def main():
    out, total, tag, seed = sys.argv[1], int(float(sys.argv[2])), int(sys.argv[3]), int(sys.argv[4])
    shard_tokens = int(float(sys.argv[5])) if len(sys.argv) > 5 else 100_000_000
    rng = np.random.default_rng(seed)
    os.makedirs(out, exist_ok=True)
    shards, done, k = [], 0, 0
    while done < total:
        n = min(shard_tokens, total - done)
        lens = np.maximum(2, rng.lognormal(6.2, 1.0, size=n // 300 + 16).astype(np.int64))
        ends = np.cumsum(lens)
        ends = ends[ends < n]
        ends = np.append(ends, n)
        toks = rng.integers(0, 50000, size=n, dtype=np.uint16)
        toks[np.concatenate([[0], ends[:-1]])] = EOT
        hdr = np.zeros(256, dtype=np.int32)
        hdr[0], hdr[1], hdr[2] = 20240520, 1, n
        name = "shard_%06d.bin" % k
        with open(os.path.join(out, name), "wb") as f:
            f.write(hdr.tobytes())
            f.write(toks.tobytes())
        ends.astype(np.uint64).tofile(os.path.join(out, name[:-4] + ".idx"))
        shards.append({"name": name, "tokens": int(n), "docs": int(len(ends)), "xxh3": "", "split": "train"})
        done += n
        k += 1
    man = {"quern_version": "bench", "kind": "tokenize",
           "tokenizer": {"name": "gpt2", "vocab_size": 50257, "eot": EOT, "hash": "0000000000000000"},
           "shards": shards, "seed": seed}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(man, f)
    _ = tag


if __name__ == "__main__":
    main()
