/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * iketcp: IKE over TCP (draft-nir-ipsecme-ike-tcp, RFC 9329) - user API.
 *
 * A TCP ULP frames IKE messages on an established TCP connection and hands
 * each complete message to the helper daemon of the socket's network
 * namespace over the generic netlink family "iketcp". The ULP's name picks
 * the framing of the connection: "iketcp" the draft's raw IKE messages,
 * "iketcp-rfc9329" RFC 9329's records. In RFC 9329 framing the stream
 * prefix "IKETCP" is the helper's business: the TCP Originator writes it
 * before attaching, the Responder reads and checks it before attaching
 * (iketcp_frame_stream_prefix() in the framing core); the ULP sees records
 * only.
 * The helper sends messages back the same way. Every command needs
 * CAP_NET_ADMIN; failures are explained through the extended ACK.
 */
#ifndef _UAPI_LINUX_IKETCP_H
#define _UAPI_LINUX_IKETCP_H

#define IKETCP_GENL_NAME	"iketcp"
#define IKETCP_GENL_VERSION	1
#define IKETCP_ULP_NAME		"iketcp"
#define IKETCP_ULP_NAME_RFC9329	"iketcp-rfc9329"

/* RFC 9329 s4: the stream prefix the TCP Originator sends first */
#define IKETCP_STREAM_PREFIX		"IKETCP"
#define IKETCP_STREAM_PREFIX_LEN	6
/* RFC 9329 s3: the record length field counts itself; 0 and 1 are fatal,
 * 2 (no body) is ignored
 */
#define IKETCP_RFC9329_LEN_FIELD	2
#define IKETCP_RFC9329_RECORD_MAX	65535
/* An IKE record: length field, non-ESP marker, message */
#define IKETCP_RFC9329_IKE_HDR_LEN	6
#define IKETCP_RFC9329_IKE_MAX	(IKETCP_RFC9329_RECORD_MAX - \
				 IKETCP_RFC9329_IKE_HDR_LEN)
/* An ESP record's body: at least SPI and sequence number */
#define IKETCP_ESP_HDR_LEN		8
#define IKETCP_RFC9329_ESP_MAX	(IKETCP_RFC9329_RECORD_MAX - \
				 IKETCP_RFC9329_LEN_FIELD)

/* IKE's UDP ports (RFC 7296 s2, RFC 3948) and the non-ESP marker size */
#define IKETCP_IKE_PORT		500
#define IKETCP_NATT_PORT	4500
#define IKETCP_NONESP_LEN	4

/* Size of the IKE header (RFC 7296 s3.1, RFC 2408 s3.1) */
#define IKETCP_IKE_HDR_LEN	28
/* Default message limit: the largest IPv4 UDP payload */
#define IKETCP_MAX_MSG_LEN_DEFAULT	65507
/* The limit can never be set above this */
#define IKETCP_MAX_MSG_LEN_CEILING	65535
/* Default time a new connection has to deliver its first message (ms) */
#define IKETCP_FIRST_MSG_TIMEOUT_DEFAULT	10000
/* Default time a peer has to complete a message once it began it (ms) */
#define IKETCP_MSG_TIMEOUT_DEFAULT	30000
/* Default netns cap on queued and held message bytes (IKETCP_A_MEM_LIMIT) */
#define IKETCP_MEM_LIMIT_DEFAULT	(128 << 20)
/* Highest IKETCP_A_MAX_RATE (messages per second) */
#define IKETCP_MAX_RATE_CEILING	1000000
/* IKE SAs per connection with a fast path entry (IKETCP_CMD_FASTPATH_ADD) */
#define IKETCP_FASTPATH_MAX	4
/* How long a connection stays paused for a hand-over the helper does not
 * complete (IKETCP_CMD_FASTPATH_ADD, -EAGAIN), in milliseconds
 */
#define IKETCP_FASTPATH_WAIT_MS	1000

