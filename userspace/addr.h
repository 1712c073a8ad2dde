/* SPDX-License-Identifier: GPL-2.0 */
/*
 * addr.h - the one address type of iketcpd (struct iketcp_ep, nl.h) and the
 * one way to compare, print, match and convert it.
 */
#ifndef IKETCP_ADDR_H
#define IKETCP_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "nl.h"

int ep_addr_cmp(const struct iketcp_ep *a, const struct iketcp_ep *b);
bool ep_addr_eq(const struct iketcp_ep *a, const struct iketcp_ep *b);
bool ep_prefix_match(const struct iketcp_ep *prefix, int plen,
		     const struct iketcp_ep *addr);
void ep_source_key(const struct iketcp_ep *addr, struct iketcp_ep *key);
const char *ep_str(const struct iketcp_ep *ep);
const char *ep_str_port(const struct iketcp_ep *ep);
socklen_t ep_to_sockaddr(const struct iketcp_ep *ep, uint16_t port,
			 struct sockaddr_storage *ss);
void ep_from_sockaddr(const struct sockaddr_storage *ss, struct iketcp_ep *ep);

#endif /* IKETCP_ADDR_H */
