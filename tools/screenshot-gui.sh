#!/usr/bin/env bash
# Renders the desktop client's chat window in a real conversation (offscreen, against a real
# server on loopback) and writes docs/images/udpchat-gui.png. Run it after changing the window.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh
udpchat_ensure_packages
[ -f build/CMakeCache.txt ] || cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target udpchat-gui-screenshot
echo "wrote docs/images/udpchat-gui.png"