/**
 * enum iketcp_framing - how IKE messages are delimited on a TCP stream
 * @IKETCP_FRAMING_UNSPEC: unused
 * @IKETCP_FRAMING_RAW: draft-nir-ipsecme-ike-tcp: messages back to back,
 *	delimited by the length field of the IKE header, no prefix
 * @IKETCP_FRAMING_RFC9329: RFC 9329 s3: records of a 16-bit length that
 *	counts itself, then an IKE message behind the 4-byte non-ESP marker,
 *	or an ESP packet; a record of length 2 and a one-byte 0xFF body (NAT
 *	keepalive) are dropped silently
 * @__IKETCP_FRAMING_MAX: internal
 * @IKETCP_FRAMING_MAX: highest value
 */
enum iketcp_framing {
	IKETCP_FRAMING_UNSPEC,
	IKETCP_FRAMING_RAW,
	IKETCP_FRAMING_RFC9329,

	__IKETCP_FRAMING_MAX,
	IKETCP_FRAMING_MAX = __IKETCP_FRAMING_MAX - 1
};

/**
 * enum iketcp_reason - why a connection ended (IKETCP_A_REASON)
 * @IKETCP_REASON_UNSPEC: unused
 * @IKETCP_REASON_PEER_FIN: the peer closed its side of the connection
 * @IKETCP_REASON_PEER_RESET: the peer reset the connection
 * @IKETCP_REASON_LOCAL_CLOSE: the socket was closed locally
 * @IKETCP_REASON_ADMIN: aborted by IKETCP_CMD_CONN_CLOSE
 * @IKETCP_REASON_ERROR: another socket error, see IKETCP_A_ERRNO
 * @IKETCP_REASON_LEN_SHORT: framing violation, IKE length field below the
 *	28-byte IKE header (connection aborted with a RST)
 * @IKETCP_REASON_LEN_LONG: framing violation, IKE length field above the
 *	netns limit IKETCP_A_MAX_MSG_LEN (aborted with a RST)
 * @IKETCP_REASON_BAD_VERSION: framing violation, IKE major version neither
 *	1 nor 2 (aborted with a RST)
 * @IKETCP_REASON_TIMEOUT: no complete first message within the netns time
 *	limit IKETCP_A_FIRST_MSG_TIMEOUT (aborted with a RST)
 * @IKETCP_REASON_BAD_RECORD: framing violation (RFC 9329), a record length
 *	of 0 or 1, or a body that is neither an IKE message, an ESP packet
 *	(at least 8 bytes) nor a NAT keepalive (aborted with a RST)
 * @IKETCP_REASON_LEN_MISMATCH: framing violation (RFC 9329), the IKE
 *	header's length differs from the record's (aborted with a RST)
 * @IKETCP_REASON_BAD_PREFIX: the stream did not begin with "IKETCP" (RFC
 *	9329 s4; found by the helper, which closes the connection)
 * @__IKETCP_REASON_MAX: internal
 * @IKETCP_REASON_MAX: highest value
 */
enum iketcp_reason {
	IKETCP_REASON_UNSPEC,
	IKETCP_REASON_PEER_FIN,
	IKETCP_REASON_PEER_RESET,
	IKETCP_REASON_LOCAL_CLOSE,
	IKETCP_REASON_ADMIN,
	IKETCP_REASON_ERROR,
	IKETCP_REASON_LEN_SHORT,
	IKETCP_REASON_LEN_LONG,
	IKETCP_REASON_BAD_VERSION,
	IKETCP_REASON_TIMEOUT,
	IKETCP_REASON_BAD_RECORD,
	IKETCP_REASON_LEN_MISMATCH,
	IKETCP_REASON_BAD_PREFIX,

	__IKETCP_REASON_MAX,
	IKETCP_REASON_MAX = __IKETCP_REASON_MAX - 1
};

