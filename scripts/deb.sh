#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deb.sh - build the Debian packages iketcp-dkms and iketcpd (make deb).
#
# The tree (git's tracked and untracked files, not the ignored ones: no
# build/, no .cache/) is copied to build/deb/iketcp-<version>/ and built
# there with dpkg-buildpackage -us -uc -b: the .debs, .buildinfo and
# .changes land in build/deb/ (DEB_OUT=dir for another place). No root
# needed (Rules-Requires-Root: no). The build dependencies are checked
# first (dpkg-checkbuilddeps), and the versions: VERSION is the one
# version, debian/changelog must carry it.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${DEB_OUT:-$ROOT/build/deb}

die() { echo "deb: error: $*" >&2; exit 1; }

if ! command -v dpkg-checkbuilddeps >/dev/null || ! command -v dpkg-buildpackage >/dev/null; then
	die "dpkg-dev is missing: apt-get install dpkg-dev"
fi

"$ROOT/scripts/check-version.sh" || die "the versions disagree (see above)"
VER=$(cat "$ROOT/VERSION")

# dpkg-checkbuilddeps names what is missing: the virtual packages of
# debian/control by the packages that provide them
if ! unmet=$(cd "$ROOT" && dpkg-checkbuilddeps 2>&1); then
	list=$(sed -n 's/.*Unmet build dependencies: //p' <<<"$unmet" |
		sed 's/([^)]*)//g; s/|/ /g' | tr -s ' ' '\n' |
		sed 's/^debhelper-compat$/debhelper/; s/^dh-sequence-dkms$/dh-dkms/' |
		grep -v '^$' | sort -u | tr '\n' ' ' | sed 's/ $//')
	echo "$unmet" >&2
	die "missing build dependencies; install them with: apt-get install ${list:-(see above)}"
fi

if ! git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
	die "$ROOT is not a git checkout (the package is built from git's file list)"
fi

SRC=$OUT/iketcp-$VER
rm -rf "$OUT"
mkdir -p "$SRC"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
	tar --null -T - -cf -) | tar -C "$SRC" -xf -

echo "deb: building iketcp $VER in $SRC"
(cd "$SRC" && dpkg-buildpackage -us -uc -b)

ls "$OUT"/*.deb >/dev/null 2>&1 || die "no package built"
echo "deb: built in $OUT:"
for d in "$OUT"/*.deb; do echo "  $(basename "$d")"; done
