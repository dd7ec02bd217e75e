#!/usr/bin/env python3
"""PyTorch reference for quern's C trainer (tests/e2e/trainer_torch_parity.sh).

Reads the trace `quern train --trace DIR` writes (config.json, the initial
flat parameters params0.f32, every micro-batch in batches.i32, the raw logits
of the first micro-batch logits1.f32, the accumulated gradient of step 1
grads1.f32) and the run's log.jsonl (loss and learning rate per step). It
builds the same GPT-2 model in PyTorch from the same weights, written here
from the model's definition with torch's own layers, and checks:
  * logits of the first micro-batch,
  * the step-1 gradient of every parameter tensor (gradient accumulation
    included),
  * the loss of every step of the run under torch.optim.AdamW with the same
    learning rates, weight-decay groups and gradient clipping.
Prints the relative errors; exits 1 if any exceeds its tolerance.

usage: trainer_torch_ref.py TRACE_DIR LOG.jsonl [--tol 1e-5]
"""
import argparse
import json
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F


def load(args):
    cfg = json.load(open(args.trace + "/config.json"))
    params = np.fromfile(args.trace + "/params0.f32", dtype="<f4")
    batches = np.fromfile(args.trace + "/batches.i32", dtype="<i4")
    logits = np.fromfile(args.trace + "/logits1.f32", dtype="<f4")
    grads = np.fromfile(args.trace + "/grads1.f32", dtype="<f4")
    steps = [json.loads(l) for l in open(args.log) if '"loss"' in l]
    return cfg, params, batches, logits, grads, steps


def tensors_from_flat(cfg, flat):
    """Parameter tensors (leaf, requires grad) in the layout of trainer/model.h."""
    L, C, V, T = cfg["layers"], cfg["dim"], cfg["padded_vocab"], cfg["seq"]
    shapes = {
        "wte": (V, C), "wpe": (T, C), "ln1w": (L, C), "ln1b": (L, C),
        "qkvw": (L, 3 * C, C), "qkvb": (L, 3 * C), "attprojw": (L, C, C), "attprojb": (L, C),
        "ln2w": (L, C), "ln2b": (L, C), "fcw": (L, 4 * C, C), "fcb": (L, 4 * C),
        "fcprojw": (L, C, 4 * C), "fcprojb": (L, C), "lnfw": (C,), "lnfb": (C,),
    }
    out = {}
    for t in cfg["tensors"]:
        a = flat[t["offset"]:t["offset"] + t["size"]].reshape(shapes[t["name"]])
        out[t["name"]] = torch.tensor(a.copy(), dtype=torch.float32, requires_grad=True)
    return out