/**
 * enum iketcp_conn_state - connection state in dumps (IKETCP_A_CONN_STATE)
 * @IKETCP_CONN_STATE_UNSPEC: unused
 * @IKETCP_CONN_STATE_ACTIVE: attached, messages flow
 * @IKETCP_CONN_STATE_ENDED: the stream ended (see IKETCP_A_REASON); the
 *	socket is still open and waits for its owner to close it
 */
enum iketcp_conn_state {
	IKETCP_CONN_STATE_UNSPEC,
	IKETCP_CONN_STATE_ACTIVE,
	IKETCP_CONN_STATE_ENDED,
};

/**
 * enum iketcp_cmd - generic netlink commands and notifications
 * @IKETCP_CMD_UNSPEC: unused
 * @IKETCP_CMD_HELPER_REGISTER: make the sending socket the helper of its
 *	netns: it receives the notifications below. -EBUSY if another live
 *	socket is registered. Released when that netlink socket closes.
 * @IKETCP_CMD_HELPER_RESUME: the helper drained its receive queue after
 *	an ENOBUFS: retry delivering what is held back (see the backpressure
 *	note below)
 * @IKETCP_CMD_NETNS_GET: netns parameters and counters
 * @IKETCP_CMD_NETNS_SET: set netns parameters (IKETCP_A_MAX_MSG_LEN,
 *	IKETCP_A_FIRST_MSG_TIMEOUT, IKETCP_A_MSG_TIMEOUT, IKETCP_A_MEM_LIMIT;
 *	the timeouts apply
 *	to connections attached afterwards)
 * @IKETCP_CMD_CONN_GET: one connection (IKETCP_A_CONN_ID) or a dump of all
 *	connections of the netns, with state and IKETCP_A_STATS
 * @IKETCP_CMD_CONN_SEND: send IKETCP_A_MSG, exactly one whole IKE message,
 *	on connection IKETCP_A_CONN_ID. Queued and written whole, never
 *	interleaved with another message. -EMSGSIZE above the netns limit,
 *	-EINVAL if it is not one valid IKE message, -ENOTCONN if the
 *	connection ended, -ENOBUFS if its send queue is full.
 * @IKETCP_CMD_CONN_CLOSE: abort connection IKETCP_A_CONN_ID with a RST
 * @IKETCP_CMD_CONN_ATTACHED: notification: the ULP was attached to a
 *	socket (IKETCP_A_CONN_ID, IKETCP_A_CONN_INODE, addresses, ports)
 * @IKETCP_CMD_CONN_ENDED: notification: the stream ended
 *	(IKETCP_A_REASON, IKETCP_A_ERRNO, IKETCP_A_TRUNCATED); sent after the
 *	last message of the stream. Framing violations end it with one of the
 *	framing reasons, after the connection was aborted with a RST.
 * @IKETCP_CMD_MSG: notification: one complete IKE message (IKETCP_A_MSG)
 *	received on a connection, with the connection's id, addresses, ports
 * @IKETCP_CMD_CAPTURE_ADD: capture rule: the local IKE daemon's datagrams
 *	to peers in IKETCP_A_REMOTE_IPV4/6 / IKETCP_A_PREFIXLEN are taken
 *	(IKETCP_A_CAPTURE 1) or left alone (0, an exception inside a wider
 *	rule); the longest prefix wins. Needs a registered helper; the rules
 *	go away with it. Replaces a rule with the same prefix.
 * @IKETCP_CMD_CAPTURE_DEL: remove the rule with that prefix
 * @IKETCP_CMD_CAPTURE_FLUSH: remove every rule of the netns
 * @IKETCP_CMD_CAPTURE_GET: dump the rules
 * @IKETCP_CMD_UDP_CAPTURED: notification: a UDP IKE datagram the local
 *	daemon sent (from port 500, or from 4500 with the non-ESP marker:
 *	IKETCP_A_NONESP) to a captured peer; it did not leave the host.
 *	Only datagrams of UDP sockets opened by a process with CAP_NET_ADMIN
 *	or CAP_NET_BIND_SERVICE are the daemon's (others, raw sockets and
 *	GSO batches leave as they are).
 *	IKETCP_A_LOCAL_* is its source, IKETCP_A_REMOTE_* its destination,
 *	IKETCP_A_MSG the IKE message (marker removed), IKETCP_A_PMTU the MTU
 *	of the route to the peer.
 * @IKETCP_CMD_UDP_INJECT: deliver IKETCP_A_MSG to the local daemon as a
 *	UDP datagram from IKETCP_A_REMOTE_* (the peer) to IKETCP_A_LOCAL_*,
 *	with the non-ESP marker if IKETCP_A_NONESP. It enters the stack as if
 *	received on the interface of the route to the peer (or
 *	IKETCP_A_IFINDEX): firewall, conntrack and the daemon see a datagram
 *	from the network. It enters at the IP layer (no frame: packet
 *	sockets, tc and XDP on the interface see nothing, a bridge forwards
 *	nothing) and is only delivered to a local address: -EHOSTUNREACH if
 *	it does not route to one, the netfilter error (-EPERM) if the
 *	firewall dropped it, both counted in IKETCP_NS_STAT_INJECT_DROPS.
 *	-EMSGSIZE if the message does not fit a datagram (IPv4: 65507 bytes,
 *	IPv6: 65527, 4 less with the marker).
 * @IKETCP_CMD_UDP_SEND: send IKETCP_A_MSG to the peer as a real UDP
 *	datagram from IKETCP_A_LOCAL_* to IKETCP_A_REMOTE_* (not captured;
 *	fragmented if it must be; like the daemon's own socket it bypasses
 *	IPsec policies). The size limit is UDP_INJECT's.
 * @IKETCP_CMD_CONN_SET: connection IKETCP_A_CONN_ID gets
 *	IKETCP_A_FIRST_MSG_TIMEOUT milliseconds from now for its first
 *	message, 0 for no limit: the helper vouches for a connection it
 *	opened itself, or one from a peer it knows (an idle standby
 *	connection between gateways is legitimate). No effect once the first
 *	message arrived; -ENOTCONN if the connection ended. With
 *	IKETCP_A_ESP (and IKETCP_A_FIRST_MSG_TIMEOUT now optional), an RFC
 *	9329 connection starts or stops carrying the ESP of its remote
 *	address (-EOPNOTSUPP in raw framing).
 * @IKETCP_CMD_FASTPATH_ADD: from now on, messages of the IKE SA
 *	IKETCP_A_SPI_I / IKETCP_A_SPI_R received on connection
 *	IKETCP_A_CONN_ID go straight to the local daemon, as UDP_INJECT
 *	would deliver them (from the connection's remote address and
 *	IKETCP_A_REMOTE_PORT to its local address and IKETCP_A_LOCAL_PORT,
 *	IKETCP_A_NONESP), without a notification. IKETCP_A_RX_SEQ is the
 *	number of IKETCP_CMD_MSG notifications of the connection the helper
 *	has handled: if more were sent, or some are held back, -EAGAIN (the
 *	SA's messages must stay in order): the connection is then no longer
 *	read, so that the helper catches up, until it asks again with the
 *	count of everything it was handed (the entry starts, reading
 *	resumes), ends an entry (IKETCP_CMD_FASTPATH_DEL) or
 *	IKETCP_FASTPATH_WAIT_MS pass. A hand-over therefore never depends on
 *	how fast the helper drains its socket.
 *	IKETCP_A_MAX_RATE (messages per second, 0 none) limits what the
 *	connection may deliver this way. At most IKETCP_FASTPATH_MAX SAs per
 *	connection (-ENOSPC); the same SPIs replace their entry. A message
 *	that cannot be delivered (over the rate, no route, no memory) goes
 *	to the helper as IKETCP_CMD_MSG instead and ends its SA's entry.
 * @IKETCP_CMD_FASTPATH_DEL: end the entry of IKETCP_A_SPI_I /
 *	IKETCP_A_SPI_R on connection IKETCP_A_CONN_ID (every entry without
 *	them): its messages go to the helper again (-ENOENT: no such entry)
 *
 * Backpressure: notifications are unicast to the helper. When its socket
 * cannot take one, nothing is lost: the message stays with its connection,
 * that connection's TCP socket is no longer read (TCP flow control pushes
 * back on the peer) and the helper's next recv() fails with ENOBUFS. The
 * helper then drains its socket and sends IKETCP_CMD_HELPER_RESUME (the
 * kernel also retries on its own every 100 ms). Held-back notifications are
 * delivered in order, round robin between connections.
 * @__IKETCP_CMD_MAX: internal
 * @IKETCP_CMD_MAX: highest value
 */
