#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# sanitize.sh [SUITE...] - inside the VM: the selftests that drive iketcpd
# and iketcpctl, with their AddressSanitizer + UBSan build
# (build/userspace-san, from `make userspace-san`): selftests/run.sh with
# IKETCP_SANITIZE=1. Default suites: bridge.sh channels.sh hostile.sh
# daemon.sh e2e/iketcp.sh e2e/matrix.sh (core tier). Fails when a test
# fails or a sanitizer reported anything; every report is printed.
#
# bounds.sh is not among them: it measures iketcpd's memory, which ASan's
# shadow and quarantine change.

cd "$(dirname "$0")/.." || exit 1
export IKETCP_SAN_SUITES="bridge.sh channels.sh hostile.sh daemon.sh e2e/iketcp.sh e2e/matrix.sh"
[ $# -gt 0 ] || set -- $IKETCP_SAN_SUITES
IKETCP_SANITIZE=1 exec selftests/run.sh "$@"
