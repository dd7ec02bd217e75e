#!/usr/bin/env python3
"""Byte-level token shards + manifest.json for the trainer's end-to-end tests.

Tokenizes documents (JSONL with a "text" field) as UTF-8 bytes (ids 0-255)
with end-of-text id 256 before every document: a real tokenized sample that
needs no vocabulary file. Writes llm.c shards (256 x int32 header, uint16
tokens), .idx files (uint64 document end offsets) and a manifest.json in the
format of common/manifest.h, checksummed with XXH3-64 through libxxhash (a
build dependency of quern), so the trainer reads it exactly as it reads the
output of `quern tokenize` / `quern mix`. Also writes the matching vocabulary,
bytes.tiktoken (256 single-byte tokens, no merges) with its JSON sidecar
(<|endoftext|> = 256), which tokenize/tokenizer.h loads like any vocabulary,
so `quern sample` decodes through the real tokenizer code.

usage: make_shards.py DOCS.jsonl OUT_DIR [--val-docs N] [--shard-tokens N]
                      [--budget-tokens N] [--gpt2-ids]

--gpt2-ids declares GPT-2's vocabulary (50257 ids, EOT 50256) instead, for
benchmarks that want GPT-2's output layer (the byte ids stay valid ids).
"""
import argparse
import base64
import ctypes
import ctypes.util
import json
import os
import struct

EOT = 256
VOCAB = 257


def xxh3_hex(data):
    name = ctypes.util.find_library("xxhash") or "libxxhash.so.0"
    lib = ctypes.CDLL(name)
    lib.XXH3_64bits.restype = ctypes.c_uint64
    lib.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    return "%016x" % lib.XXH3_64bits(data, len(data))


def write_shard(out_dir, name, docs, eot):
    tokens, ends = [], []
    for d in docs:
        tokens.append(eot)
        tokens.extend(d)
        ends.append(len(tokens))
    header = struct.pack("<256i", 20240520, 1, len(tokens), *([0] * 253))
    body = header + struct.pack("<%dH" % len(tokens), *tokens)
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(body)
    with open(os.path.join(out_dir, name[:-4] + ".idx"), "wb") as f:
        f.write(struct.pack("<%dQ" % len(ends), *ends))
    return {"name": name, "tokens": len(tokens), "docs": len(docs), "xxh3": xxh3_hex(body)}


GPT2_PATTERN = (r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def write_vocab(out_dir):
    with open(os.path.join(out_dir, "bytes.tiktoken"), "w") as f:
        for b in range(256):
            f.write("%s %d\n" % (base64.b64encode(bytes([b])).decode(), b))
    with open(os.path.join(out_dir, "bytes.tiktoken.json"), "w") as f:
        json.dump({"name": "bytes", "pattern": GPT2_PATTERN,
                   "special_tokens": {"<|endoftext|>": EOT}, "eot": EOT}, f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("docs")
    ap.add_argument("out")
    ap.add_argument("--val-docs", type=int, default=8)
    ap.add_argument("--shard-tokens", type=int, default=150000)
    ap.add_argument("--budget-tokens", type=int, default=0)
    ap.add_argument("--gpt2-ids", action="store_true")
    a = ap.parse_args()
    eot, vocab = (50256, 50257) if a.gpt2_ids else (EOT, VOCAB)
    docs = [list(json.loads(l)["text"].encode("utf-8")) for l in open(a.docs, encoding="utf-8")]
    val, train = docs[:a.val_docs], docs[a.val_docs:]
    os.makedirs(a.out, exist_ok=True)
    if not a.gpt2_ids:
        write_vocab(a.out)
    shards, cur, size, k = [], [], 0, 0
    for d in train:
        cur.append(d)
        size += len(d) + 1
        if size >= a.shard_tokens:
            shards.append(dict(write_shard(a.out, "train_%06d.bin" % k, cur, eot), split="train"))
            cur, size, k = [], 0, k + 1
    if cur:
        shards.append(dict(write_shard(a.out, "train_%06d.bin" % k, cur, eot), split="train"))
    if val:
        shards.append(dict(write_shard(a.out, "val_000000.bin", val, eot), split="val"))
    m = {"quern_version": "0.1.0", "kind": "tokenize",
         "tokenizer": {"name": "gpt2" if a.gpt2_ids else "bytes", "vocab_size": vocab, "eot": eot,
                       "hash": "0" * 16},
         "shards": shards, "sources": [], "seed": 0}
    if a.budget_tokens:
        m["budget"] = {"params": 0, "tokens": a.budget_tokens, "flops": 0}
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(m, f, indent=1)
    print("wrote %d shards, %d train tokens" % (len(shards), sum(s["tokens"] for s in shards if s["split"] == "train")))


if __name__ == "__main__":
    main()