enum iketcp_cmd {
	IKETCP_CMD_UNSPEC,
	IKETCP_CMD_HELPER_REGISTER,
	IKETCP_CMD_HELPER_RESUME,
	IKETCP_CMD_NETNS_GET,
	IKETCP_CMD_NETNS_SET,
	IKETCP_CMD_CONN_GET,
	IKETCP_CMD_CONN_SEND,
	IKETCP_CMD_CONN_CLOSE,
	IKETCP_CMD_CONN_ATTACHED,
	IKETCP_CMD_CONN_ENDED,
	IKETCP_CMD_MSG,
	IKETCP_CMD_CAPTURE_ADD,
	IKETCP_CMD_CAPTURE_DEL,
	IKETCP_CMD_CAPTURE_FLUSH,
	IKETCP_CMD_CAPTURE_GET,
	IKETCP_CMD_UDP_CAPTURED,
	IKETCP_CMD_UDP_INJECT,
	IKETCP_CMD_UDP_SEND,
	IKETCP_CMD_CONN_SET,
	IKETCP_CMD_FASTPATH_ADD,
	IKETCP_CMD_FASTPATH_DEL,

	__IKETCP_CMD_MAX,
	IKETCP_CMD_MAX = __IKETCP_CMD_MAX - 1
};

/**
 * enum iketcp_attr - generic netlink attributes
 * @IKETCP_A_UNSPEC: unused
 * @IKETCP_A_CONN_ID: u32, connection id, unique in its netns
 * @IKETCP_A_CONN_INODE: u64, inode number of the connection's socket (to
 *	match it with fstat() on the file descriptor)
 * @IKETCP_A_CONN_STATE: u8, enum iketcp_conn_state
 * @IKETCP_A_FRAMING: u8, enum iketcp_framing
 * @IKETCP_A_LOCAL_IPV4: be32, local IPv4 address
 * @IKETCP_A_LOCAL_IPV6: 16 bytes, local IPv6 address
 * @IKETCP_A_LOCAL_PORT: u16 (host order), local port
 * @IKETCP_A_REMOTE_IPV4: be32, remote IPv4 address
 * @IKETCP_A_REMOTE_IPV6: 16 bytes, remote IPv6 address
 * @IKETCP_A_REMOTE_PORT: u16 (host order), remote port
 * @IKETCP_A_MSG: binary, one whole IKE message (header included)
 * @IKETCP_A_REASON: u8, enum iketcp_reason
 * @IKETCP_A_ERRNO: u32, socket error (positive errno) when the stream ended
 * @IKETCP_A_TRUNCATED: flag, the stream ended inside a message
 * @IKETCP_A_STATS: nest of enum iketcp_stat
 * @IKETCP_A_MAX_MSG_LEN: u32, largest IKE message accepted and sent in
 *	this netns (28..65535, default 65507)
 * @IKETCP_A_HELPER_PORTID: u32, netlink port id of the registered helper
 * @IKETCP_A_NETNS_STATS: nest of enum iketcp_netns_stat
 * @IKETCP_A_PAD: padding for 64-bit attributes
 * @IKETCP_A_PREFIXLEN: u8, prefix length of a capture rule
 * @IKETCP_A_CAPTURE: u8, 1: capture, 0: leave alone
 * @IKETCP_A_NONESP: flag, the datagram is on the NAT-T port and carries
 *	the 4-byte non-ESP marker before the IKE message
 * @IKETCP_A_PMTU: u32, MTU of the route to the peer
 * @IKETCP_A_IFINDEX: u32, interface an injected datagram arrives on
 * @IKETCP_A_FIRST_MSG_TIMEOUT: u32, milliseconds a new connection has to
 *	deliver its first complete message before it is aborted (0: no limit,
 *	default 10000)
 * @IKETCP_A_SPI_I: u64, IKE SA initiator's SPI (host order)
 * @IKETCP_A_SPI_R: u64, IKE SA responder's SPI (host order)
 * @IKETCP_A_RX_SEQ: u64, IKETCP_CMD_MSG notifications of a connection the
 *	helper has handled
 * @IKETCP_A_MAX_RATE: u32, messages per second, 0 for no limit, at most
 *	IKETCP_MAX_RATE_CEILING
 * @IKETCP_A_MSG_TIMEOUT: u32, ms a peer has to complete a message once its
 *	first byte arrived (every message, the first included; our own
 *	backlog does not count), 0 for no limit; the connection is aborted
 *	with IKETCP_REASON_TIMEOUT. Default IKETCP_MSG_TIMEOUT_DEFAULT
 * @IKETCP_A_MEM_LIMIT: u32, bytes all connections of the netns may hold in
 *	send queues and held received messages together (also charged to
 *	their sockets); a send beyond it fails with -ENOBUFS. Default
 *	IKETCP_MEM_LIMIT_DEFAULT
 * @IKETCP_A_ESP: u8, IKETCP_CMD_CONN_SET: 1: this RFC 9329 connection
 *	carries the ESP of its remote address from now on (the connection
 *	that carried it before stops), 0: it stops carrying it
 * @__IKETCP_A_MAX: internal
 * @IKETCP_A_MAX: highest value
 */
