/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nl.h - libmnl client of the "iketcp" generic netlink family: family
 * resolution by name, requests with extended ACK error messages, and
 * decoding of notifications. Used by iketcpd, iketcpctl and the selftests.
 */
#ifndef IKETCP_NL_H
#define IKETCP_NL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/iketcp.h>

struct mnl_socket;

/* Room for the biggest notification (a 64 KiB message plus attributes) */
#define IKETCP_NL_BUFSZ	(160 * 1024)

/**
 * struct iketcp_nl - one generic netlink socket talking to the module
 * @sock: libmnl socket
 * @family: resolved family id
 * @portid: our port id
 * @seq: last sequence number used
 * @buf: receive buffer (IKETCP_NL_BUFSZ)
 * @scratch: reassembly of messages carried in several attributes
 * @stash: notifications that arrived while waiting for a reply, handed
 *	out first by iketcp_nl_recv()
 * @stash_len: bytes in @stash
 * @err: message of the last failed request (extack), "" if none
 */
struct iketcp_nl {
	struct mnl_socket *sock;
	uint16_t family;
	uint32_t portid;
	uint32_t seq;
	char *buf;
	uint8_t *scratch;
	uint8_t *stash;
	size_t stash_len;
	char err[256];
};

/**
 * struct iketcp_ep - one end of a connection or datagram
 * @family: AF_INET or AF_INET6
 * @port: port, host order
 * @addr: address (v4 in the first 4 bytes)
 */
struct iketcp_ep {
	int family;
	uint16_t port;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
};

/**
 * struct iketcp_event - a decoded notification or dump entry
 * @cmd: enum iketcp_cmd
 * @conn_id: connection id
 * @ino: socket inode
 * @state: enum iketcp_conn_state
 * @framing: enum iketcp_framing
 * @reason: enum iketcp_reason
 * @sk_errno: socket error at the end
 * @truncated: the stream ended inside a message
 * @local: local end
 * @remote: remote end
 * @msg: IKE message (IKETCP_CMD_MSG), valid during the callback
 * @msg_len: its length
 * @stats: enum iketcp_stat counters
 * @has_stats: @stats were present
 * @nonesp: datagram with the non-ESP marker (IKETCP_CMD_UDP_CAPTURED)
 * @pmtu: MTU of the route to the peer (IKETCP_CMD_UDP_CAPTURED)
 * @prefixlen: prefix length (IKETCP_CMD_CAPTURE_GET)
 * @capture: capture or exception (IKETCP_CMD_CAPTURE_GET)
 */
struct iketcp_event {
	uint8_t cmd;
	uint32_t conn_id;
	uint64_t ino;
	uint8_t state;
	uint8_t framing;
	uint8_t reason;
	uint32_t sk_errno;
	bool truncated;
	struct iketcp_ep local;
	struct iketcp_ep remote;
	const uint8_t *msg;
	size_t msg_len;
	uint64_t stats[IKETCP_STAT_MAX + 1];
	bool has_stats;
	bool nonesp;
	uint32_t pmtu;
	uint8_t prefixlen;
	uint8_t capture;
};

/**
 * struct iketcp_netns_info - IKETCP_CMD_NETNS_GET
 * @max_msg_len: netns message limit
 * @first_msg_timeout: ms a new connection has for its first message
 * @helper_portid: registered helper, 0 if none
 * @stats: enum iketcp_netns_stat counters
 * @msg_timeout: ms a peer has to complete a message it began
 * @mem_limit: bytes the netns's queues and held messages may take
 */
struct iketcp_netns_info {
	uint32_t max_msg_len;
	uint32_t first_msg_timeout;
	uint32_t helper_portid;
	uint64_t stats[IKETCP_NS_STAT_MAX + 1];
	uint32_t msg_timeout;
	uint32_t mem_limit;
};

typedef int (*iketcp_event_cb)(const struct iketcp_event *ev, void *arg);

int iketcp_nl_open(struct iketcp_nl *nl);
void iketcp_nl_close(struct iketcp_nl *nl);
int iketcp_nl_fd(const struct iketcp_nl *nl);
int iketcp_nl_set_rcvbuf(struct iketcp_nl *nl, int bytes);

