// SPDX-License-Identifier: GPL-2.0
/*
 * addr.c - comparing, matching, printing and converting addresses
 * (struct iketcp_ep). Ports are ignored unless a function says otherwise.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

static size_t ep_alen(const struct iketcp_ep *ep)
{
	return ep->family == AF_INET6 ? 16 : 4;
}

/**
 * ep_addr_cmp() - order two addresses (family, then address bytes)
 * @a: one
 * @b: the other
 *
 * Return: <0, 0 or >0; ports are not compared.
 */
int ep_addr_cmp(const struct iketcp_ep *a, const struct iketcp_ep *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(&a->addr, &b->addr, ep_alen(a));
}

/**
 * ep_addr_eq() - the same address (ports ignored)
 * @a: one
 * @b: the other
 *
 * Return: true if equal.
 */
bool ep_addr_eq(const struct iketcp_ep *a, const struct iketcp_ep *b)
{
	return !ep_addr_cmp(a, b);
}

/**
 * ep_prefix_match() - does an address fall into a prefix?
 * @prefix: the prefix (host bits zero)
 * @plen: its length
 * @addr: the address
 *
 * Return: true if it does (an address of another family never does).
 */
bool ep_prefix_match(const struct iketcp_ep *prefix, int plen,
		     const struct iketcp_ep *addr)
{
	const uint8_t *x = (const uint8_t *)&prefix->addr;
	const uint8_t *y = (const uint8_t *)&addr->addr;

	if (prefix->family != addr->family)
		return false;
	if (memcmp(x, y, plen / 8))
		return false;
	if (plen % 8) {
		uint8_t mask = 0xff << (8 - plen % 8);

		return !((x[plen / 8] ^ y[plen / 8]) & mask);
	}
	return true;
}

/**
 * ep_source_key() - what connection limits count as one source
 * @addr: a peer's address
 * @key: the IPv4 address itself, or the IPv6 address's /64 (one IPv6
 *	host usually holds a whole /64); port 0
 */
void ep_source_key(const struct iketcp_ep *addr, struct iketcp_ep *key)
{
	*key = *addr;
	key->port = 0;
	if (key->family == AF_INET6)
		memset(&key->addr.v6.s6_addr[8], 0, 8);
}

static char *ep_buf(void)
{
	static char buf[8][INET6_ADDRSTRLEN + 10];
	static unsigned int i;

	return buf[i++ % 8];
}

/**
 * ep_str() - an address for logs ("192.0.2.1", "2001:db8::1")
 * @ep: the address
 *
 * Return: one of eight rotating static buffers.
 */
const char *ep_str(const struct iketcp_ep *ep)
{
	char *b = ep_buf();

	if (!inet_ntop(ep->family == AF_INET6 ? AF_INET6 : AF_INET, &ep->addr,
		       b, INET6_ADDRSTRLEN))
		strcpy(b, "?");
	return b;
}

/**
 * ep_str_port() - an address and port for logs ("192.0.2.1:500",
 *	"[2001:db8::1]:4500")
 * @ep: the end point
 *
 * Return: one of eight rotating static buffers.
 */
const char *ep_str_port(const struct iketcp_ep *ep)
{
	char *b = ep_buf();

	iketcp_ep_str(ep, b, INET6_ADDRSTRLEN + 10);
	return b;
}

/**
 * ep_to_sockaddr() - a socket address
 * @ep: the address
 * @port: the port to put in (host order)
 * @ss: filled in
 *
 * Return: its length.
 */
socklen_t ep_to_sockaddr(const struct iketcp_ep *ep, uint16_t port,
			 struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ep->family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = ep->addr.v6;
		a->sin6_port = htons(port);
		return sizeof(*a);
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	a->sin_family = AF_INET;
	a->sin_addr = ep->addr.v4;
	a->sin_port = htons(port);
	return sizeof(*a);
}

/**
 * ep_from_sockaddr() - an end point from a socket address (IPv4-mapped
 *	IPv6 addresses become IPv4)
 * @ss: the socket address
 * @ep: filled in, with the port
 */
void ep_from_sockaddr(const struct sockaddr_storage *ss, struct iketcp_ep *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
			ep->family = AF_INET;
			memcpy(&ep->addr.v4, &a->sin6_addr.s6_addr[12], 4);
		} else {
			ep->family = AF_INET6;
			ep->addr.v6 = a->sin6_addr;
		}
		ep->port = ntohs(a->sin6_port);
	} else {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		ep->family = AF_INET;
		ep->addr.v4 = a->sin_addr;
		ep->port = ntohs(a->sin_port);
	}
}