enum iketcp_attr {
	IKETCP_A_UNSPEC,
	IKETCP_A_CONN_ID,
	IKETCP_A_CONN_INODE,
	IKETCP_A_CONN_STATE,
	IKETCP_A_FRAMING,
	IKETCP_A_LOCAL_IPV4,
	IKETCP_A_LOCAL_IPV6,
	IKETCP_A_LOCAL_PORT,
	IKETCP_A_REMOTE_IPV4,
	IKETCP_A_REMOTE_IPV6,
	IKETCP_A_REMOTE_PORT,
	IKETCP_A_MSG,
	IKETCP_A_REASON,
	IKETCP_A_ERRNO,
	IKETCP_A_TRUNCATED,
	IKETCP_A_STATS,
	IKETCP_A_MAX_MSG_LEN,
	IKETCP_A_HELPER_PORTID,
	IKETCP_A_NETNS_STATS,
	IKETCP_A_PAD,
	IKETCP_A_PREFIXLEN,
	IKETCP_A_CAPTURE,
	IKETCP_A_NONESP,
	IKETCP_A_PMTU,
	IKETCP_A_IFINDEX,
	IKETCP_A_FIRST_MSG_TIMEOUT,
	IKETCP_A_SPI_I,
	IKETCP_A_SPI_R,
	IKETCP_A_RX_SEQ,
	IKETCP_A_MAX_RATE,
	IKETCP_A_MSG_TIMEOUT,
	IKETCP_A_MEM_LIMIT,
	IKETCP_A_ESP,

