// SPDX-License-Identifier: GPL-2.0
/*
 * xfrm.c - what the kernel's IPsec state says about a peer: for an IKE SA
 * iketcpd never saw set up, whether the daemon runs NAT traversal with the
 * peer (UDP-encapsulated ESP), which puts that peer's IKE on UDP 4500.
 * One NETLINK_XFRM dump of the SA database (libmnl), needs CAP_NET_ADMIN.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>

#include "addr.h"
#include "daemon.h"
#include "log.h"

struct natt_walk {
	const struct iketcp_ep *peer;
	int found;
};

static bool xfrm_addr_is(const xfrm_address_t *a, int family,
			 const struct iketcp_ep *ep)
{
	if (family != ep->family)
		return false;
	return !memcmp(a, &ep->addr, family == AF_INET6 ? 16 : 4);
}

static int natt_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **encap = data;

	if (mnl_attr_get_type(attr) == XFRMA_ENCAP &&
	    mnl_attr_get_payload_len(attr) >= sizeof(struct xfrm_encap_tmpl))
		*encap = attr;
	return MNL_CB_OK;
}

static int natt_state_cb(const struct nlmsghdr *nlh, void *data)
{
	struct natt_walk *w = data;
	const struct xfrm_usersa_info *sa;
	const struct nlattr *encap = NULL;
	const struct xfrm_encap_tmpl *et;

	if (nlh->nlmsg_type != XFRM_MSG_NEWSA ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*sa))
		return MNL_CB_OK;
	sa = mnl_nlmsg_get_payload(nlh);
	if (sa->id.proto != IPPROTO_ESP ||
	    (!xfrm_addr_is(&sa->id.daddr, sa->family, w->peer) &&
	     !xfrm_addr_is(&sa->saddr, sa->family, w->peer)))
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*sa), natt_attr_cb, &encap);
	if (!encap)
		return MNL_CB_OK;
	et = mnl_attr_get_payload(encap);
	/* UDP_ENCAP_ESPINUDP (2), or the old non-IKE marker variant (1) */
	if (et->encap_type == 1 || et->encap_type == 2)
		w->found = 1;
	return MNL_CB_OK;
}

/**
 * xfrm_load_km() - make sure the kernel's netlink IPsec key manager
 *	(xfrm_user) is loaded: opening a NETLINK_XFRM socket loads it
 *
 * Return: 0, or -1 if there is none (no XFRM_USER in this kernel).
 */
int xfrm_load_km(void)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_XFRM);

	if (!nl)
		return -1;
	mnl_socket_close(nl);
	return 0;
}

/**
 * xfrm_natt_with() - does the kernel hold UDP-encapsulated ESP states with
 *	a peer?
 * @peer: the peer's address (port ignored)
 *
 * Return: 1 if it does, 0 if not, -1 if the SA database cannot be read.
 */
int xfrm_natt_with(const struct iketcp_ep *peer)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct natt_walk w = { .peer = peer };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	unsigned int seq = time(NULL), portid;
	int ret = -1;
	ssize_t n;

	nl = mnl_socket_open(NETLINK_XFRM);
	if (!nl)
		goto out_err;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out_close;
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = XFRM_MSG_GETSA;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;	/* (a dump request: no payload, no filter) */
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out_close;
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		ret = mnl_cb_run(buf, n, seq, portid, natt_state_cb, &w);
		if (ret <= MNL_CB_STOP)
			break;
	}
	ret = ret < 0 ? -1 : w.found;
out_close:
	mnl_socket_close(nl);
out_err:
	if (ret < 0)
		log_rl(LOG_WARNING, "cannot read the kernel's IPsec SAs (to find the IKE port of an SA not seen set up): %s",
		       strerror(errno));
	return ret;
}
