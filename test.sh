#!/usr/bin/env bash
# Installs what is missing (as root), builds everything with warnings as errors, and runs every
# test through ctest. Exits non-zero on any failure.
#
# --sanitize (or UDPCHAT_SANITIZE=1 in the environment; .ci/run passes it): afterwards builds the
# whole suite again in build-asan with AddressSanitizer and UndefinedBehaviorSanitizer and runs
# it there too. --fuzz (or UDPCHAT_FUZZ=1; .ci/run passes it too): afterwards builds the libFuzzer
# targets of tests/fuzz with clang in build-fuzz and runs each for UDPCHAT_FUZZ_SECONDS (60).
# --tsan (or UDPCHAT_TSAN=1; .ci/run passes it): afterwards builds the threaded code and the tests
# that drive it (target threaded-tests) in build-tsan with ThreadSanitizer and runs them there.
# --soak (or UDPCHAT_SOAK=1; .ci/run passes it): also the tests labelled "soak", which take
# minutes (the store's twenty SIGKILLs per transport); without it they are left out.
# Any other argument is passed to the ctest runs.
set -euo pipefail
cd "$(dirname "$0")"

sanitize="${UDPCHAT_SANITIZE:-0}"
fuzz="${UDPCHAT_FUZZ:-0}"
soak="${UDPCHAT_SOAK:-0}"
tsan="${UDPCHAT_TSAN:-0}"
ctest_args=()
for arg in "$@"; do
  case "$arg" in
    --sanitize) sanitize=1 ;;
    --fuzz) fuzz=1 ;;
    --soak) soak=1 ;;
    --tsan) tsan=1 ;;
    *) ctest_args+=("$arg") ;;
  esac
done

if [ "$soak" != 1 ]; then ctest_args+=(-LE soak); fi

source tools/deps.sh
if [ "$fuzz" = 1 ]; then
  udpchat_ensure_packages "${udpchat_test_packages[@]}" "${udpchat_fuzz_packages[@]}"
else
  udpchat_ensure_packages "${udpchat_test_packages[@]}"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DUDPCHAT_BUILD_TESTS=ON \
      -DUDPCHAT_WARNINGS_AS_ERRORS=ON >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure --timeout 300 -j2 "${ctest_args[@]}"

if [ "$sanitize" = 1 ]; then
  # Warnings are enforced by the build above; instrumentation changes what GCC's flow-based
  # warnings see, so here they are not errors.
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUDPCHAT_BUILD_TESTS=ON \
        -DUDPCHAT_SANITIZE=ON >/dev/null
  cmake --build build-asan -j"$(nproc)"
  # Leaks count as failures; UB already aborts (-fno-sanitize-recover). Instrumented code runs a
  # few times slower, hence the longer per-test limit.
  ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure --timeout 900 -j2 "${ctest_args[@]}"
fi

if [ "$tsan" = 1 ]; then
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUDPCHAT_BUILD_TESTS=ON \
        -DUDPCHAT_GUI=OFF -DUDPCHAT_TSAN=ON >/dev/null
  cmake --build build-tsan -j"$(nproc)" --target threaded-tests
  # Only what threaded-tests built: the other executables' tests are NOT_BUILT placeholders
  # without labels, left out by -L. A race aborts with its report; tests/tsan.supp leaves out only
  # one, inside libnats's use of OpenSSL, and says why.
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp" \
    ctest --test-dir build-tsan --output-on-failure --timeout 900 -j2 \
      -L 'unit|integration|flood|netns|bench-smoke' "${ctest_args[@]}"
fi

if [ "$fuzz" = 1 ]; then
  CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUDPCHAT_BUILD_TESTS=OFF \
        -DUDPCHAT_FUZZ=ON -DUDPCHAT_FUZZ_SECONDS="${UDPCHAT_FUZZ_SECONDS:-60}" >/dev/null
  cmake --build build-fuzz -j"$(nproc)" --target fuzz-targets
  ctest --test-dir build-fuzz --output-on-failure -L fuzz -j2
fi