def forward(cfg, P, idx):
    """Logits [B, T, Vp] of GPT-2: learned positions, pre-LayerNorm blocks,
    causal self-attention, tanh-GELU MLP, tied output embedding."""
    B, T = idx.shape
    C, H, L = cfg["dim"], cfg["heads"], cfg["layers"]
    hs = C // H
    x = P["wte"][idx] + P["wpe"][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l in range(L):
        h = F.layer_norm(x, (C,), P["ln1w"][l], P["ln1b"][l], eps=1e-5)
        qkv = F.linear(h, P["qkvw"][l], P["qkvb"][l])
        q, k, v = qkv.split(C, dim=2)
        q = q.view(B, T, H, hs).transpose(1, 2)
        k = k.view(B, T, H, hs).transpose(1, 2)
        v = v.view(B, T, H, hs).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + F.linear(y, P["attprojw"][l], P["attprojb"][l])
        h = F.layer_norm(x, (C,), P["ln2w"][l], P["ln2b"][l], eps=1e-5)
        h = F.gelu(F.linear(h, P["fcw"][l], P["fcb"][l]), approximate="tanh")
        x = x + F.linear(h, P["fcprojw"][l], P["fcprojb"][l])
    x = F.layer_norm(x, (C,), P["lnfw"], P["lnfb"], eps=1e-5)
    return x @ P["wte"].t()


def loss_of(cfg, logits, tgt):
    V = cfg["vocab"]
    return F.cross_entropy(logits[..., :V].reshape(-1, V), tgt.reshape(-1))


def rel(a, b):
    """max |a - b| / max |b|"""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("log")
    ap.add_argument("--tol", type=float, default=1e-5)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    cfg, flat, batches, c_logits, c_grads, steps = load(args)
    B, T, A = cfg["batch"], cfg["seq"], cfg["accum"]
    per = 2 * B * T
    micro = [(torch.tensor(batches[i * per:i * per + B * T].reshape(B, T), dtype=torch.long),
              torch.tensor(batches[i * per + B * T:(i + 1) * per].reshape(B, T), dtype=torch.long))
             for i in range(len(batches) // per)]
    assert len(micro) == cfg["steps"] * A, "trace has %d micro-batches" % len(micro)
    failures = []

    def check(what, err, tol):
        ok = err <= tol
        print("%-28s relative error %.2e (tolerance %.0e) %s" % (what, err, tol, "ok" if ok else "FAIL"))
        if not ok:
            failures.append(what)

    # 1. logits and loss of the first micro-batch
    P = tensors_from_flat(cfg, flat)
    logits = forward(cfg, P, micro[0][0])
    check("logits (step 1, micro 1)", rel(c_logits.reshape(logits.shape), logits.detach().numpy()), args.tol)
    # 2. the accumulated step-1 gradient and loss
    total = 0.0
    for a in range(A):
        loss = loss_of(cfg, forward(cfg, P, micro[a][0]), micro[a][1])
        total += loss.item()
        (loss / A).backward()
    check("loss (step 1)", abs(steps[0]["loss"] - total / A) / (total / A), args.tol)
    worst = 0.0
    for t in cfg["tensors"]:
        g_c = c_grads[t["offset"]:t["offset"] + t["size"]]
        g_t = P[t["name"]].grad.numpy().reshape(-1)
        if t["name"] == "wte":  # padding rows are outside the softmax: zero in both
            assert not np.any(g_c[cfg["vocab"] * cfg["dim"]:])
        e = rel(g_c, g_t)
        worst = max(worst, e)
        print("  grad %-9s max|g| %.3e  relative error %.2e" % (t["name"], np.max(np.abs(g_t)), e))
    check("gradients (worst tensor)", worst, args.tol)

    # 3. the whole run under torch.optim.AdamW
    P = tensors_from_flat(cfg, flat)
    decay = [P[t["name"]] for t in cfg["tensors"] if t["decay"]]
    no_decay = [P[t["name"]] for t in cfg["tensors"] if not t["decay"]]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=1.0, betas=(cfg["beta1"], cfg["beta2"]), eps=cfg["eps"])
    worst = 0.0
    for s, rec in enumerate(steps):
        opt.zero_grad()
        total = 0.0
        for a in range(A):
            inp, tgt = micro[s * A + a]
            loss = loss_of(cfg, forward(cfg, P, inp), tgt)
            total += loss.item()
            (loss / A).backward()
        if cfg["clip"] > 0:
            torch.nn.utils.clip_grad_norm_(list(P.values()), cfg["clip"])
        for g in opt.param_groups:
            g["lr"] = rec["lr"]
        opt.step()
        e = abs(rec["loss"] - total / A) / (total / A)
        worst = max(worst, e)
        print("  step %2d  quern %.7f  torch %.7f  relative %.2e" % (rec["step"], rec["loss"], total / A, e))
    check("losses over %d AdamW steps" % len(steps), worst, args.tol)
    if failures:
        print("FAILED: " + ", ".join(failures))
        sys.exit(1)
    print("quern matches PyTorch %s" % torch.__version__)


if __name__ == "__main__":
    main()
