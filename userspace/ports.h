/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ports.h - the UDP ports a message from a peer is delivered to the local
 * daemon with: derived from what the daemons themselves do (README, "Ports"
 * and iketcpd(8)). A pure function, unit-tested on the host.
 */
#ifndef IKETCP_PORTS_H
#define IKETCP_PORTS_H

#include <stdbool.h>
#include <stdint.h>

/**
 * struct port_view - what iketcpd knows when it delivers a message
 * @sa_known: iketcpd knows the message's IKE SA
 * @setup: the message is part of the SA's unencrypted set-up (IKEv2
 *	IKE_SA_INIT, IKEv1 Main Mode messages 1-4; also every message that
 *	starts an SA)
 * @mirror: the message answers a datagram of the local daemon whose ports
 *	are known (an IKEv2 response to its request; IKEv1: the next message
 *	of the same exchange and message id, on the same side of the set-up)
 * @mirror_lport: that datagram's source port (the daemon's)
 * @mirror_rport: its destination port (the peer's)
 * @post_setup_sent: the daemon has sent a datagram of the SA after the
 *	set-up
 * @lport: the daemon's port in its last such datagram
 * @rport: the peer's port in it
 * @nat: NAT detection of the SA: 1 a NAT, 0 none, -1 not known
 * @peer_ports_known: for an SA iketcpd does not know: the daemon sent a
 *	datagram of another SA to the same peer after its set-up
 * @peer_lport: the daemon's port in the latest such datagram
 * @peer_rport: the peer's port in it
 * @observed_natt: for an SA iketcpd does not know: 1 if the kernel has
 *	UDP-encapsulated ESP with the peer, 0 if not, -1 unknown
 */
struct port_view {
	bool sa_known;
	bool setup;
	bool mirror;
	uint16_t mirror_lport;
	uint16_t mirror_rport;
	bool post_setup_sent;
	uint16_t lport;
	uint16_t rport;
	int nat;
	bool peer_ports_known;
	uint16_t peer_lport;
	uint16_t peer_rport;
	int observed_natt;
};

void ports_for_delivery(const struct port_view *v, uint16_t *lport,
			uint16_t *rport);

#endif /* IKETCP_PORTS_H */
