#!/usr/bin/env bash
# Fails when the committed seed corpus differs from what udpchat-fuzz-corpus writes now.
set -euo pipefail
generator=$1 committed=$2
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
"$generator" "$fresh" >/dev/null
if ! diff -r "$fresh" "$committed" >/dev/null; then
  echo "tests/fuzz/corpus is stale: run udpchat-fuzz-corpus tests/fuzz/corpus and commit it" >&2
  diff -rq "$fresh" "$committed" >&2 || true
  exit 1
fi
