# Sourced by run.sh and test.sh: makes sure the Debian packages the build needs are installed.
# As root, missing ones are installed with apt-get; otherwise the command to run is printed.

# The server's store: SQLite (libsqlite3-dev); account passwords: libsodium's Argon2id; servers
# sharing one chat (--cluster): the NATS C client (libnats-dev). The desktop client (src/gui): Qt 6 Widgets and Test (qt6-base-dev; its CMake files want the GL
# headers of libgl-dev), LinguistTools with lrelease and lupdate (qt6-tools-dev,
# qt6-tools-dev-tools, qt6-l10n-tools), Qt's own translations for its standard buttons and dialogs
# (qt6-translations-l10n), and a font for the offscreen tests and the screenshot.
udpchat_packages=(g++ cmake make pkg-config libenet-dev libcli11-dev nlohmann-json3-dev
                  libgtest-dev libpcap-dev
                  libncurses-dev tmux iproute2 libsqlite3-dev libsodium-dev
                  qt6-base-dev qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools libgl-dev
                  qt6-translations-l10n
                  fonts-dejavu-core libnats-dev)

# Only for ./test.sh: Chromium, which opens the lab's HTML report headless the way a person
# would (tests/lab/browser_check.cpp), nats-server, which the cluster tests start on loopback,
# and openssl, which makes the certificates of the cluster's TLS test; ./run.sh needs none.
udpchat_test_packages=(chromium nats-server openssl)

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
