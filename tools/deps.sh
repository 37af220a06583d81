# Sourced by run.sh and test.sh: makes sure the Debian packages the build needs are installed.
# As root, missing ones are installed with apt-get; otherwise the command to run is printed.

udpchat_packages=(g++ cmake make pkg-config libenet-dev libcli11-dev nlohmann-json3-dev
                  libgtest-dev libpcap-dev
                  libncurses-dev tmux iproute2 libsqlite3-dev)

# Only for ./test.sh --fuzz: clang and its libFuzzer.
udpchat_fuzz_packages=(clang libfuzzer-14-dev)

udpchat_ensure_packages() {
  local missing=() pkg
  for pkg in "${udpchat_packages[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages: ${missing[*]}" >&2
    echo "Install them with: sudo apt-get install ${missing[*]}" >&2
    return 1
  fi
  echo "Installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || return 1
  apt-get install -y -qq --no-install-recommends "${missing[@]}" || return 1
}
