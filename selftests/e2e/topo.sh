# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# topo.sh - the addresses of the end-to-end topology, shared by pki.sh (the
# gateway certificates carry them as subjectAltNames) and lib.sh. Changing
# this file makes pki.sh regenerate the PKI.
#
#   e2e-hl ---- e2e-gl ====== e2e-mb ====== e2e-gr ---- e2e-hr
#  host-left  gw-left    middlebox/CGN   gw-right   host-right
#                 \________ e2e-mb (CGN access link) __/
#
#   link         netns:interface = address            netns:interface = address
#   hl-gl        e2e-hl:hl-gl 10.1.0.2 fd01::2        e2e-gl:gl-hl 10.1.0.1 fd01::1
#   gl-mb        e2e-gl:gl-mb 192.0.2.1 2001:db8:1::1 e2e-mb:mb-gl 192.0.2.254 2001:db8:1::fe
#   gl-mb (CGN)  e2e-gl:gl-cgn 100.64.0.2             e2e-mb:mb-cgn 100.64.0.1
#   mb-gr        e2e-mb:mb-gr 198.51.100.254 2001:db8:2::fe  e2e-gr:gr-mb 198.51.100.1 2001:db8:2::1
#   gr-hr        e2e-gr:gr-hr 10.2.0.1 fd02::1        e2e-hr:hr-gr 10.2.0.2 fd02::2

# shellcheck disable=SC2034
{
E2E_HL4=10.1.0.2	E2E_HL6=fd01::2
E2E_GL_IN4=10.1.0.1	E2E_GL_IN6=fd01::1
E2E_GL4=192.0.2.1	E2E_GL6=2001:db8:1::1
E2E_MB_L4=192.0.2.254	E2E_MB_L6=2001:db8:1::fe
E2E_GL_CGN4=100.64.0.2	E2E_MB_CGN4=100.64.0.1
E2E_MB_R4=198.51.100.254	E2E_MB_R6=2001:db8:2::fe
E2E_GR4=198.51.100.1	E2E_GR6=2001:db8:2::1
E2E_GR_IN4=10.2.0.1	E2E_GR_IN6=fd02::1
E2E_HR4=10.2.0.2	E2E_HR6=fd02::2

E2E_NET_L4=10.1.0.0/24	E2E_NET_L6=fd01::/64
E2E_NET_R4=10.2.0.0/24	E2E_NET_R6=fd02::/64
E2E_NET_CGN4=100.64.0.0/24

E2E_GL_NAME=gw-left.iketcp.test
E2E_GR_NAME=gw-right.iketcp.test
}
