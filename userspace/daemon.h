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
#include "loop.h"
#include "nl.h"

struct peer;
struct sa;
struct src;

/**
 * struct conn - one TCP connection to a peer
 * @fd: the socket (owned here; the kernel reads and writes it)
 * @id: kernel connection id, 0 until IKETCP_CMD_CONN_ATTACHED arrived
 * @ino: socket inode, to match the attach notification
 * @peer: the peer
 * @originator: we opened it
 * @connecting: connect() in progress, not attached yet
 * @known: it carried a message of an authenticated IKE SA that the local
 *	daemon answered (accepted connections: not a stranger's)
 * @started: when the connect began or the connection was accepted (ms)
 * @last_msg: last IKE message received or sent on it (ms)
 * @up_at: when the module attached it (ms), 0 until then
 * @nmsgs: messages received on it
 * @rx_handled: its IKETCP_CMD_MSG notifications handled (fastpath.c)
 * @tokens: rate limit bucket (messages)
 * @refilled: last refill of @tokens (ms)
 * @next: next connection of the same peer
 * @src: accepted connections: the source they count against
 * @src_next: next accepted connection of the same source
 * @lru_prev: accepted strangers, least recently active first (eviction)
 * @lru_next: see @lru_prev
 * @in_lru: on that list
 * @framing: enum iketcp_framing
 * @prefix_got: RFC 9329, accepted: bytes of the stream prefix read so
 *	far (the ULP is attached once all IKETCP_STREAM_PREFIX_LEN are there)
 * @for_spi: RFC 9329, opened by us: the IKE SA it was opened for (its
 *	initiator SPI), 0 for none
 */
struct conn {
	int fd;
	uint32_t id;
	uint64_t ino;
	struct peer *peer;
	bool originator;
	bool connecting;
	bool known;
	long long started;
	long long last_msg;
	long long up_at;
	uint64_t nmsgs;
	uint64_t rx_handled;
	double tokens;
	long long refilled;
	struct conn *next;
	struct src *src;
	struct conn *src_next;
	struct conn *lru_prev;
	struct conn *lru_next;
	bool in_lru;
	uint8_t framing;
	uint8_t prefix_got;
	uint64_t for_spi;
};

/**
 * struct qmsg - a message waiting for a connection that may carry it
 * @next: next in the queue
 * @queued: when it was queued (ms)
 * @spi_i: initiator SPI of its IKE SA (which connection may carry it)
 * @response: it answers a request of the peer
 * @req_conn: responses: the connection the request came on
 * @phase1_start: it starts a new IKE SA
 * @len: length
 * @data: the IKE message
 */
struct qmsg {
	struct qmsg *next;
	long long queued;
	uint64_t spi_i;
	bool response;
	uint32_t req_conn;
	bool phase1_start;
	size_t len;
	uint8_t data[];
};

/**
 * struct peer_stats - per-peer counters
 * @tcp_out: messages sent over TCP
 * @tcp_in: messages received over TCP
 * @udp_out: messages sent over UDP for the daemon
 * @suppressed: daemon retransmissions not sent again over a live connection
 * @resent: outstanding requests sent again on a new connection
 * @connects: connections opened by us
 * @accepts: connections opened by the peer
 * @connect_failures: connection attempts that failed
 * @dropped: messages dropped (queue full, held too long, refused)
 * @tcp_out_bytes: bytes of the messages of @tcp_out
 * @tcp_in_bytes: bytes of the messages of @tcp_in
 * @conns_ended: its attached connections whose end the module reported
 * @resets: of them, those aborted (a reset either way, a socket error,
 *	iketcpctl close, a framing violation or timeout), not closed with a FIN
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
	uint64_t tcp_out_bytes;
	uint64_t tcp_in_bytes;
	uint64_t conns_ended;
	uint64_t resets;
};

/**
 * struct peer - a pair of gateways: a remote address and our address
 * @remote: its address (port unused)
 * @local: our address used with it (port unused)
 * @tcp_port: its iketcp TCP port
 * @framing: enum iketcp_framing of the connections we open to it
 * @esp_conn: RFC 9329: the connection that carries its ESP (kernel ESP
 *	route), 0 for none
 * @conns: its connections (newest first)
 * @cur: the connection a new IKE SA's first request would take now (a
 *	live one we opened, else an accepted one that earned an
 *	authenticated SA), NULL if none: for status output
 * @originator: we opened the last connection (only the opener reopens)
 * @ever_up: a connection came up at least once
 * @gen: connection generation, bumped when a connection comes up
 * @fallback_tcp: "fallback" policy moved it to TCP
 * @fallback_until: ... until then (ms; renewed while TCP carries traffic)
 * @next_connect: earliest next connection attempt (ms), 0: none planned
 * @connect_spi: RFC 9329: the IKE SA that attempt is for (0: none)
 * @backoff_ms: current reconnect back-off
 * @last_activity: last IKE message to or from it (ms)
 * @first_up: when its first connection came up in this run of iketcpd
 *	(ms), 0: none yet
 * @last_tcp_in: last IKE message from it over TCP that iketcpd handled
 *	(ms), 0: none (the kernel's fast path deliveries are not seen)
 * @last_tcp_out: last IKE message written to it over TCP (ms), 0: none
 * @qhead: messages waiting for a connection
 * @qtail: last of them
 * @qlen: how many
 * @nsas: IKE SAs of this peer that iketcpd tracks
 * @nhalf: of them, started by the peer and not authenticated yet
 * @out_head: SAs with a request of the daemon outstanding over TCP
 * @nout: how many
 * @ports_known: @lport and @rport were seen
 * @lport: the daemon's port in its latest datagram to this peer after an
 *	SA's set-up (for SAs iketcpd never saw set up)
 * @rport: the peer's port in it
 * @natt_obs: xfrm observation for unknown SAs: 1 UDP-encapsulated ESP with
 *	the peer, 0 none, -1 not looked yet
 * @natt_obs_at: when it was looked (ms)
 * @stats: counters
 */