	__IKETCP_A_MAX,
	IKETCP_A_MAX = __IKETCP_A_MAX - 1
};

/**
 * enum iketcp_stat - per-connection counters (u64, in IKETCP_A_STATS)
 * @IKETCP_STAT_UNSPEC: unused
 * @IKETCP_STAT_RX_MSGS: IKE messages received and delivered to the helper
 * @IKETCP_STAT_RX_BYTES: bytes of those messages
 * @IKETCP_STAT_TX_MSGS: IKE messages written whole to the TCP socket
 * @IKETCP_STAT_TX_BYTES: bytes of those messages
 * @IKETCP_STAT_FRAMING_ERRORS: framing violations (0 or 1: they abort)
 * @IKETCP_STAT_BACKPRESSURE: times reading stopped because the helper
 *	could not take a notification (or none was registered)
 * @IKETCP_STAT_TX_QUEUED: bytes queued for sending, not yet written
 * @IKETCP_STAT_PAD: padding for 64-bit attributes
 * @IKETCP_STAT_FAST_MSGS: messages delivered to the daemon by the fast
 *	path (not in IKETCP_STAT_RX_MSGS)
 * @IKETCP_STAT_FAST_BYTES: bytes of those messages
 * @IKETCP_STAT_SKIPPED: RFC 9329 records dropped silently (length 2, NAT
 *	keepalives)
 * @IKETCP_STAT_ESP_RX_PKTS: ESP packets received in records and delivered
 *	to the local xfrm input (plain, or ESP-in-UDP as their SA expects)
 * @IKETCP_STAT_ESP_RX_BYTES: bytes of those packets
 * @IKETCP_STAT_ESP_RX_DROPS: ESP packets received and not delivered (those
 *	of IKETCP_STAT_ESP_RX_NOSA included)
 * @IKETCP_STAT_ESP_RX_NOSA: ... because no SA of the local address has
 *	their SPI (or it is encapsulated in TCP)
 * @IKETCP_STAT_ESP_TX_PKTS: ESP packets of the local xfrm output written
 *	to the connection as records (IKETCP_A_ESP)
 * @IKETCP_STAT_ESP_TX_BYTES: bytes of those packets
 * @IKETCP_STAT_ESP_TX_DROPS: outbound ESP packets dropped: the connection's
 *	queue or the memory limits were full, or it was closing
 * @__IKETCP_STAT_MAX: internal
 * @IKETCP_STAT_MAX: highest value
 */
