/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iketcp.h - private structures and the functions each file offers the
 * others. No logic here.
 */
#ifndef IKETCP_H
#define IKETCP_H

#include <linux/delay.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netfilter.h>
#include <linux/refcount.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <net/inet_connection_sock.h>
#include <net/net_namespace.h>
#include <net/strparser.h>
#include <net/sock.h>

#include "frame.h"

/* Bits of iketcp_conn::flags */
enum {
	IKETCP_CONN_DETACHED,	/* the ULP let go of the socket (closing) */
	IKETCP_CONN_ENDED,	/* the stream ended: no more messages */
	IKETCP_CONN_ABORTING,	/* framing violation, a RST is on its way */
	IKETCP_CONN_BLOCKED,	/* on iketcp_net::blocked, notifications held */
	IKETCP_CONN_ATTACH_HELD, /* CONN_ATTACHED not yet delivered */
	IKETCP_CONN_END_SENT,	/* CONN_ENDED delivered (or given up) */
};

/**
 * struct iketcp_conn_stats - per-connection counters
 * @rx_msgs: messages delivered to the helper
 * @rx_bytes: their bytes
 * @tx_msgs: messages written whole to the socket
 * @tx_bytes: their bytes
 * @framing_errors: framing violations
 * @backpressure: times reading stopped for the helper
 * @fast_msgs: messages delivered to the daemon by the fast path
 * @fast_bytes: their bytes
 * @skipped: RFC 9329 records dropped silently (empty, NAT keepalive)
 * @esp_rx_pkts: ESP packets received and delivered to the xfrm input
 * @esp_rx_bytes: their bytes
 * @esp_rx_drops: ESP packets received and dropped (those of @esp_rx_nosa
 *	included)
 * @esp_rx_nosa: ... because no SA (UDP-encapsulated or plain) has the SPI
 * @esp_tx_pkts: ESP packets queued as records
 * @esp_tx_bytes: their bytes
 */
struct iketcp_conn_stats {
	u64 rx_msgs;
	u64 rx_bytes;
	u64 tx_msgs;
	u64 tx_bytes;
	u64 framing_errors;
	u64 backpressure;
	u64 fast_msgs;
	u64 fast_bytes;
	u64 skipped;
	u64 esp_rx_pkts;
	u64 esp_rx_bytes;
	u64 esp_rx_drops;
	u64 esp_rx_nosa;
	u64 esp_tx_pkts;
	u64 esp_tx_bytes;
};

struct iketcp_fastpath;

/**
 * struct iketcp_addr - one end of a connection
 * @family: AF_INET or AF_INET6
 * @port: port, host order
 * @v4: IPv4 address
 * @v6: IPv6 address
 */
struct iketcp_addr {
	u16 family;
	u16 port;
	union {
		__be32 v4;
		struct in6_addr v6;
	};
};

/**
 * struct iketcp_capture_rule - which peers' IKE datagrams are captured
 * @node: entry in iketcp_net::capture_rules (RCU)
 * @rcu: frees the rule after the hooks stopped looking at it
 * @prefix: address prefix (port unused)
 * @plen: prefix length
 * @capture: capture (true) or leave alone (an exception)
 */
struct iketcp_capture_rule {
	struct list_head node;
	struct rcu_head rcu;
	struct iketcp_addr prefix;
	u8 plen;
	bool capture;
};

/* Buckets of iketcp_net::esp_routes */
#define IKETCP_ESP_HASH_BITS	6

struct iketcp_conn;

/**
 * struct iketcp_esp_route - the connection that carries a peer's ESP
 * @node: entry in iketcp_net::esp_routes (RCU)
 * @rcu: frees the entry after the hooks stopped looking at it
 * @peer: the peer's address (port unused)
 * @conn: the connection (no reference: it removes the entry when it
 *	closes, before it can be freed)
 */
struct iketcp_esp_route {
	struct hlist_node node;
	struct rcu_head rcu;
	struct iketcp_addr peer;
	struct iketcp_conn *conn;
};