struct peer {
	struct iketcp_ep remote;
	struct iketcp_ep local;
	uint16_t tcp_port;
	uint8_t framing;
	uint32_t esp_conn;
	struct conn *conns;
	struct conn *cur;
	bool originator;
	bool ever_up;
	unsigned int gen;
	bool fallback_tcp;
	long long fallback_until;
	long long next_connect;
	uint64_t connect_spi;
	long long backoff_ms;
	long long last_activity;
	long long first_up;
	long long last_tcp_in;
	long long last_tcp_out;
	struct qmsg *qhead;
	struct qmsg *qtail;
	int qlen;
	int nsas;
	int nhalf;
	struct sa *out_head;
	int nout;
	bool ports_known;
	uint16_t lport;
	uint16_t rport;
	int natt_obs;
	long long natt_obs_at;
	struct peer_stats stats;
};

/* enum sa_state - how far iketcpd trusts an IKE SA it tracks */
enum sa_state {
	SA_HALF_OPEN,	/* started by the peer, not authenticated yet */
	SA_ACTIVE,	/* started by the daemon, or authenticated */
};

/**
 * struct sa_req - a request of the peer that came over TCP
 * @msgid: its message id
 * @conn: the connection it came on
 * @exch: its exchange type
 */
struct sa_req {
	uint32_t msgid;
	uint32_t conn;
	uint8_t exch;
};

