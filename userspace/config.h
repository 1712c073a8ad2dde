/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config.h - iketcpd configuration (/etc/iketcp/iketcpd.conf).
 */
#ifndef IKETCP_CONFIG_H
#define IKETCP_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "nl.h"

/**
 * enum iketcp_policy - which IKE messages to a peer go over TCP
 * @POL_UDP: none (iketcpd leaves the peer alone)
 * @POL_TCP: every IKE message
 * @POL_AUTH: IKE_SA_INIT over UDP, IKE_AUTH and later over TCP (IKEv1:
 *	Main Mode from message 5 on, and everything after it)
 * @POL_INIT_AUTH: the first two exchanges over TCP, later ones over UDP
 *	(IKEv1: Main and Aggressive Mode over TCP, Quick Mode over UDP)
 * @POL_AUTO: a message goes over TCP when it would be fragmented on the
 *	path (larger than the route's MTU), else over UDP
 * @POL_FALLBACK: UDP first; once the daemon retransmitted one request
 *	retransmit-threshold times unanswered, the peer moves to TCP
 */
enum iketcp_policy {
	POL_UDP,
	POL_TCP,
	POL_AUTH,
	POL_INIT_AUTH,
	POL_AUTO,
	POL_FALLBACK,
};

/**
 * struct cfg_rule - one "peer" line
 * @prefix: peer address prefix (port unused)
 * @plen: prefix length
 * @policy: enum iketcp_policy
 * @port: TCP port of the peer's iketcp listener (default: 500 for the raw
 *	framing, 4500 for RFC 9329)
 * @framing: enum iketcp_framing of the connections iketcpd opens to it
 * @line: line number in the file
 */
struct cfg_rule {
	struct iketcp_ep prefix;
	int plen;
	enum iketcp_policy policy;
	uint16_t port;
	uint8_t framing;
	int line;
};

/**
 * struct cfg_listen - one "listen" line
 * @ep: address and port
 * @framing: enum iketcp_framing of the connections it accepts
 */
struct cfg_listen {
	struct iketcp_ep ep;
	uint8_t framing;
};

/**
 * struct config - a parsed configuration
 * @path: the file
 * @rules: peer rules
 * @nrules: how many
 * @listens: TCP listeners (address, port, framing)
 * @nlistens: how many; when none is configured (and not @listen_off):
 *	0.0.0.0 and :: port 500 in the raw framing, and when a rule asks for
 *	RFC 9329 also 0.0.0.0 and :: port 4500 in it
 * @listen_off: "listen off": no listener (initiator-only gateway)
 * @log_level: syslog level
 * @retransmit_threshold: retransmissions before "fallback" moves to TCP
 * @idle_timeout: seconds without IKE traffic after which a peer's
 *	connection is closed and not reopened
 * @reconnect_max: longest reconnect back-off, seconds
 * @queue_max: messages a peer may have waiting for its connection
 * @hold_time: seconds a waiting message is kept before it is dropped
 * @max_conns: connections accepted in all
 * @max_conns_per_source: connections accepted from one source (an IPv4
 *	address, an IPv6 /64)
 * @stranger_timeout: seconds an accepted connection that has not carried
 *	an authenticated IKE SA's message may stay idle
 * @max_sas: IKE SAs tracked in all
 * @max_half_open: IKE SAs a peer may have started that are not
 *	authenticated yet
 * @half_open_timeout: seconds such an SA is remembered
 * @sa_timeout: seconds an IKE SA without any message is remembered
 * @max_rate: messages per second one connection may deliver (burst: 2x)
 * @first_msg_timeout: seconds a new connection has for its first message
 * @fast_path: hand established IKE SAs to the kernel's fast path
 */
struct config {
	char path[PATH_MAX];
	struct cfg_rule *rules;
	int nrules;
	struct cfg_listen *listens;
	int nlistens;
	bool listen_off;
	int log_level;
	int retransmit_threshold;
	int idle_timeout;
	int reconnect_max;
	int queue_max;
	int hold_time;
	int max_conns;
	int max_conns_per_source;
	int stranger_timeout;
	int max_sas;
	int max_half_open;
	int half_open_timeout;
	int sa_timeout;
	int max_rate;
	int first_msg_timeout;
	bool fast_path;
};

int config_load(const char *path, struct config *cfg, char *err,
		size_t errlen);
int config_parse(const char *path, const char *text, struct config *cfg,
		 char *err, size_t errlen);
void config_free(struct config *cfg);
bool config_same_rule(const struct cfg_rule *a, const struct cfg_rule *b);
const struct cfg_rule *config_lookup(const struct config *cfg,
				     const struct iketcp_ep *addr);
const char *policy_name(enum iketcp_policy p);
int policy_parse(const char *s);
const char *framing_name(uint8_t framing);
int framing_parse(const char *s);
uint16_t framing_port(uint8_t framing);

#endif /* IKETCP_CONFIG_H */