/**
 * struct iketcp_conn - one TCP connection with the ULP attached
 * @refcnt: references; the attachment holds one, lookups take more
 * @rcu: frees the structure after lookups under RCU are done
 * @id: connection id, unique in the netns
 * @sk: the TCP socket (a reference is held)
 * @inet: the per-netns state
 * @flags: IKETCP_CONN_* bits
 * @framer: framing state of the received stream
 * @rx_frame: the frame the stream parser cut last (the one it hands to
 *	iketcp_rx_rcv() next): its kind and where its message is
 * @strp: stream parser cutting the received stream into messages
 * @local: local address and port
 * @remote: remote address and port
 * @ino: inode number of the socket
 * @reason: enum iketcp_reason once the stream ended
 * @sk_errno: socket error when the stream ended
 * @truncated: the stream ended inside a message
 * @rx_held: a received message the helper could not take yet
 * @rx_held_mem: its bytes counted in iketcp_net::mem_used
 * @blocked_node: entry in iketcp_net::blocked
 * @tx_queue: messages waiting to be written (struct iketcp_txmsg)
 * @tx_queued: bytes in @tx_queue not yet written
 * @tx_work: resumes writing when the socket has room again
 * @abort_work: aborts the connection (RST) after a framing violation
 * @first_msg_work: aborts it when no first message came in time
 * @got_first: a complete message arrived
 * @first_msg_ms: the first-message period of this connection, 0: none
 * @saved_prot: the socket's proto before attaching
 * @saved_data_ready: saved socket callback, restored on detach
 * @saved_write_space: saved socket callback, restored on detach
 * @saved_state_change: saved socket callback, restored on detach
 * @stats: counters
 * @fastpath: IKE SAs whose messages go straight to the daemon (fastpath.c),
 *	NULL until the first; under the socket lock
 * @fp_wait: reading paused until the helper has caught up and can hand an
 *	SA over (fastpath.c); under the socket lock
 * @fp_wait_work: ends a @fp_wait the helper did not resolve in time
 * @esp_q: ESP packets taken from the xfrm output, waiting for @tx_work
 * @esp_queued: their truesize (under @esp_q's lock)
 * @esp_tx_drops: outbound ESP packets dropped (queue full, closing)
 * @esp_route: this connection's entry in iketcp_net::esp_routes, or NULL
 *	(under iketcp_net::esp_lock)
 */
struct iketcp_conn {
	refcount_t refcnt;
	struct rcu_head rcu;
	u32 id;
	struct sock *sk;
	struct iketcp_net *inet;
	unsigned long flags;
	struct iketcp_framer framer;
	struct iketcp_frame rx_frame;
	struct strparser strp;
	struct iketcp_addr local;
	struct iketcp_addr remote;
	u64 ino;
	u8 reason;
	int sk_errno;
	bool truncated;
	struct sk_buff *rx_held;
	u32 rx_held_mem;
	struct list_head blocked_node;
	struct list_head tx_queue;
	u32 tx_queued;
	struct work_struct tx_work;
	struct delayed_work abort_work;
	struct delayed_work first_msg_work;
	bool got_first;
	u32 first_msg_ms;
	struct proto *saved_prot;
	void (*saved_data_ready)(struct sock *sk);
	void (*saved_write_space)(struct sock *sk);
	void (*saved_state_change)(struct sock *sk);
	struct iketcp_conn_stats stats;
	struct iketcp_fastpath *fastpath;
	bool fp_wait;
	struct delayed_work fp_wait_work;
	struct sk_buff_head esp_q;
	u32 esp_queued;
	atomic64_t esp_tx_drops;
	struct iketcp_esp_route *esp_route;
};