int iketcp_nl_register(struct iketcp_nl *nl);
int iketcp_nl_resume(struct iketcp_nl *nl);
int iketcp_nl_netns_get(struct iketcp_nl *nl, struct iketcp_netns_info *info);
int iketcp_nl_netns_set(struct iketcp_nl *nl, uint32_t max_msg_len);
int iketcp_nl_netns_set_first_msg_timeout(struct iketcp_nl *nl, uint32_t ms);
int iketcp_nl_netns_set_msg_timeout(struct iketcp_nl *nl, uint32_t ms);
int iketcp_nl_netns_set_mem_limit(struct iketcp_nl *nl, uint32_t bytes);
int iketcp_nl_conn_send(struct iketcp_nl *nl, uint32_t conn_id,
			const void *msg, size_t len);
int iketcp_nl_conn_close(struct iketcp_nl *nl, uint32_t conn_id);
int iketcp_nl_conn_set_first_msg_timeout(struct iketcp_nl *nl,
					 uint32_t conn_id, uint32_t ms);
int iketcp_nl_conn_set_esp(struct iketcp_nl *nl, uint32_t conn_id, bool on);
/**
 * struct iketcp_fastpath_req - IKETCP_CMD_FASTPATH_ADD
 * @conn_id: connection
 * @spi_i: the IKE SA's initiator SPI
 * @spi_r: its responder SPI
 * @lport: the daemon's port its messages are delivered to
 * @rport: the peer's port they come from
 * @nonesp: with the non-ESP marker (NAT-T port)
 * @max_rate: messages per second the connection may deliver so, 0: any
 * @rx_seq: IKETCP_CMD_MSG notifications of the connection handled so far
 */
struct iketcp_fastpath_req {
	uint32_t conn_id;
	uint64_t spi_i;
	uint64_t spi_r;
	uint16_t lport;
	uint16_t rport;
	bool nonesp;
	uint32_t max_rate;
	uint64_t rx_seq;
};

int iketcp_nl_fastpath_add(struct iketcp_nl *nl,
			   const struct iketcp_fastpath_req *fp);
int iketcp_nl_fastpath_del(struct iketcp_nl *nl, uint32_t conn_id,
			   uint64_t spi_i, uint64_t spi_r);
int iketcp_nl_conn_get(struct iketcp_nl *nl, uint32_t conn_id,
		       struct iketcp_event *ev);
int iketcp_nl_conn_dump(struct iketcp_nl *nl, iketcp_event_cb cb, void *arg);

int iketcp_nl_capture_add(struct iketcp_nl *nl, const struct iketcp_ep *prefix,
			  int prefixlen, bool capture);
int iketcp_nl_capture_del(struct iketcp_nl *nl, const struct iketcp_ep *prefix,
			  int prefixlen);
int iketcp_nl_capture_flush(struct iketcp_nl *nl);
int iketcp_nl_capture_dump(struct iketcp_nl *nl, iketcp_event_cb cb,
			   void *arg);
int iketcp_nl_udp_inject(struct iketcp_nl *nl, const struct iketcp_ep *peer,
			 const struct iketcp_ep *local, bool nonesp,
			 const void *msg, size_t len, int ifindex);
int iketcp_nl_udp_send(struct iketcp_nl *nl, const struct iketcp_ep *local,
		       const struct iketcp_ep *peer, bool nonesp,
		       const void *msg, size_t len);

int iketcp_nl_drain(struct iketcp_nl *nl, int max, iketcp_event_cb cb,
		    void *arg, int *overruns);
struct nlmsghdr;
int iketcp_nl_parse(const struct nlmsghdr *nlh, struct iketcp_event *ev,
		    uint8_t *scratch);
int iketcp_nl_recv(struct iketcp_nl *nl, bool wait, iketcp_event_cb cb,
		   void *arg);
bool iketcp_nl_pending(const struct iketcp_nl *nl);

const char *iketcp_framing_str(unsigned int framing);
const char *iketcp_reason_str(unsigned int reason);
const char *iketcp_cmd_str(unsigned int cmd);
int iketcp_ep_str(const struct iketcp_ep *ep, char *buf, size_t len);
int iketcp_ep_parse(const char *addr, uint16_t port, struct iketcp_ep *ep);

#endif /* IKETCP_NL_H */
