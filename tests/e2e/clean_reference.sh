#!/usr/bin/env bash
# quern clean against an independent Python re-implementation of its
# filters (tests/e2e/clean_reference.py, written from filters.md and
# clean/README.md): same first reason for every document and the same text
# for every kept one (C4 line rewriting included).
source tests/e2e/lib.bash
cat "$TESTDATA"/clean/*.jsonl > "$WORK/in.jsonl"
"$QUERN" clean -j2 --skip lang --tag "$WORK/in.jsonl" > "$WORK/tag.jsonl"
"$PYTHON" tests/e2e/clean_reference.py "$WORK/in.jsonl" "$WORK/tag.jsonl"
