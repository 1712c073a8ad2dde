/* SPDX-License-Identifier: GPL-2.0 */
/*
 * daemon.h - iketcpd's state: peers (one TCP connection per pair of
 * gateways), their connections, the IKE SAs seen, and the counters. Each
 * .c file owns one part: peer.c the TCP connections, bridge.c the message
 * routing and SA tracking, ctl.c the status socket, iketcpd.c the loop.
 */
#ifndef IKETCP_DAEMON_H
#define IKETCP_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ike.h"
#include "nl.h"

struct peer;

/**
 * struct conn - one TCP connection to a peer
 * @fd: the socket (owned here; the kernel reads and writes it)
 * @id: kernel connection id, 0 until IKETCP_CMD_CONN_ATTACHED arrived
 * @ino: socket inode, to match the attach notification
 * @peer: the peer
 * @originator: we opened it
 * @connecting: connect() in progress, not attached yet
 * @started: when the connect began (ms)
 * @nmsgs: messages received on it
 * @rx_handled: its IKETCP_CMD_MSG notifications handled (fastpath.c)
 * @tokens: rate limit bucket (messages)
 * @refilled: last refill of @tokens (ms)
 * @next: next connection of the same peer
 */
struct conn {
	int fd;
	uint32_t id;
	uint64_t ino;
	struct peer *peer;
	bool originator;
	bool connecting;
	long long started;
	uint64_t nmsgs;
	uint64_t rx_handled;
	double tokens;
	long long refilled;
	struct conn *next;
};

/**
 * struct qmsg - a message waiting for its peer's connection
 * @next: next in the queue
 * @queued: when it was queued (ms)
 * @len: length
 * @data: the IKE message
 */
struct qmsg {
	struct qmsg *next;
	long long queued;
	size_t len;
	uint8_t data[];
};

/**
 * struct peer_stats - per-peer counters
 * @tcp_out: messages sent over TCP
 * @tcp_in: messages received over TCP
 * @udp_out: messages sent over UDP for the daemon
 * @suppressed: daemon retransmissions not sent again over a live connection
 * @resent: outstanding requests sent again after a reconnect
 * @connects: connections opened by us
 * @accepts: connections opened by the peer
 * @connect_failures: connection attempts that failed
 * @dropped: messages dropped (queue full, held too long, refused)
 */
struct peer_stats {
	uint64_t tcp_out;
	uint64_t tcp_in;
	uint64_t udp_out;
	uint64_t suppressed;
	uint64_t resent;
	uint64_t connects;
	uint64_t accepts;
	uint64_t connect_failures;
	uint64_t dropped;
};

/**
 * struct peer - a pair of gateways: a remote address and our address
 * @remote: its address (port unused)
 * @local: our address used with it (port unused)
 * @tcp_port: its iketcp TCP port
 * @conns: its connections (newest first)
 * @cur: the connection messages are sent on, or NULL
 * @originator: we opened the last connection (only the opener reopens)
 * @ever_up: a connection came up at least once
 * @gen: connection generation, bumped when a connection comes up
 * @fallback_tcp: "fallback" policy moved it to TCP
 * @next_connect: earliest next connection attempt (ms), 0: none planned
 * @backoff_ms: current reconnect back-off
 * @last_activity: last IKE message to or from it (ms)
 * @qhead: messages waiting for a connection
 * @qtail: last of them
 * @qlen: how many
 * @stats: counters
 */
struct peer {
	struct iketcp_ep remote;
	struct iketcp_ep local;
	uint16_t tcp_port;
	struct conn *conns;
	struct conn *cur;
	bool originator;
	bool ever_up;
	unsigned int gen;
	bool fallback_tcp;
	long long next_connect;
	long long backoff_ms;
	long long last_activity;
	struct qmsg *qhead;
	struct qmsg *qtail;
	int qlen;
	struct peer_stats stats;
};