/**
 * struct iketcp_net - per network namespace state
 * @net: the namespace
 * @lock: protects @helper_portid, @helper_sk (changes) and @blocked
 * @helper_portid: netlink port of the registered helper, 0 if none
 * @helper_sk: the helper's netlink socket (a reference is held), RCU
 * @conns: connections by id (RCU lookups, xa_lock for changes)
 * @next_id: cyclic id allocation hint
 * @blocked: connections with held-back notifications, oldest first
 * @deliver_work: delivers held-back notifications
 * @max_msg_len: largest IKE message accepted and sent
 * @first_msg_timeout: ms a connection has for its first message, 0: none
 * @msg_timeout: ms a peer has to complete a message it began, 0: none
 * @mem_limit: bytes all send queues and held messages may take together
 * @mem_used: bytes they take now
 * @mem_refusals: sends refused for @mem_limit or the socket's limits
 * @conns_total: connections attached since the netns began
 * @aborts: connections aborted for framing violations
 * @rx_msgs: messages delivered
 * @backpressure: backpressure events
 * @exiting: the namespace is going away
 * @capture_lock: serialises changes of @capture_rules and the hooks
 * @capture_rules: struct iketcp_capture_rule, RCU
 * @hooks: netfilter hooks (IPv4, IPv6 LOCAL_OUT) capturing datagrams
 * @hooks_on: @hooks are registered
 * @captured: datagrams captured and handed to the helper
 * @capture_drops: captured datagrams the helper could not take
 * @capture_q: captured datagrams waiting for @capture_work (no memory
 *	for their notification in the hook's atomic context)
 * @capture_pending: datagrams in @capture_q or being handed over by
 *	@capture_work (later ones queue up behind them: order is kept)
 * @capture_work: hands @capture_q to the helper (GFP_KERNEL)
 * @capture_deferred: datagrams handed over by @capture_work
 * @injected: datagrams delivered to the daemon
 * @udp_sent: datagrams sent to peers
 * @fast_msgs: messages delivered by the fast path
 * @fast_fallbacks: fast path messages handed to the helper instead
 * @fast_added: fast path entries started
 * @fast_waits: connections paused so that the helper could catch up
 * @fast_wait_timeouts: such pauses the helper did not end in time
 * @first_msg_timeouts: connections aborted for a late first message
 * @msg_timeouts: connections aborted for a message not completed in time
 * @inject_drops: datagrams for the daemon that could not be delivered
 * @esp_lock: serialises changes of @esp_routes and the ESP hooks
 * @esp_routes: struct iketcp_esp_route by peer address (RCU)
 * @esp_hooks: netfilter hooks (IPv4, IPv6 LOCAL_OUT) taking ESP
 * @esp_hooks_on: @esp_hooks are registered
 */
struct iketcp_net {
	struct net *net;
	spinlock_t lock; /* see the kernel-doc above */
	u32 helper_portid;
	struct sock __rcu *helper_sk;
	struct xarray conns;
	u32 next_id;
	struct list_head blocked;
	struct delayed_work deliver_work;
	u32 max_msg_len;
	u32 first_msg_timeout;
	u32 msg_timeout;
	u32 mem_limit;
	atomic64_t mem_used;
	atomic64_t mem_refusals;
	atomic64_t conns_total;
	atomic64_t aborts;
	atomic64_t rx_msgs;
	atomic64_t backpressure;
	bool exiting;
	struct mutex capture_lock; /* see the kernel-doc above */
	struct list_head capture_rules;
	struct nf_hook_ops hooks[2];
	bool hooks_on;
	atomic64_t captured;
	atomic64_t capture_drops;
	struct sk_buff_head capture_q;
	atomic_t capture_pending;
	struct work_struct capture_work;
	atomic64_t capture_deferred;
	atomic64_t injected;
	atomic64_t udp_sent;
	atomic64_t fast_msgs;
	atomic64_t fast_fallbacks;
	atomic64_t fast_added;
	atomic64_t fast_waits;
	atomic64_t fast_wait_timeouts;
	atomic64_t first_msg_timeouts;
	atomic64_t msg_timeouts;
	atomic64_t inject_drops;
	struct mutex esp_lock; /* see the kernel-doc above */
	struct hlist_head esp_routes[1 << IKETCP_ESP_HASH_BITS];
	struct nf_hook_ops esp_hooks[2];
	bool esp_hooks_on;
};

/* Allocations in atomic context whose failure a process-context retry
 * (GFP_KERNEL) recovers: no emergency reserves, no warning.
 */
#define IKETCP_GFP_ATOMIC	(GFP_NOWAIT | __GFP_NOWARN)

/* Receive buffer an attached socket gets at least: the strparser refuses
 * messages larger than sk_rcvbuf (and needs them whole in the socket).
 */