enum iketcp_stat {
	IKETCP_STAT_UNSPEC,
	IKETCP_STAT_RX_MSGS,
	IKETCP_STAT_RX_BYTES,
	IKETCP_STAT_TX_MSGS,
	IKETCP_STAT_TX_BYTES,
	IKETCP_STAT_FRAMING_ERRORS,
	IKETCP_STAT_BACKPRESSURE,
	IKETCP_STAT_TX_QUEUED,
	IKETCP_STAT_PAD,
	IKETCP_STAT_FAST_MSGS,
	IKETCP_STAT_FAST_BYTES,
	IKETCP_STAT_SKIPPED,
	IKETCP_STAT_ESP_RX_PKTS,
	IKETCP_STAT_ESP_RX_BYTES,
	IKETCP_STAT_ESP_RX_DROPS,
	IKETCP_STAT_ESP_RX_NOSA,
	IKETCP_STAT_ESP_TX_PKTS,
	IKETCP_STAT_ESP_TX_BYTES,
	IKETCP_STAT_ESP_TX_DROPS,

	__IKETCP_STAT_MAX,
	IKETCP_STAT_MAX = __IKETCP_STAT_MAX - 1
};

/**
 * enum iketcp_netns_stat - per-netns counters (u64, IKETCP_A_NETNS_STATS)
 * @IKETCP_NS_STAT_UNSPEC: unused
 * @IKETCP_NS_STAT_CONNS: connections attached now
 * @IKETCP_NS_STAT_CONNS_TOTAL: connections attached since the netns began
 * @IKETCP_NS_STAT_ABORTS: connections aborted for a framing violation
 * @IKETCP_NS_STAT_RX_MSGS: messages delivered to the helper
 * @IKETCP_NS_STAT_BACKPRESSURE: backpressure events, all connections
 * @IKETCP_NS_STAT_HELD: notifications held back right now
 * @IKETCP_NS_STAT_CAPTURED: daemon datagrams captured for the helper
 * @IKETCP_NS_STAT_CAPTURE_DROPS: captured datagrams the helper could not
 *	take (dropped: the daemon retransmits)
 * @IKETCP_NS_STAT_INJECTED: datagrams delivered to the daemon
 * @IKETCP_NS_STAT_UDP_SENT: datagrams sent to peers for the helper
 * @IKETCP_NS_STAT_PAD: padding for 64-bit attributes
 * @IKETCP_NS_STAT_FAST_MSGS: messages delivered by the fast path
 * @IKETCP_NS_STAT_FAST_FALLBACKS: fast path messages handed to the
 *	helper instead (their entry ended)
 * @IKETCP_NS_STAT_FIRST_MSG_TIMEOUTS: connections aborted because their
 *	first message did not arrive in time
 * @IKETCP_NS_STAT_MSG_TIMEOUTS: connections aborted because a message
 *	they began was not completed in time (IKETCP_A_MSG_TIMEOUT)
 * @IKETCP_NS_STAT_MEM_USED: bytes in send queues and held received
 *	messages now (IKETCP_A_MEM_LIMIT)
 * @IKETCP_NS_STAT_MEM_REFUSALS: sends refused for IKETCP_A_MEM_LIMIT or
 *	the socket memory limits
 * @IKETCP_NS_STAT_INJECT_DROPS: datagrams for the daemon that could not
 *	be delivered (no local route for them, dropped by netfilter, no
 *	memory); not in IKETCP_NS_STAT_INJECTED
 * @IKETCP_NS_STAT_CAPTURE_DEFERRED: captured datagrams handed to the
 *	helper later, from process context (no memory for them at once)
 * @IKETCP_NS_STAT_FAST_ADDED: fast path entries started
 * @IKETCP_NS_STAT_FAST_WAITS: connections paused for a hand-over, until
 *	the helper had caught up
 * @IKETCP_NS_STAT_FAST_WAIT_TIMEOUTS: such pauses ended because the
 *	helper did not ask again in IKETCP_FASTPATH_WAIT_MS
 * @__IKETCP_NS_STAT_MAX: internal
 * @IKETCP_NS_STAT_MAX: highest value
 */
