#!/usr/bin/env bash
# Installs what is missing (as root), builds a Release build into build/, and starts the server
# in the foreground. Extra arguments go to udpchat-server, e.g. ./run.sh --port 8000 --motd hi
set -euo pipefail
cd "$(dirname "$0")"
source tools/deps.sh
udpchat_ensure_packages

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target udpchat-server udpchat-client -j"$(nproc)"

port=7777
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --port) port="${args[i + 1]:-$port}" ;;
    --port=*) port="${args[i]#--port=}" ;;
  esac
done
echo
echo "Join from this machine:   build/src/udpchat-client --port $port --nick YOURNAME"
for address in $(hostname -I 2>/dev/null); do
  case "$address" in *:*) continue ;; esac  # the server listens on IPv4
  echo "Join from the LAN:        udpchat-client --host $address --port $port --nick YOURNAME"
done
echo "Other machines need UDP port $port open in this machine's firewall."
echo
exec build/src/udpchat-server "$@"
