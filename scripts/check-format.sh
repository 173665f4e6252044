#!/usr/bin/env bash
# Fails when a C++ file of the repository is not formatted as .clang-format says
# (clang-format 14, as CI has it).
set -euo pipefail
cd "$(dirname "$0")/.."
fmt=$(command -v clang-format-14 || command -v clang-format)
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.h' '*.cc' | grep -v '^build/')
if ((${#files[@]} == 0)); then
  echo "check-format: no files found" >&2
  exit 1
fi
bad=()
for f in "${files[@]}"; do
  [[ -f "$f" ]] || continue
  if ! "$fmt" --dry-run -Werror "$f" >/dev/null 2>&1; then
    bad+=("$f")
  fi
done
if ((${#bad[@]} > 0)); then
  echo "check-format: not formatted (run: $fmt -i ${bad[*]})" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files formatted"
