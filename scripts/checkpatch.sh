#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# checkpatch.sh - run the kernel's checkpatch.pl (from Debian's
# linux-source, extracted by setup.sh) over every kernel source file.
# Fails on any ERROR or WARNING; prints --strict CHECKs for information.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CP=${IKETCP_CACHE:-$ROOT/.cache}/ksrc/scripts/checkpatch.pl
[ -f "$CP" ] || { echo "checkpatch: $CP missing, run scripts/setup.sh" >&2; exit 1; }
cd "$ROOT" || exit 1
files=$(ls kernel/*.[ch] kernel/compat/*.h kernel/uapi/linux/*.h)
out=$(perl "$CP" --no-tree -f --terse --strict --show-types $files 2>&1)
bad=$(grep -E ': (ERROR|WARNING):' <<<"$out")
checks=$(grep -cE ': CHECK:' <<<"$out")
if [ -n "$bad" ]; then
	echo "$bad"
	echo "checkpatch: $(wc -l <<<"$bad") errors/warnings"
	exit 1
fi
echo "checkpatch: $(wc -w <<<"$files") files clean (0 errors, 0 warnings, $checks strict checks)"
