"""Helpers for the mix end-to-end tests (run with Debian's python3 + numpy).

make SRC_DIR TAG N_DOCS N_SHARDS SEED [MIN_LEN MAX_LEN]
    Writes a token directory as tokenize would: llm.c shards (256 x int32
    header, uint16 tokens), .idx (uint64 document ends), manifest.json.
    Written independently of quern's C writer. Every document is
    [EOT, TAG*10000 + id // 9000, TAG*10000 + id % 9000, TAG*10000 + random...],
    so any token of the output says which source it came from, and the first
    three which document.

check OUT_DIR EXPECT_JSON
    Validates every shard of a mixed llm.c directory (header, size, .idx, EOT
    at every document start) and checks what EXPECT_JSON asks: source
    fractions, repetition counts, validation disjointness.
"""
import json
import os
import sys

import numpy as np

EOT = 50256
MAGIC = 20240520


def write_shard(path, docs):
    toks = np.concatenate(docs).astype(np.uint16)
    hdr = np.zeros(256, dtype=np.int32)
    hdr[0], hdr[1], hdr[2] = MAGIC, 1, len(toks)
    with open(path, "wb") as f:
        f.write(hdr.tobytes())
        f.write(toks.tobytes())
    ends = np.cumsum([len(d) for d in docs]).astype(np.uint64)
    with open(path[:-4] + ".idx", "wb") as f:
        f.write(ends.tobytes())
    return len(toks)


def make(src_dir, tag, n_docs, n_shards, seed, min_len=20, max_len=200):
    tag, n_docs, n_shards, seed = int(tag), int(n_docs), int(n_shards), int(seed)
    rng = np.random.default_rng(seed)
    os.makedirs(src_dir, exist_ok=True)
    docs = []
    for i in range(n_docs):
        n = int(rng.integers(int(min_len), int(max_len) + 1))
        d = rng.integers(0, 10000, size=n, dtype=np.int64) + tag * 10000
        d[0] = EOT
        d[1] = tag * 10000 + i // 9000
        d[2] = tag * 10000 + i % 9000
        docs.append(d)
    per = (n_docs + n_shards - 1) // n_shards
    shards = []
    for s in range(n_shards):
        part = docs[s * per:(s + 1) * per]
        if not part:
            break
        name = "shard_%06d.bin" % s
        ntok = write_shard(os.path.join(src_dir, name), part)
        shards.append({"name": name, "tokens": ntok, "docs": len(part), "xxh3": "", "split": "train"})
    man = {"quern_version": "test", "kind": "tokenize",
           "tokenizer": {"name": "gpt2", "vocab_size": 50257, "eot": EOT, "hash": "0000000000000000"},
           "shards": shards, "seed": 0}
    with open(os.path.join(src_dir, "manifest.json"), "w") as f:
        json.dump(man, f)


def read_llmc(path):
    """Returns tokens (uint16/uint32 array) and document ends, validating both."""
    raw = open(path, "rb").read()
    assert len(raw) >= 1024, path + ": shorter than the header"
    hdr = np.frombuffer(raw[:1024], dtype=np.int32)
    assert hdr[0] == MAGIC, path + ": bad magic"
    assert hdr[1] in (1, 2), path + ": bad version"
    dt = np.uint16 if hdr[1] == 1 else np.uint32
    toks = np.frombuffer(raw[1024:], dtype=dt)
    assert len(toks) == hdr[2], "%s: header says %d tokens, file has %d" % (path, hdr[2], len(toks))
    ends = np.fromfile(path[:-4] + ".idx", dtype=np.uint64).astype(np.int64)
    assert len(ends) > 0 and ends[-1] == len(toks), path + ": .idx does not end at the token count"
    assert np.all(np.diff(ends) > 0) and ends[0] > 0, path + ": .idx not increasing"
    starts = np.concatenate([[0], ends[:-1]])
    assert np.all(toks[starts] == EOT), path + ": a document does not start with EOT"
    return toks, starts, ends


