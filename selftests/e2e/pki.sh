#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pki.sh [--force] - generate the end-to-end tests' PKI with strongSwan's
# `pki` tool. Run it on the HOST: RSA-4096 key generation inside the TCG
# guest takes far too long.
#
# Output (build/e2e/pki/, git-ignored), all RSA 4096, PEM:
#   root.{key,crt}       self-signed root CA
#   int1.{key,crt}       intermediate CA signed by the root
#   int2.{key,crt}       intermediate CA signed by int1
#   gw-left.{key,crt}    end entity signed by int2, SAN gw-left.iketcp.test
#   gw-right.{key,crt}   and every address of that gateway (topo.sh)
#   nss-gw-left/, nss-gw-right/   NSS databases for libreswan's pluto:
#                        the root as trust anchor (CT,,), the gateway's
#                        key and certificate (nickname gw-left / gw-right)
#                        and both intermediates, from a PKCS#12 file
#
# Idempotent: does nothing when build/e2e/pki/.stamp exists and is newer
# than this script and topo.sh (or with --force, regenerates). The new set
# is built in a temporary directory and replaces the old one only when
# complete.

set -euo pipefail

E2E_SRC=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$E2E_SRC/../.." && pwd)
OUT=$ROOT/build/e2e/pki
STAMP=$OUT/.stamp
FORCE=0
[ "${1:-}" = --force ] && FORCE=1

# shellcheck source=selftests/e2e/topo.sh
. "$E2E_SRC/topo.sh"

if [ $FORCE = 0 ] && [ -f "$STAMP" ] && [ ! "$0" -nt "$STAMP" ] &&
   [ ! "$E2E_SRC/topo.sh" -nt "$STAMP" ]; then
	echo "pki.sh: $OUT is up to date"
	exit 0
fi

command -v pki >/dev/null || { echo "pki.sh: strongSwan's pki tool is missing (strongswan-pki)" >&2; exit 1; }
for t in certutil pk12util openssl; do
	command -v $t >/dev/null || { echo "pki.sh: $t is missing (libnss3-tools, openssl)" >&2; exit 1; }
done

start=$(date +%s.%N)
mkdir -p "$(dirname "$OUT")"
TMP=$(mktemp -d "$OUT.tmp.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# Only the plugins pki needs: the default list names plugins Debian does not
# ship and pki complains about each of them.
cat >"$TMP/strongswan.conf" <<EOF
pki {
	load = random drbg nonce sha1 sha2 hmac mgf1 gmp pem pkcs1 pkcs8 x509 pubkey
}
EOF
export STRONGSWAN_CONF=$TMP/strongswan.conf

DN="C=XX, O=iketcp e2e"
LIFE=3650
# Valid from yesterday: a guest clock a little behind the host's must not
# see certificates from the future.
NB=(--not-before "$(date -u -d yesterday '+%d.%m.%y %T')" --dateform '%d.%m.%y %T')

# The five keys in parallel (gmp's RSA-4096 generation dominates).
pids=()
for k in root int1 int2 gw-left gw-right; do
	pki --gen --type rsa --size 4096 --outform pem >"$TMP/$k.key" &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || { echo "pki.sh: key generation failed" >&2; exit 1; }
done
keys_done=$(date +%s.%N)

pki --self --ca --lifetime $LIFE "${NB[@]}" --in "$TMP/root.key" \
	--dn "$DN, CN=iketcp e2e root CA" --outform pem >"$TMP/root.crt"

issue() { # issue <name> <issuer> <pki --issue options...>
	local name=$1 issuer=$2
	shift 2
	pki --pub --in "$TMP/$name.key" |
		pki --issue --lifetime $LIFE "${NB[@]}" --cacert "$TMP/$issuer.crt" \
			--cakey "$TMP/$issuer.key" "$@" --outform pem >"$TMP/$name.crt"
}

issue int1 root --ca --dn "$DN, CN=iketcp e2e intermediate CA 1"
issue int2 int1 --ca --dn "$DN, CN=iketcp e2e intermediate CA 2"
issue gw-left int2 --dn "$DN, CN=$E2E_GL_NAME" --san "$E2E_GL_NAME" \
	--san "$E2E_GL4" --san "$E2E_GL6" --san "$E2E_GL_CGN4" \
	--san "$E2E_GL_IN4" --san "$E2E_GL_IN6" \
	--flag serverAuth --flag clientAuth
issue gw-right int2 --dn "$DN, CN=$E2E_GR_NAME" --san "$E2E_GR_NAME" \
	--san "$E2E_GR4" --san "$E2E_GR6" \
	--san "$E2E_GR_IN4" --san "$E2E_GR_IN6" \
	--flag serverAuth --flag clientAuth

# pluto's NSS databases (empty password), one per gateway
for gw in gw-left gw-right; do
	cat "$TMP/int2.crt" "$TMP/int1.crt" >"$TMP/chain.pem"
	openssl pkcs12 -export -name "$gw" -in "$TMP/$gw.crt" -inkey "$TMP/$gw.key" \
		-certfile "$TMP/chain.pem" -passout pass: -out "$TMP/$gw.p12"
	mkdir "$TMP/nss-$gw"
	certutil -N -d "sql:$TMP/nss-$gw" --empty-password
	certutil -A -d "sql:$TMP/nss-$gw" -n "iketcp e2e root CA" -t CT,, -i "$TMP/root.crt"
	pk12util -i "$TMP/$gw.p12" -d "sql:$TMP/nss-$gw" -W "" >/dev/null
	rm -f "$TMP/$gw.p12" "$TMP/chain.pem"
done

rm -f "$TMP/strongswan.conf"
chmod 600 "$TMP"/*.key
touch "$TMP/.stamp"
rm -rf "$OUT"
mv "$TMP" "$OUT"
trap - EXIT

end=$(date +%s.%N)
awk -v s="$start" -v k="$keys_done" -v e="$end" -v o="$OUT" 'BEGIN {
	printf "pki.sh: generated %s in %.1f s (5 RSA-4096 keys: %.1f s, certificates: %.1f s)\n",
		o, e - s, k - s, e - k }'
