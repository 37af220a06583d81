#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time over a scratch corpus seeded from the committed
# one. Fails on a crash or a broken invariant, printing the input that did it (hex) and leaving
# it in a folder the message names, to be added to the committed corpus once fixed.
set -uo pipefail
target=$1 seeds=$2 seconds=$3 regressions=${4:-}
corpora=("$seeds")
if [ -n "$regressions" ] && [ -d "$regressions" ]; then corpora+=("$regressions"); fi
scratch=$(mktemp -d)
artifacts="${TMPDIR:-/tmp}/udpchat-fuzz-artifacts/$(basename "$target")"
mkdir -p "$artifacts"
"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "$scratch" "${corpora[@]}"
rc=$?
rm -rf "$scratch"
if [ $rc -ne 0 ]; then
  for f in "$artifacts"/*; do
    [ -f "$f" ] || continue
    echo "input that failed: $f"
    od -An -tx1 -v "$f" | head -40
  done
fi
exit $rc
