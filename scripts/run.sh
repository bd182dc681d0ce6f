#!/usr/bin/env bash
# Installs what is missing, builds, and runs webhooks-server on its embedded
# SQLite default (data/webhooks.db, http://127.0.0.1:9900). Extra arguments
# go to the server (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target webhooks-server
exec build/webhooks-server "$@"
