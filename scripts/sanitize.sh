#!/usr/bin/env bash
# Builds everything with AddressSanitizer + UndefinedBehaviorSanitizer (the
# server binary too, so the HTTP and client suites exercise it instrumented)
# and runs every test (but one repeat, below). Assumes
# scripts/install-deps.sh --for-tests ran.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug \
      -DWEBHOOKS_SANITIZE=address,undefined >/dev/null
cmake --build build-asan -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The black-box suite's second run against PostgreSQL (the "pg." entries
# named after a suite: pg.Http..., pg.Tls...) is left to the normal build:
# instrumented, it takes 8 minutes of the test command's 25, and the
# PostgreSQL store it exercises runs here under the sanitizers anyway,
# through the conformance suites, the two-instance tests and the client
# tests on PostgreSQL (pg.client_*, kept). The Debian package test too: it
# checks the packaging of the normal build's binary, which it ships, and an
# instrumented one would only add time. And the tests whose subject is
# kill -9 or a 5-second lock wait (54 s of instrumented test time): a killed
# process reports nothing to the sanitizers, the start-up recovery after it
# runs in every test that reopens a database, and the 503 answer to a busy
# database runs here in the injected-fault tests.
ctest --test-dir build-asan --output-on-failure -j2 \
      --exclude-regex '^pg\.[A-Z]|^debian_package$|^FaultKillNine\.|^DeliveryCrashTest\.EveryAcknowledgedEventArrivesAfterKillNine|^PgInstancesTest\.KillNine|^FaultWriteLock\.'