/**
 * struct sa - what iketcpd remembers of one IKE SA
 * @spi_i: initiator SPI (key, with @peer)
 * @peer: the peer's address (port unused)
 * @local: the daemon's address for it (port unused)
 * @p: the peer (pair of addresses) it belongs to
 * @major: IKE version
 * @state: enum sa_state
 * @authed: an encrypted exchange of it was answered (its peer is known)
 * @last_seen: last message of this SA (ms)
 * @lru_prev: the SAs of the same state, least recently seen first
 * @lru_next: see @lru_prev
 * @lport: the daemon's port in its last datagram of the SA
 * @rport: the peer's port in it
 * @ports_known: @lport and @rport were seen
 * @post_setup_sent: the daemon sent a datagram after the unencrypted set-up
 * @nat: NAT detection of the SA: 1 NAT, 0 none, -1 not known
 * @v1_seen_start: IKEv1: its first message (SPIr zero) was seen
 * @v1_peer_started_udp: IKEv1 phase 1 started by the peer over UDP
 * @v1_last_msgid: IKEv1: message id of the peer's last message over TCP
 * @v1_last_exch: IKEv1: its exchange type
 * @v1_last_valid: @v1_last_msgid and @v1_last_exch are set
 * @v1_last_conn: IKEv1: the connection it came on
 * @v1_out_msgid: IKEv1: message id of the daemon's last message
 * @v1_out_exch: its exchange type
 * @v1_out_setup: it was part of the unencrypted set-up
 * @v1_out_valid: @v1_out_msgid and @v1_out_exch are set
 * @reqs: IKEv2: the peer's recent requests that came over TCP (ring)
 * @nreqs: how many of @reqs were ever used
 * @bound: the connection that last carried a message of this SA the local
 *	daemon then answered: the daemon's requests of the SA go there
 * @out: the daemon's outstanding request (IKEv1: last message) over TCP
 * @out_len: its length
 * @out_msgid: its message id
 * @out_lport: the daemon's port it was sent from
 * @out_rport: the peer's port it was sent to
 * @out_conn: the connection it was last written on (0: not yet)
 * @out_sends: how often the daemon sent it
 * @out_suppressed: retransmissions in a row not sent again on @out_conn
 * @out_next: next SA of the same peer with an outstanding request
 * @out_prev: previous one
 * @udp_hash: the daemon's last request sent over UDP: a digest, to count
 *	its retransmissions (never the message itself)
 * @udp_len: its length
 * @udp_sends: how often the daemon sent it
 * @own_conn: RFC 9329: our daemon started it, so it has a connection of
 *	its own (peer_conn_for_sa()), which no other IKE SA shares
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
	struct peer *p;
	uint8_t major;
	uint8_t state;
	bool authed;
	long long last_seen;
	struct sa *lru_prev;
	struct sa *lru_next;
	uint16_t lport;
	uint16_t rport;
	bool ports_known;
	bool post_setup_sent;
	int8_t nat;
	bool v1_seen_start;
	bool v1_peer_started_udp;
	uint32_t v1_last_msgid;
	uint8_t v1_last_exch;
	bool v1_last_valid;
	uint32_t v1_last_conn;
	uint32_t v1_out_msgid;
	uint8_t v1_out_exch;
	bool v1_out_setup;
	bool v1_out_valid;
	struct sa_req reqs[8];
	unsigned int nreqs;
	uint32_t bound;
	uint8_t *out;
	size_t out_len;
	uint32_t out_msgid;
	uint16_t out_lport;
	uint16_t out_rport;
	uint32_t out_conn;
	int out_sends;
	int out_suppressed;
	struct sa *out_next;
	struct sa *out_prev;
	uint64_t udp_hash;
	uint32_t udp_len;
	int udp_sends;
	bool own_conn;
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
 * @fast_sas: of them, distinct IKE SAs (each counted once)
 * @fast_ended: fast path entries ended (our request, or by the kernel)
 * @evicted: accepted strangers' connections closed to make room
 * @idle_closed: accepted connections closed for idleness
 * @half_open_refused: peers' first messages of new IKE SAs not delivered
 *	(too many SAs the daemon has not answered yet)
 * @sas_expired: IKE SAs forgotten for age
 * @sas_evicted: IKE SAs forgotten to make room (max-sas)
 * @peers_freed: idle peers forgotten
 * @unrouted: messages of the daemon that no connection may carry yet
 *	(queued until one earns the SA)
 * @bad_prefix: accepted RFC 9329 connections closed for a wrong stream
 *	prefix, or none within first-message-timeout
 * @esp_routed: RFC 9329 connections made the carrier of a peer's ESP
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
	uint64_t fast_sas;
	uint64_t fast_ended;
	uint64_t evicted;
	uint64_t idle_closed;
	uint64_t half_open_refused;
	uint64_t sas_expired;
	uint64_t sas_evicted;
	uint64_t peers_freed;
	uint64_t unrouted;
	uint64_t bad_prefix;
	uint64_t esp_routed;
};

/**
 * struct sa_list - SAs of one state, least recently seen first
 * @head: the oldest
 * @tail: the newest
 * @n: how many
 */
struct sa_list {
	struct sa *head;
	struct sa *tail;
	int n;
};

/**
 * struct daemon - the whole state
 * @cfg: current configuration
 * @evt: netlink socket registered as the helper (notifications)
 * @cmd: netlink socket for commands
 * @peers: tsearch tree of struct peer by remote address
 * @npeers: number of peers
 * @conns: tsearch tree of struct conn by kernel id
 * @sas: tsearch tree of struct sa by (spi_i, peer)
 * @nsas: number of SAs
 * @sa_lru: the SAs by state (enum sa_state), least recently seen first
 * @sa_addrs: tsearch tree of struct sa_addr (SAs per peer address)
 * @nout: SAs with a request of ours waiting for its answer over TCP
 * @fp_pending: fast path entries to request (fastpath.c)
 * @nfp_pending: how many
 * @fp_pending_cap: room in @fp_pending
 * @listen_fds: TCP listeners
 * @listen_framing: their framing (enum iketcp_framing), by index
 * @nlisten: how many
 * @naccepted: accepted connections open now
 * @srcs: tsearch tree of struct src (accepted connections per source)
 * @strangers: accepted connections not known yet, least recently active
 *	first (evicted first when the limits are reached)
 * @strangers_tail: the most recently active of them
 * @state_dirty: the state file is behind (state.c writes it then)
 * @stats: counters
 * @started: start time (ms)
 * @state_path: where the SA and peer state is kept across restarts
 * @module_ok: the module answers; false while it is unloaded
 * @udp_setups: the daemon's latest answers over UDP to peers' set-ups
 *	(bridge.c), a ring of UDP_SETUPS, NULL until the first
 * @udp_setup_next: the ring's next slot
 */
