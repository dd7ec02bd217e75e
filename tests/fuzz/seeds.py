#!/usr/bin/env python3
"""Build the seed corpus of one fuzz target from tests/data (run time only;
nothing here is stored). Usage: seeds.py TARGET OUTDIR [MAXLEN]

Each target's seeds follow its input layout (see the target's header
comment: most take one or more leading flag bytes). Inputs are cut to MAXLEN
bytes so the fuzzer starts from small, fast cases."""
import glob
import gzip
import json
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data")
target, out = sys.argv[1], sys.argv[2]
maxlen = int(sys.argv[3]) if len(sys.argv) > 3 else 8192
os.makedirs(out, exist_ok=True)
count = 0


def put(name, data):
    global count
    data = data[:maxlen]
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
    count += 1


def warc_files(plain_only=False):
    for p in sorted(glob.glob(os.path.join(DATA, "ingest", "samples", "*"))
                    + glob.glob(os.path.join(DATA, "ingest", "bad", "*"))):
        raw = open(p, "rb").read()
        if raw[:2] == b"\x1f\x8b":
            try:
                dec = gzip.decompress(raw)
            except Exception:
                d = gzip.GzipFile(fileobj=open(p, "rb"))
                dec = b""
                try:
                    while len(dec) < 1 << 20:
                        chunk = d.read(65536)
                        if not chunk:
                            break
                        dec += chunk
                except Exception:
                    pass
            yield os.path.basename(p), raw, dec
        else:
            yield os.path.basename(p), raw, raw


def warc_records(dec, limit=40):
    """(headers, block) of the first records of decoded WARC text."""
    pos, n = 0, 0
    while n < limit:
        i = dec.find(b"WARC/", pos)
        if i < 0:
            return
        j = dec.find(b"\r\n\r\n", i)
        if j < 0:
            return
        head = dec[i:j].decode("latin-1")
        clen = 0
        for line in head.split("\r\n"):
            if line.lower().startswith("content-length:"):
                try:
                    clen = int(line.split(":", 1)[1])
                except ValueError:
                    clen = 0
        block = dec[j + 4:j + 4 + clen]
        yield head, block
        pos = j + 4 + clen
        n += 1


def jsonl_lines(path, limit=200):
    with open(path, "rb") as f:
        for k, line in enumerate(f):
            if k >= limit:
                break
            yield line.rstrip(b"\n")


def texts(path, limit=100):
    for line in jsonl_lines(path, limit):
        try:
            yield json.loads(line)["text"].encode("utf-8", "surrogatepass")
        except Exception:
            continue


if target == "fuzz_ingest_warc":
    for name, raw, dec in warc_files():
        put(name + ".raw", bytes([64]) + raw)
        put(name + ".dec", bytes([7]) + dec)
elif target == "fuzz_ingest_warc_gz":
    for name, raw, dec in warc_files():
        put(name, bytes([64, 0, 0, 0]) + dec)
    for name, raw, dec in list(warc_files())[:4]:
        put(name + ".flip", bytes([33, 1 | 64, 1, 0]) + dec)
        put(name + ".trunc", bytes([33, 2, 2, 0]) + dec)
        put(name + ".zst", bytes([33, 4, 0, 0]) + dec)
elif target in ("fuzz_ingest_http", "fuzz_ingest_html"):
    k = 0
    for name, raw, dec in warc_files():
        for head, block in warc_records(dec, 30):
            if "application/http" not in head and "text/html" not in head:
                continue
            if target == "fuzz_ingest_http":
                put("%s.%d" % (name, k), bytes([3]) + block)
            else:
                i = block.find(b"\r\n\r\n")
                body = block[i + 4:] if block.startswith(b"HTTP/") and i >= 0 else block
                if b"<" in body[:2000]:
                    put("%s.%d" % (name, k), bytes([k & 1]) + body)
            k += 1
elif target == "fuzz_common_doc":
    for p in sorted(glob.glob(os.path.join(DATA, "common", "*.jsonl"))):
        for k, line in enumerate(jsonl_lines(p, 60)):
            put("%s.%d" % (os.path.basename(p), k), line)
elif target == "fuzz_common_io":
    for p in sorted(glob.glob(os.path.join(DATA, "common", "*.jsonl"))):
        raw = open(p, "rb").read()[:4000]
        put(os.path.basename(p), bytes([1]) + raw)
        put(os.path.basename(p) + ".gz", bytes([9]) + gzip.compress(raw))
    for name, raw, dec in warc_files():
        if raw[:2] == b"\x1f\x8b" and len(raw) < maxlen:
            put(name, bytes([2]) + raw)
elif target == "fuzz_clean":
    for p in sorted(glob.glob(os.path.join(DATA, "clean", "*.jsonl"))):
        for k, t in enumerate(texts(p, 40)):
            put("%s.%d" % (os.path.basename(p), k), t)
elif target == "fuzz_tokenize_bpe":
    for p in [os.path.join(DATA, "tokenize", "docs.jsonl"), os.path.join(DATA, "tokenize", "invalid-utf8.jsonl")]:
        for k, t in enumerate(texts(p, 40)):
            put("%s.%d" % (os.path.basename(p), k), bytes([k & 3]) + t[:2000])
    raw = open(os.path.join(DATA, "tokenize", "invalid-utf8.jsonl"), "rb").read()
    put("invalid-raw", bytes([0]) + raw[:3000])
elif target == "fuzz_common_shard":
    # a real-looking shard: header + uint16 tokens, .idx of document ends
    toks = [(i * 37) % 600 for i in range(300)]
    ends = [100, 250, 300]
    hdr = struct.pack("<256i", *([20240520, 1, len(toks)] + [0] * 253))
    body = struct.pack("<%dH" % len(toks), *toks)
    idx = struct.pack("<%dQ" % len(ends), *ends)
    put("v1", bytes([0, 0]) + hdr + body + b"\n=====\n" + idx)
    hdr2 = struct.pack("<256i", *([20240520, 2, len(toks)] + [0] * 253))
    body2 = struct.pack("<%dI" % len(toks), *[t * 1000 for t in toks])
    put("v2", bytes([8, 0]) + hdr2 + body2 + b"\n=====\n" + idx)
    put("patched", bytes([1, 0]) + body + b"\n=====\n" + idx)
    put("patched-v2", bytes([9, 1]) + body2 + b"\n=====\n" + idx)
    put("writer-v1", bytes([2, 0]) + bytes(range(256)) * 3)
    put("writer-v2", bytes([6, 0]) + bytes(range(255, -1, -1)) * 3)
elif target == "fuzz_dedup_text":
    # documents in several scripts, near-duplicates, invalid UTF-8; the first
    # byte varies the shingle length (low 5 bits) and permutation count
    paths = [os.path.join(DATA, "dedup", "neardup", "docs.jsonl"),
             os.path.join(DATA, "common", "docs-multi.jsonl"),
             os.path.join(DATA, "common", "invalid-utf8.jsonl")]
    k = 0
    for p in paths:
        if not os.path.exists(p):
            continue
        for t in texts(p, 30):
            put("%s.%d" % (os.path.basename(p), k), bytes([(k * 37) & 255]) + t[:3000])
            k += 1
# targets with stored seeds only (tests/fuzz/seeds/<target>/) add nothing here
print("%s: %d seeds from tests/data" % (target, count))