/**
 * struct sa - what iketcpd remembers of one IKE SA
 * @spi_i: initiator SPI (key, with @peer)
 * @peer: the peer's address (port unused)
 * @local: the daemon's address for it (port unused)
 * @major: IKE version
 * @lport: the daemon's own port for this SA (from its last datagram)
 * @rport: the port the daemon sends to
 * @ports_known: @lport and @rport were seen
 * @natt_float: the peer moves to UDP 4500 after the set-up exchanges
 * @v1_seen_start: IKEv1: its first message (SPIr zero) was seen
 * @v1_peer_started_udp: IKEv1 phase 1 started by the peer over UDP
 * @v1_last_msgid: IKEv1: message id of the peer's last message over TCP
 * @v1_last_exch: IKEv1: its exchange type
 * @v1_last_valid: @v1_last_msgid and @v1_last_exch are set
 * @tcp_reqs: IKEv2: message ids of the peer's requests that came over TCP
 * @ntcp_reqs: how many of @tcp_reqs are used (ring of 8)
 * @out: the daemon's last request (IKEv1: last message) over TCP
 * @out_len: its length
 * @out_msgid: its message id
 * @out_gen: connection generation it was last written on (0: not yet)
 * @out_sends: how often the daemon sent it
 * @last_seen: last message of this SA (ms)
 * @fp_conn: connection whose kernel fast path delivers this SA's messages
 *	(fastpath.c), 0: none
 * @fp_refused: connection that refused a fast path entry for it
 * @fp_queued: an entry is waiting to be requested
 * @fp_used: the kernel delivered (some of) its messages: a request
 *	iketcpd did not see came over TCP
 * @fp_spi_r: responder SPI of the entry
 * @fp_lport: the daemon's port of the entry
 * @fp_rport: the peer's port of the entry
 */
struct sa {
	uint64_t spi_i;
	struct iketcp_ep peer;
	struct iketcp_ep local;
	uint8_t major;
	uint16_t lport;
	uint16_t rport;
	bool ports_known;
	bool natt_float;
	bool v1_seen_start;
	bool v1_peer_started_udp;
	uint32_t v1_last_msgid;
	uint8_t v1_last_exch;
	bool v1_last_valid;
	uint32_t tcp_reqs[8];
	int ntcp_reqs;
	uint8_t *out;
	size_t out_len;
	uint32_t out_msgid;
	unsigned int out_gen;
	int out_sends;
	long long last_seen;
	uint32_t fp_conn;
	uint32_t fp_refused;
	bool fp_queued;
	bool fp_used;
	uint64_t fp_spi_r;
	uint16_t fp_lport;
	uint16_t fp_rport;
};

/**
 * struct daemon_stats - global counters
 * @captured: datagrams from the daemon
 * @to_tcp: of them sent over TCP (or queued for it)
 * @to_udp: of them sent over UDP
 * @from_tcp: messages from peers over TCP
 * @injected: of them delivered to the daemon
 * @inject_errors: deliveries that failed
 * @refused: TCP connections refused (no rule allows the peer)
 * @enobufs: notification overruns of the netlink socket
 * @bad_msgs: messages that could not be parsed
 * @limited: connections refused by the connection limits
 * @rate_dropped: messages dropped by the per-connection rate limit
 * @first_refused: connections closed because their first message started
 *	no IKE SA and belonged to none known
 * @fast_added: IKE SAs handed to the kernel's fast path
 * @fast_ended: fast path entries ended (our request, or by the kernel)
 */
struct daemon_stats {
	uint64_t captured;
	uint64_t to_tcp;
	uint64_t to_udp;
	uint64_t from_tcp;
	uint64_t injected;
	uint64_t inject_errors;
	uint64_t refused;
	uint64_t enobufs;
	uint64_t bad_msgs;
	uint64_t limited;
	uint64_t rate_dropped;
	uint64_t first_refused;
	uint64_t fast_added;
	uint64_t fast_ended;
};

