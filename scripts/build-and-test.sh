#!/usr/bin/env bash
# The test command: installs what is missing, checks formatting, builds, and
# runs every test twice: once as built for use, once under ASan+UBSan; then
# short runs of the benchmark (no errors allowed, no speed asserted) and of
# every fuzz target. .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
# Runs one step and says how long it took: the whole must stay under 25
# minutes on a 2-core machine, and this shows where the time goes.
step() {
  local started=$EPOCHSECONDS
  "$@"
  echo "test command: '$*' took $((EPOCHSECONDS - started)) s" >&2
}
step scripts/install-deps.sh --for-tests
step scripts/format.sh --check
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
step cmake --build build -j"$(nproc)"
step ctest --test-dir build --output-on-failure -j2
step scripts/bench --quick --binary build/webhooks-server
step scripts/sanitize.sh
step scripts/fuzz --seconds 10
