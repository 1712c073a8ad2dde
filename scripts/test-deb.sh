#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test-deb.sh [--no-build] [--install] - the Debian packages (make check-deb).
#
# Builds them (scripts/deb.sh; --no-build: checks those in build/deb/),
# then checks, TAP:
# - one version everywhere: VERSION, debian/changelog, the packages'
#   Version, /usr/src/iketcp-<version>, dkms.conf's PACKAGE_VERSION, the
#   DKMS maintainer scripts, the module's modinfo version, iketcpd
#   --version and iketcpctl --version;
# - iketcp-dkms holds exactly the module's source (git's kernel/, Kbuild,
#   dkms.conf) and depends on dkms; that source builds as DKMS builds it
#   (dkms.conf's MAKE line) against every kernel header set installed
#   (TEST_DEB_KDIRS="dir ..." for others), a release build (no debug.o)
#   whose modinfo version is VERSION;
# - iketcpd holds iketcpd, iketcpctl, the three man pages, the unit (the
#   tree's, with /usr/sbin), the conffile /etc/iketcp/iketcpd.conf (the
#   example, and iketcpd --check accepts it), its README.Debian, and no
#   maintainer script creates a user (the unit's DynamicUser=yes);
# - lintian (--pedantic, info tags shown): no error or warning that
#   debian/*.lintian-overrides does not explain (output in
#   build/deb/lintian.txt).
# --install (root, changes this machine): apt-get install of iketcpd's
# .deb, the unit not enabled, no user; apt-get remove keeps only the
# conffile, apt-get purge leaves nothing behind.
# The dkms package is not installed here (it builds for the kernels of
# this machine).

set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${DEB_OUT:-$ROOT/build/deb}
build=1 install=0
for a in "$@"; do
	case $a in
	--no-build) build=0 ;;
	--install) install=1 ;;
	*) echo "usage: $0 [--no-build] [--install]" >&2; exit 2 ;;
	esac
done

n=0 pass=0 fail=0
ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }
quiet() { "$@" >/dev/null 2>&1; }

echo "TAP version 13"
if [ "$build" = 1 ]; then
	if ! log=$("$ROOT/scripts/deb.sh" 2>&1); then
		echo "$log" | tail -n 30 | sed 's/^/# /'
		echo "not ok 1 make deb"
		echo "1..1"
		exit 1
	fi
	ok "make deb"
fi

VER=$(cat "$ROOT/VERSION")
DKMS_DEB=$OUT/iketcp-dkms_${VER}_all.deb
D_DEB=$(ls "$OUT"/iketcpd_"${VER}"_*.deb 2>/dev/null | head -n1)
CHANGES=$(ls "$OUT"/iketcp_"${VER}"_*.changes 2>/dev/null | head -n1)
if [ ! -f "$DKMS_DEB" ] || [ -z "$D_DEB" ] || [ -z "$CHANGES" ]; then
	nok "packages of version $VER in $OUT" "$(ls "$OUT" 2>&1 | tr '\n' ' ')"
	echo "1..$n"
	exit 1
fi
ok "packages of version $VER: $(basename "$DKMS_DEB") $(basename "$D_DEB")"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
dpkg-deb -x "$DKMS_DEB" "$T/dkms" && dpkg-deb -e "$DKMS_DEB" "$T/dkms.ctl"
dpkg-deb -x "$D_DEB" "$T/d" && dpkg-deb -e "$D_DEB" "$T/d.ctl"
SRC=usr/src/iketcp-$VER

# --- one version
cv=$("$ROOT/scripts/check-version.sh" 2>&1)
check "check-version.sh: ${cv//$'\n'/; }" quiet "$ROOT/scripts/check-version.sh"
v1=$(dpkg-deb -f "$DKMS_DEB" Version) v2=$(dpkg-deb -f "$D_DEB" Version)
check "both packages are version $VER ($v1, $v2)" \
	test "$v1" = "$VER" -a "$v2" = "$VER"
pv=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$T/dkms/$SRC/dkms.conf" 2>/dev/null)
check "dkms.conf in /$SRC says PACKAGE_VERSION=\"$VER\" (${pv:-none})" test "$pv" = "$VER"
check "the DKMS postinst and prerm act on iketcp $VER" \
	grep -qx "DKMS_VERSION=$VER" "$T/dkms.ctl/postinst" "$T/dkms.ctl/prerm"
vd=$("$T/d/usr/sbin/iketcpd" --version 2>&1) vc=$("$T/d/usr/sbin/iketcpctl" --version 2>&1)
check "iketcpd --version: '$vd', iketcpctl --version: '$vc'" \
	test "$vd" = "iketcpd $VER" -a "$vc" = "iketcpctl $VER"

