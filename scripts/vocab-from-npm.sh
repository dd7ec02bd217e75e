#!/usr/bin/env bash
# vocab-from-npm.sh - make the built-in vocabularies (gpt2, r50k_base, p50k_base,
# cl100k_base, o200k_base) available to quern, offline after one npm install.
#
#   scripts/vocab-from-npm.sh [--npm-dir DIR] [--quern BIN] [OUT_DIR]
#
# The npm package `tiktoken` (OpenAI's tiktoken compiled to WASM) ships the real
# rank tables as encoders/<name>.json. This installs it (pinned version) into a
# cache directory outside the repository, unless DIR already holds it, and has
# `quern bpe convert` write OUT_DIR/<name>.tiktoken plus the <name>.tiktoken.json
# sidecar (split pattern, special tokens). OUT_DIR defaults to
# ${QUERN_DATA:-$XDG_DATA_HOME/quern or ~/.local/share/quern}/tokenizers, where
# `--vocab cl100k_base` looks. quern itself never downloads anything.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TIKTOKEN_VERSION=1.0.22
NPM_DIR=${QUERN_NPM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/quern/npm-tiktoken-$TIKTOKEN_VERSION}
QUERN_BIN=${QUERN:-$ROOT/build/quern}
while [ $# -gt 0 ]; do
  case "$1" in
    --npm-dir) NPM_DIR=$2; shift 2 ;;
    --quern) QUERN_BIN=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "vocab-from-npm.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ -n "${1:-}" ]; then
  OUT=$1
else
  DATA=${QUERN_DATA:-${XDG_DATA_HOME:+$XDG_DATA_HOME/quern}}
  OUT=${DATA:-$HOME/.local/share/quern}/tokenizers
fi
[ -x "$QUERN_BIN" ] || { echo "vocab-from-npm.sh: no quern binary at $QUERN_BIN (run make, or pass --quern)" >&2; exit 2; }
ENC=$NPM_DIR/node_modules/tiktoken/encoders
if [ ! -f "$ENC/o200k_base.json" ]; then
  command -v npm >/dev/null || { echo "vocab-from-npm.sh: npm is not installed (apt-get install npm)" >&2; exit 2; }
  mkdir -p "$NPM_DIR"
  echo "vocab-from-npm.sh: npm install tiktoken@$TIKTOKEN_VERSION into $NPM_DIR" >&2
  npm install --prefix "$NPM_DIR" --no-audit --no-fund --no-save --loglevel=error "tiktoken@$TIKTOKEN_VERSION" >&2
fi
mkdir -p "$OUT"
for name in gpt2 r50k_base p50k_base cl100k_base o200k_base; do
  "$QUERN_BIN" bpe convert --vocab "$ENC/$name.json" -o "$OUT/$name.tiktoken"
done
echo "vocab-from-npm.sh: wrote $(ls "$OUT"/*.tiktoken | wc -l) vocabularies to $OUT" >&2
