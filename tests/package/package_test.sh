#!/usr/bin/env bash
# The Debian package end to end (issue 17): scripts/package builds it from
# the build folder's binary into a temporary folder; dpkg-deb shows its
# metadata and files; it is unpacked into a scratch root (dpkg -x: nothing
# is installed on this system); the installed binary serves /healthz there,
# and the installed environment file parses and, as shipped, refuses to
# start without a key. Usage:
#   package_test.sh BUILD_DIR
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
tmp=$(mktemp -d)
server_pid=
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
started=$SECONDS

deb=$("$top/scripts/package" "$tmp/out" "$build" | tail -n 1)
[[ -f "$deb" ]] || fail "scripts/package made no .deb"
[[ $(basename "$deb") == webhooks-server_*_*.deb ]] || fail "file name $(basename "$deb")"

info=$(dpkg-deb --info "$deb")
for field in "Package: webhooks-server" "Maintainer: " "Description: " "Section: net" \
             "Architecture: $(dpkg --print-architecture)"; do
  grep -q "^ $field" <<<"$info" || fail "no '$field' in dpkg-deb --info: $info"
done
version=$("$build/webhooks-server" --version | awk '{print $2}')
grep -q "^ Version: $version$" <<<"$info" || fail "version is not $version: $info"
# Dependencies from dpkg-shlibdeps: the libraries the binary links.
depends=$(grep '^ Depends:' <<<"$info") || fail "no Depends: $info"
for library in libc6 libstdc++6 libsqlite3-0 libssl3 libcurl4 libpq5; do
  grep -q "$library" <<<"$depends" || fail "Depends lacks $library: $depends"
done
[[ $(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles) == /etc/webhooks-server/env ]] ||
  fail "the environment file is not the one conffile"
dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./postinst | sh -n || fail "postinst is not valid sh"

contents=$(dpkg-deb --contents "$deb")
expect_file() {  # MODE PATH
  grep -qE "^$1 root/root +[0-9]+ [0-9-]+ [0-9:]+ \./$2$" <<<"$contents" ||
    fail "no $2 with mode $1 owned by root in: $contents"
}
expect_file '-rwxr-xr-x' usr/bin/webhooks-server
expect_file '-rw-r--r--' lib/systemd/system/webhooks-server.service
expect_file '-rw-------' etc/webhooks-server/env
expect_file '-rw-r--r--' usr/share/man/man1/webhooks-server.1.gz

root=$tmp/root
dpkg -x "$deb" "$root"
cmp -s "$root/lib/systemd/system/webhooks-server.service" "$top/scripts/webhooks-server.service" ||
  fail "the packaged unit differs from scripts/webhooks-server.service"
exec_start=$(grep '^ExecStart=' "$root/lib/systemd/system/webhooks-server.service")
[[ -x "$root${exec_start#ExecStart=}" ]] || fail "$exec_start names no file of the package"
manual=$(zcat "$root/usr/share/man/man1/webhooks-server.1.gz")
grep -q '^\.TH WEBHOOKS-SERVER 1' <<<"$manual" || fail "the man page has no .TH"
grep -q -- '--trusted-proxy' <<<"$manual" || fail "the man page lacks the settings"
[[ $("$root/usr/bin/webhooks-server" --version) == "webhooks-server $version" ]] ||
  fail "the installed binary's --version"

# The installed binary serves: wait for its first line (no sleep), then
# /healthz over bash's /dev/tcp, then SIGTERM and a clean exit.
coproc server { exec env -i PATH=/usr/bin:/bin "$root/usr/bin/webhooks-server" \
  --port 0 --db :memory: 2>"$tmp/stderr"; }
server_pid=$server_PID
read -r -t 10 line <&"${server[0]}" || fail "no 'listening on' line: $(cat "$tmp/stderr")"
[[ "$line" =~ ^listening\ on\ http://127\.0\.0\.1:([0-9]+)$ ]] || fail "first line: $line"
port=${BASH_REMATCH[1]}
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
answer=$(timeout 5 cat <&3 | tr -d '\r')
exec 3<&-
grep -q '^HTTP/1.1 200 OK$' <<<"$answer" || fail "/healthz answered: $answer"
grep -q '{"status":"ok"}' <<<"$answer" || fail "/healthz body: $answer"
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=
((status == 0)) || fail "the server exited $status after SIGTERM: $(cat "$tmp/stderr")"

# The shipped environment file parses (a bad value would be another exit 2
# message) and, without a key, refuses to start, as --require-keys says.
mapfile -t settings < <(grep -E '^WEBHOOKS_[A-Z_]+=' "$root/etc/webhooks-server/env")
status=0
env -i PATH=/usr/bin:/bin "${settings[@]}" WEBHOOKS_DB=:memory: WEBHOOKS_PORT=0 \
  "$root/usr/bin/webhooks-server" >/dev/null 2>"$tmp/refused" || status=$?
((status == 2)) || fail "with the shipped env file and no key: exit $status"
grep -q 'refusing to serve on 127.0.0.1 without API keys' "$tmp/refused" ||
  fail "with the shipped env file: $(cat "$tmp/refused")"

echo "debian package: $(basename "$deb"), $(stat -c %s "$deb") bytes, checked in $((SECONDS - started)) s"