enum iketcp_netns_stat {
	IKETCP_NS_STAT_UNSPEC,
	IKETCP_NS_STAT_CONNS,
	IKETCP_NS_STAT_CONNS_TOTAL,
	IKETCP_NS_STAT_ABORTS,
	IKETCP_NS_STAT_RX_MSGS,
	IKETCP_NS_STAT_BACKPRESSURE,
	IKETCP_NS_STAT_HELD,
	IKETCP_NS_STAT_PAD,
	IKETCP_NS_STAT_CAPTURED,
	IKETCP_NS_STAT_CAPTURE_DROPS,
	IKETCP_NS_STAT_INJECTED,
	IKETCP_NS_STAT_UDP_SENT,
	IKETCP_NS_STAT_FAST_MSGS,
	IKETCP_NS_STAT_FAST_FALLBACKS,
	IKETCP_NS_STAT_FIRST_MSG_TIMEOUTS,
	IKETCP_NS_STAT_MSG_TIMEOUTS,
	IKETCP_NS_STAT_MEM_USED,
	IKETCP_NS_STAT_MEM_REFUSALS,
	IKETCP_NS_STAT_INJECT_DROPS,
	IKETCP_NS_STAT_CAPTURE_DEFERRED,
	IKETCP_NS_STAT_FAST_ADDED,
	IKETCP_NS_STAT_FAST_WAITS,
	IKETCP_NS_STAT_FAST_WAIT_TIMEOUTS,

	__IKETCP_NS_STAT_MAX,
	IKETCP_NS_STAT_MAX = __IKETCP_NS_STAT_MAX - 1
};

#endif /* _UAPI_LINUX_IKETCP_H */