#define IKETCP_MIN_RCVBUF	(2 * (IKETCP_MAX_MSG_LEN_CEILING + 1))

/**
 * struct iketcp_txmsg - a message queued for sending
 * @node: entry in iketcp_conn::tx_queue
 * @len: bytes to write (prefix and message)
 * @off: bytes already written
 * @data: the bytes
 */
struct iketcp_txmsg {
	struct list_head node;
	u32 len;
	u32 off;
	u8 data[];
};

/* netns.c */
int iketcp_netns_init(void);
void iketcp_netns_exit(void);
struct iketcp_net *iketcp_net(const struct net *net);
int iketcp_helper_register(struct iketcp_net *in, u32 portid, struct sock *sk);
void iketcp_helper_resume(struct iketcp_net *in);
u32 iketcp_helper_portid(struct iketcp_net *in);
void iketcp_block(struct iketcp_net *in, struct iketcp_conn *conn);
void iketcp_unblock(struct iketcp_net *in, struct iketcp_conn *conn);
bool iketcp_any_blocked(struct iketcp_net *in);

/* ulp.c */
int iketcp_ulp_init(void);
void iketcp_ulp_exit(void);
struct iketcp_conn *iketcp_conn_get(struct iketcp_net *in, u32 id);
void iketcp_conn_put(struct iketcp_conn *conn);

/* rx.c */
int iketcp_rx_attach(struct iketcp_conn *conn);
void iketcp_rx_data_ready(struct sock *sk);
void iketcp_rx_state_change(struct sock *sk);
void iketcp_rx_flush(struct iketcp_conn *conn, gfp_t gfp);
int iketcp_rx_abort(struct iketcp_conn *conn, u8 reason);
void iketcp_rx_abort_work(struct work_struct *work);
void iketcp_rx_first_msg_work(struct work_struct *work);
int iketcp_rx_set_first_msg_timeout(struct iketcp_conn *conn, u32 ms);
void iketcp_rx_arm_first_msg(struct iketcp_conn *conn, u32 ms);
void iketcp_rx_detach(struct iketcp_conn *conn);
void iketcp_rx_resume(struct iketcp_conn *conn);

/* netns.c: the netns memory cap (iketcp_net::mem_limit) */
bool iketcp_mem_charge(struct iketcp_conn *conn, u32 size);
void iketcp_mem_uncharge(struct iketcp_conn *conn, u32 size);

/* tx.c */
int iketcp_tx_send(struct iketcp_conn *conn, const u8 *msg, u32 len,
		   struct netlink_ext_ack *extack);
void iketcp_tx_write_space(struct sock *sk);
void iketcp_tx_work(struct work_struct *work);
void iketcp_tx_purge(struct iketcp_conn *conn);
int iketcp_tx_queue_record(struct iketcp_conn *conn, const u8 *hdr, u32 hlen,
			   const struct sk_buff *skb);

/* fastpath.c */
int iketcp_fastpath_add(struct iketcp_conn *conn, u64 spi_i, u64 spi_r,
			u16 lport, u16 rport, bool nonesp, u32 rate, u64 rx_seq,
			struct netlink_ext_ack *extack);
int iketcp_fastpath_del(struct iketcp_conn *conn, u64 spi_i, u64 spi_r,
			bool all, struct netlink_ext_ack *extack);
bool iketcp_fastpath_rcv(struct iketcp_conn *conn, struct sk_buff *skb);
void iketcp_fastpath_wait_work(struct work_struct *work);
void iketcp_fastpath_free(struct iketcp_conn *conn);

/* esp.c */
void iketcp_esp_rcv(struct iketcp_conn *conn, struct sk_buff *skb, u32 off,
		    u32 len);
void iketcp_esp_flush_queue(struct iketcp_conn *conn);
int iketcp_esp_route_set(struct iketcp_conn *conn, bool on,
			 struct netlink_ext_ack *extack);
void iketcp_esp_detach(struct iketcp_conn *conn);
void iketcp_esp_net_init(struct iketcp_net *in);
void iketcp_esp_net_exit(struct iketcp_net *in);

