#!/usr/bin/env bash
# Installs what building and testing webhooks-server needs on Debian 12, and
# nothing that is already there. Every dependency is a Debian package, plus,
# with --for-tests, the npm clients for the compatibility tests and
# playwright-core for the dashboard's browser test (from the committed
# lockfile; the browser is Debian's chromium); also wrk and sqlite3 for
# scripts/bench --quick, strace and slowhttptest for the fault and
# hostile-input tests, clang and its libFuzzer runtime for scripts/fuzz,
# postgresql (15) for the throw-away cluster of the PostgreSQL tests
# (scripts/pg-scratch), and nginx, which scripts/bench's postgres workload
# runs in front of two instances (as a child of its own, never the service).
# dpkg-dev gives scripts/package dpkg-shlibdeps (the .deb's dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ make cmake pkg-config libcpp-httplib-dev libsqlitecpp-dev
          libsimdjson-dev libgtest-dev libsqlite3-dev libssl-dev
          libcurl4-openssl-dev libpq-dev dpkg-dev)
if [[ "${1:-}" == "--for-tests" ]]; then
  packages+=(clang-format wrk sqlite3 strace slowhttptest clang libclang-rt-14-dev
             chromium postgresql nginx)
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ "${1:-}" == "--for-tests" ]]; then
  (cd tests/client && npm ci --no-audit --no-fund --loglevel=error)
fi
