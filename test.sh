#!/usr/bin/env bash
# Installs what is missing (as root), builds everything with warnings as errors, and runs every
# test through ctest. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"
source tools/deps.sh
udpchat_ensure_packages

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DUDPCHAT_BUILD_TESTS=ON \
      -DUDPCHAT_WARNINGS_AS_ERRORS=ON >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure --timeout 300 -j2 "$@"