# --- iketcp-dkms: the module's source, and it builds as DKMS builds it
want=$( (cd "$ROOT" && git ls-files kernel; echo Kbuild; echo dkms.conf) | sort)
have=$(cd "$T/dkms/$SRC" && find . -type f | sed 's|^\./||' | sort)
if [ "$want" = "$have" ]; then
	ok "/$SRC holds the module's source: $(wc -l <<<"$have") files (git's kernel/, Kbuild, dkms.conf)"
else
	nok "/$SRC holds the module's source" "$(diff <(echo "$want") <(echo "$have") | grep '^[<>]' | tr '\n' ' ')"
fi
other=$(cd "$T/dkms" && find . -type f ! -path "./$SRC/*" ! -path ./usr/share/doc/iketcp-dkms/\* | tr '\n' ' ')
check "iketcp-dkms has nothing outside /$SRC and its doc${other:+ (has: $other)}" test -z "$other"
check "iketcp-dkms depends on dkms" grep -q '^Depends:.*\bdkms\b' "$T/dkms.ctl/control"
check "iketcp-dkms's README.Debian says how to sign for Secure Boot" \
	grep -q 'mokutil --import /var/lib/dkms/mok.pub' "$T/dkms/usr/share/doc/iketcp-dkms/README.Debian"
kdirs=${TEST_DEB_KDIRS:-$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V)}
[ -n "$kdirs" ] || nok "DKMS build: no kernel headers installed (linux-headers-amd64)"
for k in $kdirs; do
	tree=$T/dkmstree
	rm -rf "$tree" && mkdir -p "$tree/iketcp/$VER"
	cp -R "$T/dkms/$SRC" "$tree/iketcp/$VER/build"
	# what dkms does: source dkms.conf (it uses kernel_source_dir and
	# dkms_tree), run MAKE[0] in the build copy
	export kernel_source_dir=$k dkms_tree=$tree
	# shellcheck disable=SC1091
	if blog=$(cd "$tree/iketcp/$VER/build" && . ./dkms.conf &&
		eval "${MAKE[0]} -j2" 2>&1); then
		# shellcheck disable=SC1091
		ko=$(cd "$tree/iketcp/$VER/build" && . ./dkms.conf &&
			echo "$PWD/${BUILT_MODULE_LOCATION[0]}${BUILT_MODULE_NAME[0]}.ko")
		if [ ! -f "$ko" ]; then
			nok "DKMS build against $(basename "$k")" "no $ko"
		elif [ -e "$tree/iketcp/$VER/build/kernel/debug.o" ]; then
			nok "DKMS build against $(basename "$k")" "debug.o built: not a release build"
		elif [ "$(modinfo -F version "$ko")" != "$VER" ]; then
			nok "DKMS build against $(basename "$k")" "modinfo version '$(modinfo -F version "$ko")', not $VER"
		else
			ok "DKMS build against $(basename "$k"): $(modinfo -F vermagic "$ko" | cut -d' ' -f1), version $VER, release (no debug.o)"
		fi
	else
		nok "DKMS build against $(basename "$k")" "$(tail -n 5 <<<"$blog" | tr '\n' ' ')"
	fi
done

# --- iketcpd
need=(usr/sbin/iketcpd usr/sbin/iketcpctl usr/share/man/man8/iketcpd.8.gz
      usr/share/man/man8/iketcpctl.8.gz usr/share/man/man5/iketcpd.conf.5.gz
      lib/systemd/system/iketcpd.service etc/iketcp/iketcpd.conf
      usr/share/doc/iketcpd/README.Debian usr/share/doc/iketcpd/copyright
      usr/share/doc/iketcpd/examples/iketcpd.conf.example)