/* capture.c */
void iketcp_capture_net_init(struct iketcp_net *in);
int iketcp_capture_add(struct iketcp_net *in, const struct iketcp_addr *prefix,
		       u8 plen, bool capture, struct netlink_ext_ack *extack);
int iketcp_capture_del(struct iketcp_net *in, const struct iketcp_addr *prefix,
		       u8 plen);
void iketcp_capture_flush(struct iketcp_net *in);
void iketcp_capture_net_exit(struct iketcp_net *in);

/* udp.c */
int iketcp_udp_inject(struct net *net, const struct iketcp_addr *peer,
		      const struct iketcp_addr *local, bool nonesp,
		      const u8 *msg, u32 len, int ifindex,
		      struct netlink_ext_ack *extack);
int iketcp_udp_inject_skb(struct net *net, const struct iketcp_addr *peer,
			  const struct iketcp_addr *local, bool nonesp,
			  const struct sk_buff *skb, u32 off, u32 len);
int iketcp_udp_inject_esp_skb(struct net *net, const struct iketcp_addr *peer,
			      const struct iketcp_addr *local,
			      const struct sk_buff *skb, u32 off, u32 len);
int iketcp_udp_send(struct net *net, const struct iketcp_addr *local,
		    const struct iketcp_addr *peer, bool nonesp,
		    const u8 *msg, u32 len, struct netlink_ext_ack *extack);

/* netlink.c */
int iketcp_nl_init(void);
void iketcp_nl_exit(void);
int iketcp_nl_notify_attached(struct iketcp_conn *conn, gfp_t gfp);
int iketcp_nl_notify_msg(struct iketcp_conn *conn, struct sk_buff *skb,
			 gfp_t gfp);
int iketcp_nl_notify_ended(struct iketcp_conn *conn, gfp_t gfp);
int iketcp_nl_notify_captured(struct iketcp_net *in, struct sk_buff *skb,
			      const struct iketcp_addr *local,
			      const struct iketcp_addr *remote, bool nonesp,
			      u32 off, u32 len, u32 pmtu, gfp_t gfp);

/* debug.c (IKETCP_DEBUG builds only) */
#ifdef IKETCP_DEBUG
extern atomic_t iketcp_debug_conns_alive;
extern atomic_t iketcp_debug_nets_alive;
extern u32 iketcp_debug_abort_delay_ms;
extern bool iketcp_debug_fail_conn_id_once;
extern u32 iketcp_debug_urelease_delay_ms;
int iketcp_debug_init(void);
void iketcp_debug_exit(void);
static inline void iketcp_debug_conns(int d)
{
	atomic_add(d, &iketcp_debug_conns_alive);
}

static inline void iketcp_debug_nets(int d)
{
	atomic_add(d, &iketcp_debug_nets_alive);
}

static inline unsigned long iketcp_debug_abort_delay(void)
{
	return msecs_to_jiffies(READ_ONCE(iketcp_debug_abort_delay_ms));
}
/* fail_conn_id: the next attach fails to get an id (error path test) */
static inline bool iketcp_debug_fail_conn_id(void)
{
	return xchg(&iketcp_debug_fail_conn_id_once, false);
}

/* urelease_delay_ms: the helper's release waits before it is forgotten */
static inline void iketcp_debug_urelease_delay(void)
{
	u32 ms = READ_ONCE(iketcp_debug_urelease_delay_ms);

	if (ms)
		msleep(ms);
}
#else
static inline bool iketcp_debug_fail_conn_id(void) { return false; }
static inline void iketcp_debug_urelease_delay(void) { }
static inline int iketcp_debug_init(void) { return 0; }
static inline void iketcp_debug_exit(void) { }
static inline unsigned long iketcp_debug_abort_delay(void) { return 0; }
static inline void iketcp_debug_conns(int d) { }
static inline void iketcp_debug_nets(int d) { }
#endif

/* The connection of a socket, from its callbacks (under the socket lock) */
static inline struct iketcp_conn *iketcp_conn_of(struct sock *sk)
{
	return rcu_dereference_check(inet_csk(sk)->icsk_ulp_data,
				     lockdep_sock_is_held(sk));
}

#endif /* IKETCP_H */