/**
 * struct daemon - the whole state
 * @cfg: current configuration
 * @evt: netlink socket registered as the helper (notifications)
 * @cmd: netlink socket for commands
 * @epfd: epoll instance
 * @peers: tsearch tree of struct peer by remote address
 * @npeers: number of peers
 * @conns: tsearch tree of struct conn by kernel id
 * @sas: tsearch tree of struct sa by (spi_i, peer)
 * @nsas: number of SAs
 * @sa_addrs: tsearch tree of struct sa_addr (SAs per peer address)
 * @nout: SAs with a request of ours waiting for its answer
 * @fp_pending: fast path entries to request (fastpath.c)
 * @nfp_pending: how many
 * @fp_pending_cap: room in @fp_pending
 * @listen_fds: TCP listeners
 * @nlisten: how many
 * @naccepted: accepted connections open now
 * @stats: counters
 * @started: start time (ms)
 * @state_path: where the SA and peer state is kept across restarts
 * @module_ok: the module answers; false while it is unloaded
 */
struct daemon {
	struct config cfg;
	struct iketcp_nl evt;
	struct iketcp_nl cmd;
	int epfd;
	void *peers;
	int npeers;
	void *conns;
	void *sas;
	void *sa_addrs;
	int nsas;
	int nout;
	void *fp_pending;
	int nfp_pending;
	int fp_pending_cap;
	int *listen_fds;
	int nlisten;
	int naccepted;
	struct daemon_stats stats;
	long long started;
	const char *state_path;
	bool module_ok;
};

long long now_ms(void);

/* peer.c */
struct peer *peer_get(struct daemon *d, const struct iketcp_ep *remote,
		      const struct iketcp_ep *local);
struct peer *peer_find(struct daemon *d, const struct iketcp_ep *remote,
		       const struct iketcp_ep *local);
void peer_for_each(struct daemon *d, void (*fn)(struct peer *p, void *arg),
		   void *arg);
int peer_listen(struct daemon *d);
void peer_unlisten(struct daemon *d);
void peer_accept(struct daemon *d, int lfd);
void peer_connect(struct daemon *d, struct peer *p);
void peer_connect_done(struct daemon *d, struct conn *c);
void peer_attached(struct daemon *d, const struct iketcp_event *ev);
void peer_ended(struct daemon *d, const struct iketcp_event *ev);
struct conn *peer_conn_by_id(struct daemon *d, uint32_t id);
void peer_tick(struct daemon *d, long long now);
int peer_send(struct daemon *d, struct peer *p, const uint8_t *msg,
	      size_t len);
void peer_close_all(struct daemon *d);

/* bridge.c */
void bridge_captured(struct daemon *d, const struct iketcp_event *ev);
void bridge_from_tcp(struct daemon *d, const struct iketcp_event *ev);
void bridge_peer_up(struct daemon *d, struct peer *p);
bool bridge_peer_known(struct daemon *d, const struct iketcp_ep *remote);
bool bridge_peer_active(struct daemon *d, struct peer *p, long long now);
void bridge_gc(struct daemon *d, long long now);
void bridge_free(struct daemon *d);
struct sa *bridge_sa_find(struct daemon *d, const struct iketcp_ep *peer,
			  uint64_t spi_i);
struct sa *bridge_sa_get(struct daemon *d, const struct iketcp_ep *peer,
			 uint64_t spi_i, uint8_t major);
void bridge_sa_for_each(struct daemon *d, void (*fn)(struct sa *sa, void *arg),
			void *arg);

/* fastpath.c */
void fastpath_consider(struct daemon *d, struct conn *c, struct sa *sa,
		       const struct iketcp_ike_hdr *h, uint16_t lport,
		       uint16_t rport);
void fastpath_flush(struct daemon *d);
void fastpath_before_request(struct daemon *d, struct sa *sa);
bool fastpath_live(struct daemon *d, const struct sa *sa);
void fastpath_free(struct daemon *d);

/* state.c */
int state_save(struct daemon *d);
int state_load(struct daemon *d);

/* ctl.c */
int ctl_open(struct daemon *d, const char *path);
void ctl_serve(struct daemon *d, int fd);
void ctl_close(const char *path);

/* the epoll user data: the kind of file descriptor and its object */
enum ev_kind {
	EV_NL,
	EV_LISTEN,
	EV_CONNECT,
	EV_SIGNAL,
	EV_TIMER,
	EV_CTL,
};

int loop_add(struct daemon *d, int fd, uint32_t events, enum ev_kind kind,
	     void *ptr);
void loop_del(struct daemon *d, int fd);

#endif /* IKETCP_DAEMON_H */