miss=()
for f in "${need[@]}"; do [ -f "$T/d/$f" ] || miss+=("$f"); done
check "iketcpd holds the ${#need[@]} files of the helper${miss:+ (missing: ${miss[*]})}" \
	test ${#miss[@]} = 0
check "iketcpd and iketcpctl are executable" \
	test -x "$T/d/usr/sbin/iketcpd" -a -x "$T/d/usr/sbin/iketcpctl"
udiff=$(diff <(sed 's|/usr/local/sbin/|/usr/sbin/|g' "$ROOT/userspace/iketcpd.service") \
	"$T/d/lib/systemd/system/iketcpd.service")
check "the unit is the tree's, with /usr/sbin/iketcpd${udiff:+ (differs)}" test -z "$udiff"
check "the unit runs /usr/sbin/iketcpd -c /etc/iketcp/iketcpd.conf, nothing in /usr/local" \
	eval 'grep -qx "ExecStart=/usr/sbin/iketcpd -c /etc/iketcp/iketcpd.conf" "$T/d/lib/systemd/system/iketcpd.service" &&
	! grep -q /usr/local "$T/d/lib/systemd/system/iketcpd.service"'
check "the unit keeps DynamicUser=yes and its two capabilities" \
	eval 'grep -qx DynamicUser=yes "$T/d/lib/systemd/system/iketcpd.service" &&
	grep -qx "AmbientCapabilities=CAP_NET_ADMIN CAP_NET_BIND_SERVICE" "$T/d/lib/systemd/system/iketcpd.service"'
check "/etc/iketcp/iketcpd.conf is a conffile" grep -qx /etc/iketcp/iketcpd.conf "$T/d.ctl/conffiles"
check "the conffile is userspace/iketcpd.conf.example" \
	cmp -s "$ROOT/userspace/iketcpd.conf.example" "$T/d/etc/iketcp/iketcpd.conf"
out=$("$T/d/usr/sbin/iketcpd" --check -c "$T/d/etc/iketcp/iketcpd.conf" 2>&1)
check "iketcpd --check accepts the conffile (${out##*: })" \
	quiet "$T/d/usr/sbin/iketcpd" --check -c "$T/d/etc/iketcp/iketcpd.conf"
check "the man pages name /etc/iketcp/iketcpd.conf" \
	zgrep -q /etc/iketcp/iketcpd.conf "$T/d/usr/share/man/man8/iketcpd.8.gz"
users=$(cat "$T/d.ctl"/postinst "$T/d.ctl"/preinst "$T/dkms.ctl"/postinst 2>/dev/null |
	grep -nE 'adduser|useradd|systemd-sysusers' || true)
check "no maintainer script creates a user (DynamicUser=yes)${users:+: $users}" test -z "$users"
check "the unit is installed, not enabled (dh_installsystemd --no-enable)" \
	grep -q "deb-systemd-helper debian-installed 'iketcpd.service'" "$T/d.ctl/postinst"

# --- lintian
if command -v lintian >/dev/null; then
	lint=$OUT/lintian.txt
	lintian --pedantic -I --show-overrides --fail-on error,warning "$CHANGES" >"$lint" 2>&1
	lrc=$?
	grep -v 'running with root privileges' "$lint" | sed 's/^/# /'
	bad=$(grep -cE '^[EW]: ' "$lint")
	check "lintian: no unexplained error or warning (exit $lrc, $bad E/W; $(grep -cE '^I: ' "$lint") info, $(grep -cE '^O: ' "$lint") overridden)" \
		test "$lrc" = 0 -a "$bad" = 0
else
	nok "lintian: not installed (apt-get install lintian)"
fi

# --- install and purge on this machine (the helper package only)
if [ "$install" = 1 ]; then
	if [ "$(id -u)" != 0 ]; then
		nok "--install needs root"
	elif dpkg-query -W -f='${Status}' iketcpd 2>/dev/null | grep -q 'ok installed'; then
		nok "--install: iketcpd is already installed here, left alone"
	else
		ilog=$(DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$D_DEB" 2>&1)
		if dpkg-query -W -f='${Status}' iketcpd 2>/dev/null | grep -q 'ok installed'; then
			ok "apt-get install ./$(basename "$D_DEB")"
		else
			nok "apt-get install ./$(basename "$D_DEB")" "$(tail -n 10 <<<"$ilog")"
		fi
		check "installed: iketcpd --version is $VER" test "$(iketcpd --version)" = "iketcpd $VER"
		check "installed: iketcpd --check -c /etc/iketcp/iketcpd.conf" \
			quiet iketcpd --check -c /etc/iketcp/iketcpd.conf
		check "installed: man iketcpd finds the page" eval 'man -w iketcpd >/dev/null 2>&1'
		check "installed: the unit is not enabled" \
			test ! -e /etc/systemd/system/multi-user.target.wants/iketcpd.service
		check "installed: no user iketcpd (systemd allocates it)" eval '! getent passwd iketcpd >/dev/null'
		DEBIAN_FRONTEND=noninteractive apt-get remove -y -q iketcpd >/dev/null 2>&1
		left=$(ls -d /usr/sbin/iketcpd /usr/sbin/iketcpctl /lib/systemd/system/iketcpd.service \
			/usr/share/doc/iketcpd 2>/dev/null | tr '\n' ' ')
		st=$(dpkg-query -W -f='${db:Status-Abbrev}' iketcpd 2>/dev/null)
		check "apt-get remove iketcpd: the files gone${left:+ (left: $left)}, the conffile kept (${st% })" \
			eval '[ -z "$left" ] && [ "${st% }" = rc ] && [ -f /etc/iketcp/iketcpd.conf ]'
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q iketcpd >/dev/null 2>&1
		left=$(ls -d /usr/sbin/iketcpd /usr/sbin/iketcpctl /etc/iketcp \
			/lib/systemd/system/iketcpd.service /usr/share/doc/iketcpd \
			/var/lib/systemd/deb-systemd-helper-enabled/iketcpd.service.dsh-also 2>/dev/null | tr '\n' ' ')
		check "apt-get purge iketcpd leaves nothing${left:+ (left: $left)}" \
			eval '[ -z "$left" ] && ! dpkg-query -W iketcpd >/dev/null 2>&1'
	fi
fi

echo "1..$n"
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]
