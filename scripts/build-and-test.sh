#!/usr/bin/env bash
# The test command: installs what is missing, checks formatting, builds, and
# runs every test twice: once as built for use, once under ASan+UBSan; then
# short runs of the benchmark (no errors allowed, no speed asserted) and of
# every fuzz target. .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --for-tests
scripts/format.sh --check
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j2
scripts/bench --quick --binary build/webhooks-server
scripts/sanitize.sh
scripts/fuzz --seconds 10
