#!/usr/bin/env bash
# Installs what is missing (as root), builds a Release build into build/, and starts the server
# in the foreground. Extra arguments go to udpchat-server, e.g. ./run.sh --port 8000 --motd hi
set -euo pipefail
cd "$(dirname "$0")"
source tools/deps.sh
udpchat_ensure_packages

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target udpchat-server udpchat-client -j"$(nproc)"

echo
echo "To join from this machine:     build/src/udpchat-client --nick YOURNAME"
echo "From another machine on the LAN: udpchat-client --host <this machine's address> --nick YOURNAME"
echo "(open UDP port 7777, or the --port you chose, in this machine's firewall)"
echo
exec build/src/udpchat-server "$@"
