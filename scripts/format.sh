#!/usr/bin/env bash
# clang-format over our tracked C++ sources: --check fails on any difference
# (the test command runs this), and the include directions of the layout
# are checked (scripts/check-includes); without it the files are fixed in
# place.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -- '*.cpp' '*.h' 2>/dev/null || true)
if ((${#files[@]} == 0)); then
  mapfile -t files < <(find . -path ./build -prune -o -path './build-*' -prune -o \
                         \( -name '*.cpp' -o -name '*.h' \) -print)
fi
if [[ "${1:-}" == "--check" ]]; then
  clang-format --dry-run --Werror "${files[@]}"
  echo "format: ${#files[@]} files clean"
  scripts/check-includes
else
  clang-format -i "${files[@]}"
fi