struct daemon {
	struct config cfg;
	struct iketcp_nl evt;
	struct iketcp_nl cmd;
	void *peers;
	int npeers;
	void *conns;
	void *sas;
	int nsas;
	struct sa_list sa_lru[2];
	void *sa_addrs;
	int nout;
	void *fp_pending;
	int nfp_pending;
	int fp_pending_cap;
	int *listen_fds;
	uint8_t *listen_framing;
	int nlisten;
	int naccepted;
	void *srcs;
	struct conn *strangers;
	struct conn *strangers_tail;
	bool state_dirty;
	struct daemon_stats stats;
	long long started;
	const char *state_path;
	bool module_ok;
	struct udp_setup *udp_setups;
	unsigned int udp_setup_next;
};

long long now_ms(void);

/* peer.c */
struct peer *peer_get(struct daemon *d, const struct iketcp_ep *remote,
		      const struct iketcp_ep *local);
struct peer *peer_find(struct daemon *d, const struct iketcp_ep *remote,
		       const struct iketcp_ep *local);
void peer_apply_rule(struct peer *p, const struct config *cfg);
void peer_for_each(struct daemon *d, void (*fn)(struct peer *p, void *arg),
		   void *arg);
int peer_listen(struct daemon *d);
void peer_unlisten(struct daemon *d);
void peer_accept(struct daemon *d, int lfd);
void peer_prefix_read(struct daemon *d, struct conn *c);
void peer_connect(struct daemon *d, struct peer *p, uint64_t for_spi);
void peer_esp_carrier(struct daemon *d, struct conn *c);
struct conn *peer_conn_for_sa(struct daemon *d, struct peer *p,
			      uint64_t spi_i);
void peer_connect_done(struct daemon *d, struct conn *c);
void peer_attached(struct daemon *d, const struct iketcp_event *ev);
void peer_ended(struct daemon *d, const struct iketcp_event *ev);
struct conn *peer_conn_by_id(struct daemon *d, uint32_t id);
struct conn *peer_conn_live(struct daemon *d, struct peer *p, uint32_t id);
struct conn *peer_opened(struct daemon *d, struct peer *p);
void peer_conn_known(struct daemon *d, struct conn *c);
void peer_conn_active(struct daemon *d, struct conn *c, long long now);
void peer_update_cur(struct daemon *d, struct peer *p);
bool peer_wants_conn(struct daemon *d, struct peer *p, long long now);
void peer_tick(struct daemon *d, long long now);
int peer_write(struct daemon *d, struct conn *c, const uint8_t *msg,
	       size_t len);
int peer_queue(struct daemon *d, struct peer *p, const uint8_t *msg,
	       size_t len, uint64_t spi_i, bool response, uint32_t req_conn,
	       bool phase1_start);
void peer_close_all(struct daemon *d);

/* sa.c */
struct sa *sa_find(struct daemon *d, const struct iketcp_ep *peer,
		   uint64_t spi_i);
struct sa *sa_create(struct daemon *d, struct peer *p, uint64_t spi_i,
		     uint8_t major, enum sa_state state, long long now);
void sa_touch(struct daemon *d, struct sa *sa, long long now);
void sa_set_authed(struct daemon *d, struct sa *sa, long long now);
void sa_set_out(struct daemon *d, struct sa *sa, const uint8_t *msg,
		size_t len, uint32_t msgid, uint16_t lport, uint16_t rport);
void sa_out_clear(struct daemon *d, struct sa *sa);
void sa_destroy(struct daemon *d, struct sa *sa);
void sa_gc(struct daemon *d, long long now);
bool sa_addr_known(struct daemon *d, const struct iketcp_ep *remote);
void sa_for_each(struct daemon *d, void (*fn)(struct sa *sa, void *arg),
		 void *arg);
void sa_free_all(struct daemon *d);

/* bridge.c */
void bridge_captured(struct daemon *d, const struct iketcp_event *ev);
void bridge_from_tcp(struct daemon *d, const struct iketcp_event *ev);
void bridge_conn_up(struct daemon *d, struct conn *c);
void bridge_sa_bound(struct daemon *d, struct sa *sa, struct conn *c);
bool bridge_peer_known(struct daemon *d, const struct iketcp_ep *remote);
bool bridge_peer_active(struct daemon *d, struct peer *p, long long now);
void bridge_gc(struct daemon *d, long long now);
void bridge_free(struct daemon *d);

/* xfrm.c */
int xfrm_load_km(void);
int xfrm_natt_with(const struct iketcp_ep *peer);

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
void ctl_client_event(struct daemon *d, void *ptr, uint32_t events);
void ctl_tick(struct daemon *d, long long now);
void ctl_close(struct daemon *d, const char *path);

#endif /* IKETCP_DAEMON_H */
