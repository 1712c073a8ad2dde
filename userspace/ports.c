// SPDX-License-Identifier: GPL-2.0
/*
 * ports.c - the ports of a message delivered to the local daemon.
 *
 * On TCP the raw framing carries nothing but the IKE message: the port the
 * peer's daemon sent it from is not on the wire. The delivery must still
 * look to the local daemon the way the daemons themselves run the SA, and
 * never rely on one daemon's habits (charon moves to 4500 after
 * IKE_SA_INIT even without a NAT, pluto does not):
 *
 * 1. An answer to a datagram of the local daemon comes back exactly the way
 *    that datagram went (the daemon matches it like any reply).
 * 2. The unencrypted set-up (IKE_SA_INIT, IKEv1 Main Mode 1-4) is on 500:
 *    that is where every daemon starts an SA.
 * 3. Later messages follow the daemon's own view of the SA: the ports of
 *    its last datagram after the set-up, once it sent one. Before that the
 *    only thing that moves both ends is a NAT found by NAT detection
 *    (RFC 7296 s2.23, RFC 3947: both then use 4500); without one, or
 *    with none evaluated (a set-up that went over UDP: iketcpd saw the
 *    daemon's answer, not the request whose notifies tell), 500.
 * 4. An SA iketcpd never saw set up (an IKE SA rekeyed inside another,
 *    whose new SPIs travel encrypted; iketcpd restarted without its state):
 *    the daemon's ports in its latest datagram after a set-up to the same
 *    peer (a rekeyed SA keeps its predecessor's ports); with none, 4500 if
 *    the kernel shows the peer's ESP UDP-encapsulated (NAT-T in use, so its
 *    IKE is on 4500 too), else 500.
 */
#include "ports.h"

#define IKE_PORT	500
#define NATT_PORT	4500

/**
 * ports_for_delivery() - the ports a message from a peer is delivered with
 * @v: what is known about the message and its SA
 * @lport: the daemon's port (destination)
 * @rport: the peer's port (source)
 */
void ports_for_delivery(const struct port_view *v, uint16_t *lport,
			uint16_t *rport)
{
	uint16_t p = IKE_PORT;

	if (v->mirror) {
		*lport = v->mirror_lport;
		*rport = v->mirror_rport;
		return;
	}
	if (v->setup) {
		p = IKE_PORT;
	} else if (!v->sa_known && v->peer_ports_known) {
		*lport = v->peer_lport;
		*rport = v->peer_rport;
		return;
	} else if (!v->sa_known) {
		p = v->observed_natt == 1 ? NATT_PORT : IKE_PORT;
	} else if (v->post_setup_sent) {
		*lport = v->lport;
		*rport = v->rport;
		return;
	} else {
		p = v->nat == 1 ? NATT_PORT : IKE_PORT;
	}
	*lport = p;
	*rport = p;
}