def doc_keys(toks, starts, ends):
    """(source tag, document id) for each document with at least 3 tokens."""
    out = []
    for a, e in zip(starts, ends):
        if e - a >= 3:
            t1, t2 = int(toks[a + 1]), int(toks[a + 2])
            out.append((t1 // 10000, (t1 % 10000) * 9000 + t2 % 10000))
    return out


def check(out_dir, expect_path):
    exp = json.load(open(expect_path))
    man = json.load(open(os.path.join(out_dir, "manifest.json")))
    tags = exp["tags"]                     # source name -> tag
    weights = exp["weights"]               # source name -> weight
    by_tag = {v: k for k, v in tags.items()}
    counts = {"train": {}, "val": {}}
    keys = {"train": {}, "val": {}}
    total = {"train": 0, "val": 0}
    worst_shard = 0.0
    for sh in man["shards"]:
        toks, starts, ends = read_llmc(os.path.join(out_dir, sh["name"]))
        assert len(toks) == sh["tokens"], sh["name"] + ": token count differs from the manifest"
        assert len(ends) == sh["docs"], sh["name"] + ": doc count differs from the manifest"
        src = np.where(toks == EOT, -1, toks // 10000)
        # An EOT belongs to the document it starts: attribute it to the next token's source.
        per = {}
        for a, e in zip(starts, ends):
            tag = int(toks[a + 1]) // 10000 if e - a >= 2 else None
            if tag is None:
                continue
            per[tag] = per.get(tag, 0) + int(e - a)
        del src
        split = sh["split"]
        total[split] += len(toks)
        for t, n in per.items():
            counts[split][t] = counts[split].get(t, 0) + n
        for k in doc_keys(toks, starts, ends):
            keys[split][k] = keys[split].get(k, 0) + 1
        if split == "train" and len(toks) >= exp.get("shard_check_min_tokens", 1 << 62):
            for name, w in weights.items():
                frac = per.get(tags[name], 0) / len(toks)
                worst_shard = max(worst_shard, abs(frac - w))
    for name, w in weights.items():
        frac = counts["train"].get(tags[name], 0) / total["train"]
        assert abs(frac - w) <= exp["tolerance"], "%s: realised %.5f vs weight %.5f" % (name, frac, w)
        print("%s: weight %.4f realised %.5f" % (name, w, frac))
    if "shard_tolerance" in exp:
        assert worst_shard <= exp["shard_tolerance"], "a shard's fraction is off by %.4f" % worst_shard
        print("worst per-shard deviation %.5f" % worst_shard)
    if "train_tokens" in exp:
        assert total["train"] == exp["train_tokens"], "train tokens %d != %d" % (total["train"], exp["train_tokens"])
    if "val_tokens" in exp:
        assert total["val"] == exp["val_tokens"], "val tokens %d != %d" % (total["val"], exp["val_tokens"])
    # No validation document is also in train.
    both = set(keys["val"]) & set(keys["train"])
    assert not both, "%d validation documents also in train, e.g. %s" % (len(both), sorted(both)[:3])
    # Repetition: every train document of a source appears floor(e) or ceil(e) times.
    for name, spec in exp.get("repeats", {}).items():
        tag = tags[name]
        n_docs = spec["docs"]
        e = spec["epochs"]
        lo, hi = int(np.floor(e)), int(np.ceil(e))
        seen = {k[1]: c for k, c in keys["train"].items() if k[0] == tag}
        val_ids = {k[1] for k in keys["val"] if k[0] == tag}
        hist = {}
        for i in range(n_docs):
            c = seen.get(i, 0)
            if i in val_ids:
                assert c == 0, "validation doc %d appears in train" % i
                continue
            hist[c] = hist.get(c, 0) + 1
        bad = {c: n for c, n in hist.items() if c < lo or c > hi + 1}
        # hi + 1 tolerates only the one truncated document whose short piece
        # cannot be told apart (fewer than 3 tokens); in practice none.
        assert not bad, "%s: appearance counts outside [%d, %d]: %s" % (name, lo, hi, bad)
        print("%s: appearances %s (epochs %.3f)" % (name, dict(sorted(hist.items())), e))
    print("ok: %d train, %d val tokens" % (total["train"], total["val"]))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "make":
        make(*sys.argv[2:])
    elif cmd == "check":
        check(sys.argv[2], sys.argv[3])
    else:
        sys.exit("unknown command " + cmd)
