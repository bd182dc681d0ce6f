#!/usr/bin/env bash
# Issue 17: the systemd unit's ExecStart used to pass --require-keys, --host,
# --port, --db and --public-url, which silently beat the environment file it
# told operators to edit (a flag wins over its variable). Checks that
# ExecStart sets no flag whose variable the default environment file
# (scripts/webhooks-server.env) sets or documents, that the file documents
# every setting --help lists and no unknown one, that the binary path is the
# package's, and that the sandbox is still there. Usage:
#   unit_file_test.sh BINARY
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
binary=$1
unit=$top/scripts/webhooks-server.service
env_file=$top/scripts/webhooks-server.env
fail=0
problem() { echo "FAIL: $*" >&2; fail=1; }

# VARIABLE FLAG pairs from --help: an entry starts at "  --flag"; its
# variable is the "[WEBHOOKS_..." in it.
declare -A flag_of
while read -r variable flag; do flag_of[$variable]=$flag; done < <(
  "$binary" --help | awk '
    /^  --/ { flag = $1; sub(/\[=BOOL\]$/, "", flag) }
    { while (match($0, /\[WEBHOOKS_[A-Z_]+/)) {
        print substr($0, RSTART + 1, RLENGTH - 1), flag
        $0 = substr($0, RSTART + RLENGTH) } }')
((${#flag_of[@]} > 10)) || problem "could not read the settings from --help"

mapfile -t documented < <(grep -oE '^#?WEBHOOKS_[A-Z_]+=' "$env_file" | tr -d '#=' | sort -u)
for variable in "${documented[@]}"; do
  [[ -n "${flag_of[$variable]:-}" ]] || problem "$env_file names $variable, which --help does not know"
done
# A set, not `printf | grep -q`: under pipefail, grep -q leaving at its
# first match can kill printf with SIGPIPE and fail the pipeline.
declare -A is_documented
for variable in "${documented[@]}"; do is_documented[$variable]=1; done
for variable in "${!flag_of[@]}"; do
  [[ -n "${is_documented[$variable]:-}" ]] ||
    problem "$env_file does not document $variable (${flag_of[$variable]}) with its default"
done

exec_lines=$(grep -E '^ExecStart=' "$unit") || problem "no ExecStart in $unit"
[[ $(wc -l <<<"$exec_lines") -eq 1 ]] || problem "more than one ExecStart line"
read -r -a words <<<"${exec_lines#ExecStart=}"
[[ "${words[0]}" == /usr/bin/webhooks-server ]] ||
  problem "ExecStart runs ${words[0]}, not the package's /usr/bin/webhooks-server"
for word in "${words[@]:1}"; do
  [[ "$word" == --* ]] || continue
  flag=${word%%=*}
  for variable in "${documented[@]}"; do
    [[ "${flag_of[$variable]}" == "$flag" ]] &&
      problem "ExecStart sets $flag, which would override $variable from the environment file"
  done
done
grep -qx 'EnvironmentFile=-\{0,1\}/etc/webhooks-server/env' "$unit" ||
  problem "the unit does not read /etc/webhooks-server/env"
# The environment file may override it (systemd: EnvironmentFile= wins
# over Environment=).
grep -qx 'Environment=GLIBC_TUNABLES=glibc.malloc.tcache_count=32' "$unit" ||
  problem "the unit lost glibc's larger per-thread malloc cache (README, Performance)"
for line in User=webhooks ProtectSystem=strict NoNewPrivileges=yes CapabilityBoundingSet= \
            SystemCallFilter=@system-service MemoryDenyWriteExecute=yes PrivateTmp=yes; do
  grep -qx "$line" "$unit" || problem "the unit lost its hardening: $line"
done
((fail == 0)) && echo "unit file: ExecStart sets nothing the environment file sets; ${#documented[@]} settings documented"
exit "$fail"
