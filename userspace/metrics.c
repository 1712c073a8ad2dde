// SPDX-License-Identifier: GPL-2.0
/*
 * metrics.c - iketcpctl metrics: the Prometheus text exposition format
 * (version 0.0.4), for node_exporter's textfile collector.
 *
 * Every family is written once, as "# HELP", "# TYPE", then all of its
 * samples together (metrics_family() refuses a name written before: a
 * duplicate family would make the collector reject the whole file).
 * Names are iketcp_*, counters end in _total. Label values are escaped
 * (backslash, double quote, newline), help texts too (backslash,
 * newline): peer addresses and names come from iketcpd's answer.
 *
 * Sources: iketcpd's "status-json" answer (iketcp_daemon_*, per peer
 * iketcp_peer_*) and the module's netns counters and connections
 * (iketcp_module_*, per connection iketcp_conn_*). iketcp_daemon_up and
 * iketcp_module_up say which of them answered; a source that did not
 * adds nothing else.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "metrics.h"

/**
 * metrics_name_ok() - is this a valid metric name?
 * @name: the name
 *
 * Return: true for [a-zA-Z_:][a-zA-Z0-9_:]*.
 */
bool metrics_name_ok(const char *name)
{
	if (!name || !*name || (*name >= '0' && *name <= '9'))
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == ':'))
			return false;
	return true;
}

/**
 * metrics_put_label_value() - write a label value, escaped
 * @f: where to
 * @v: the value (any bytes up to the NUL)
 */
void metrics_put_label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '"')
			fputs("\\\"", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

/**
 * metrics_put_help() - write a help text, escaped (backslash, newline)
 * @f: where to
 * @v: the text
 */
void metrics_put_help(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

/**
 * metrics_family() - begin a metric family: its HELP and TYPE lines
 * @w: the writer
 * @name: its name
 * @type: "counter" or "gauge"
 * @help: its help text
 *
 * Return: true if its samples may follow; false (nothing written) for an
 * invalid name, or a family written before.
 */
bool metrics_family(struct metrics_writer *w, const char *name,
		    const char *type, const char *help)
{
	char *copy;

	w->family = NULL;
	if (!metrics_name_ok(name)) {
		w->errors++;
		return false;
	}
	for (int i = 0; i < w->nseen; i++)
		if (!strcmp(w->seen[i], name)) {
			w->errors++;
			return false;
		}
	if (w->nseen == w->cap) {
		int cap = w->cap ? 2 * w->cap : 64;
		char **n = realloc(w->seen, cap * sizeof(*n));

		if (!n)
			return false;
		w->seen = n;
		w->cap = cap;
	}
	copy = strdup(name);
	if (!copy)
		return false;
	w->seen[w->nseen++] = copy;
	w->family = copy;
	fprintf(w->f, "# HELP %s ", name);
	metrics_put_help(w->f, help);
	fprintf(w->f, "\n# TYPE %s %s\n", name, type);
	return true;
}

/**
 * metrics_sample() - one sample of the current family
 * @w: the writer
 * @labels: its labels (a NULL value: the label is left out)
 * @nlabels: how many
 * @value: the value
 */
void metrics_sample(struct metrics_writer *w,
		    const struct metrics_label *labels, int nlabels,
		    unsigned long long value)
{
	bool first = true;

	if (!w->family) {
		w->errors++;
		return;
	}
	fputs(w->family, w->f);
	for (int i = 0; i < nlabels; i++) {
		if (!labels[i].value)
			continue;
		fprintf(w->f, "%s%s=\"", first ? "{" : ",", labels[i].name);
		metrics_put_label_value(w->f, labels[i].value);
		fputc('"', w->f);
		first = false;
	}
	fprintf(w->f, "%s %llu\n", first ? "" : "}", value);
}

/**
 * metrics_writer_free() - forget the families written
 * @w: the writer
 */
void metrics_writer_free(struct metrics_writer *w)
{
	for (int i = 0; i < w->nseen; i++)
		free(w->seen[i]);
	free(w->seen);
	w->seen = NULL;
	w->nseen = w->cap = 0;
	w->family = NULL;
}

/* a family of one sample without labels */
static void single(struct metrics_writer *w, const char *name,
		   const char *type, const char *help, unsigned long long v)
{
	if (metrics_family(w, name, type, help))
		metrics_sample(w, NULL, 0, v);
}

/* a non-negative integer member of a JSON object */
static bool jnum(json_object *o, const char *key, unsigned long long *v)
{
	json_object *m;
	int64_t x;

	if (!json_object_object_get_ex(o, key, &m) ||
	    !json_object_is_type(m, json_type_int))
		return false;
	x = json_object_get_int64(m);
	if (x < 0)
		return false;
	*v = x;
	return true;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *m;

	if (!json_object_object_get_ex(o, key, &m) ||
	    !json_object_is_type(m, json_type_string))
		return NULL;
	return json_object_get_string(m);
}

/* ---------------------------------------------------------------- iketcpd */

/* iketcpd's global counters ("counters" of its status): help texts */
static const struct {
	const char *key;
	const char *help;
} daemon_counters[] = {
	{ "captured", "IKE datagrams of the local IKE daemon captured" },
	{ "to_tcp", "captured datagrams sent over TCP (or queued for it)" },
	{ "to_udp", "captured datagrams sent over UDP" },
	{ "from_tcp", "IKE messages from peers over TCP handed to iketcpd" },
	{ "injected", "messages from TCP delivered to the local IKE daemon" },
	{ "inject_errors", "deliveries to the local IKE daemon that failed" },
	{ "refused", "TCP connections refused: no rule sends the peer over TCP" },
	{ "enobufs", "notification overruns of iketcpd's netlink socket" },
	{ "bad_msgs", "messages that could not be parsed" },
	{ "limited", "TCP connections refused by the connection limits" },
	{ "rate_dropped", "messages dropped by the per-connection rate limit" },
	{ "first_refused", "connections closed: their first message started no IKE SA and belonged to none known" },
	{ "fast_added", "IKE SAs handed to the kernel's fast path" },
	{ "fast_sas", "distinct IKE SAs handed to the kernel's fast path" },
	{ "fast_ended", "fast path entries ended" },
	{ "evicted", "accepted strangers' connections closed to make room" },
	{ "idle_closed", "accepted connections closed for idleness" },
	{ "half_open_refused", "first messages of new IKE SAs not delivered (too many half-open SAs)" },
	{ "sas_expired", "IKE SAs forgotten for age" },
	{ "sas_evicted", "IKE SAs forgotten to make room (max-sas)" },
	{ "peers_freed", "idle peers forgotten" },
	{ "unrouted", "daemon messages no connection could carry yet (queued)" },
	{ "bad_prefix", "accepted RFC 9329 connections closed for a wrong or missing stream prefix" },
	{ "esp_routed", "RFC 9329 connections made the carrier of a peer's ESP" },
};

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void daemon_global(struct metrics_writer *w, json_object *st,
			  long long now)
{
	static const struct {
		const char *key, *name, *help;
	} gauges[] = {
		{ "sas", "iketcp_daemon_ike_sas", "IKE SAs iketcpd tracks" },
		{ "half_open", "iketcp_daemon_half_open_ike_sas",
		  "tracked IKE SAs started by a peer and not authenticated yet" },
		{ "outstanding", "iketcp_daemon_outstanding_requests",
		  "IKE SAs with a request of the local daemon waiting for its answer over TCP" },
		{ "npeers", "iketcp_daemon_peers", "peers (pairs of gateway addresses) iketcpd knows" },
		{ "accepted", "iketcp_daemon_accepted_connections",
		  "connections accepted from peers open now" },
	};
	json_object *counters;
	unsigned long long v;
	char name[128];

	if (jnum(st, "uptime_s", &v) && now >= (long long)v)
		single(w, "iketcp_daemon_start_time_seconds", "gauge",
		       "when iketcpd started (Unix time, to the second)",
		       now - v);
	if (json_object_object_get_ex(st, "counters", &counters) &&
	    json_object_is_type(counters, json_type_object)) {
		json_object_object_foreach(counters, key, val) {
			const char *help = NULL;
			char generic[160];

			if (!json_object_is_type(val, json_type_int) ||
			    json_object_get_int64(val) < 0)
				continue;
			for (int i = 0; i < N(daemon_counters); i++)
				if (!strcmp(daemon_counters[i].key, key))
					help = daemon_counters[i].help;
			if (!help) {
				snprintf(generic, sizeof(generic),
					 "iketcpd counter %s", key);
				help = generic;
			}
			/* (a key that makes no valid name is left out) */
			if (snprintf(name, sizeof(name), "iketcp_daemon_%s_total",
				     key) >= (int)sizeof(name) ||
			    !metrics_name_ok(name))
				continue;
			if (metrics_family(w, name, "counter", help))
				metrics_sample(w, NULL, 0,
					       json_object_get_int64(val));
		}
	}
	for (int i = 0; i < N(gauges); i++)
		if (jnum(st, gauges[i].key, &v))
			single(w, gauges[i].name, "gauge", gauges[i].help, v);
}

/* per peer: the key of its JSON object, the family */
static const struct {
	const char *key, *name, *type, *help;
} peer_fams[] = {
	{ "tcp_out", "iketcp_peer_tcp_out_messages_total", "counter",
	  "IKE messages sent to the peer over TCP" },
	{ "tcp_in", "iketcp_peer_tcp_in_messages_total", "counter",
	  "IKE messages from the peer over TCP that iketcpd handled (not those the kernel's fast path delivered)" },
	{ "tcp_out_bytes", "iketcp_peer_tcp_out_bytes_total", "counter",
	  "bytes of the IKE messages sent to the peer over TCP" },
	{ "tcp_in_bytes", "iketcp_peer_tcp_in_bytes_total", "counter",
	  "bytes of the IKE messages from the peer over TCP that iketcpd handled" },
	{ "udp_out", "iketcp_peer_udp_out_messages_total", "counter",
	  "IKE messages of the local daemon sent to the peer over UDP" },
	{ "suppressed", "iketcp_peer_suppressed_retransmissions_total", "counter",
	  "retransmissions of the local daemon not sent again over a live connection" },
	{ "resent", "iketcp_peer_resent_requests_total", "counter",
	  "outstanding requests sent again on a new connection" },
	{ "dropped", "iketcp_peer_dropped_messages_total", "counter",
	  "messages to the peer dropped (queue full, held too long, refused)" },
	{ "connects", "iketcp_peer_connects_total", "counter",
	  "TCP connections iketcpd opened to the peer" },
	{ "accepts", "iketcp_peer_accepts_total", "counter",
	  "TCP connections accepted from the peer" },
	{ "connect_failures", "iketcp_peer_connect_failures_total", "counter",
	  "connection attempts to the peer that failed" },
	{ "conns_ended", "iketcp_peer_connections_ended_total", "counter",
	  "attached connections with the peer that ended" },
	{ "resets", "iketcp_peer_connection_resets_total", "counter",
	  "of them, those aborted (reset either way, socket error, iketcpctl close, framing violation or timeout)" },
	{ "conns_open", "iketcp_peer_connections", "gauge",
	  "connections with the peer attached now" },
	{ "sas", "iketcp_peer_ike_sas", "gauge", "IKE SAs with the peer iketcpd tracks" },
	{ "half_open", "iketcp_peer_half_open_ike_sas", "gauge",
	  "of them, started by the peer and not authenticated yet" },
	{ "outstanding", "iketcp_peer_outstanding_requests", "gauge",
	  "requests of the local daemon to the peer waiting for their answer over TCP" },
	{ "queued", "iketcp_peer_queued_messages", "gauge",
	  "messages waiting for a connection that may carry them" },
};

/* per peer: an age in its JSON object, exposed as a timestamp */
static const struct {
	const char *key, *name, *help;
} peer_times[] = {
	{ "conn_up_s", "iketcp_peer_connection_up_timestamp_seconds",
	  "when the peer's current connection came up (Unix time, to the second; absent while none is up)" },
	{ "first_up_s", "iketcp_peer_first_up_timestamp_seconds",
	  "when the peer's first connection in this run of iketcpd came up" },
	{ "last_in_s", "iketcp_peer_last_received_timestamp_seconds",
	  "when iketcpd last handled an IKE message from the peer over TCP" },
	{ "last_out_s", "iketcp_peer_last_sent_timestamp_seconds",
	  "when iketcpd last sent an IKE message to the peer over TCP" },
};

static const char *const link_states[] = {
	"up", "connecting", "accepted", "backing-off", "reconnecting", "idle",
};

#define PEER_LABELS 3

static void peer_labels(json_object *p, struct metrics_label *l)
{
	l[0] = (struct metrics_label){ "peer", jstr(p, "remote") ?: "" };
	l[1] = (struct metrics_label){ "local", jstr(p, "local") ?: "" };
	l[2] = (struct metrics_label){ "framing", jstr(p, "framing") ?: "" };
}

static void daemon_peers(struct metrics_writer *w, json_object *st,
			 long long now)
{
	struct metrics_label l[PEER_LABELS + 2];
	json_object *peers;
	unsigned long long v;
	size_t n;

	if (!json_object_object_get_ex(st, "peers", &peers) ||
	    !json_object_is_type(peers, json_type_array))
		return;
	n = json_object_array_length(peers);
	if (!n)
		return;
	if (metrics_family(w, "iketcp_peer_info", "gauge",
			   "a peer of iketcpd: its policy and TCP port (always 1)"))
		for (size_t i = 0; i < n; i++) {
			json_object *p = json_object_array_get_idx(peers, i);
			char port[16] = "";

			peer_labels(p, l);
			if (jnum(p, "tcp_port", &v))
				snprintf(port, sizeof(port), "%llu", v);
			l[PEER_LABELS] = (struct metrics_label){
				"policy", jstr(p, "policy") };
			l[PEER_LABELS + 1] = (struct metrics_label){
				"tcp_port", port[0] ? port : NULL };
			metrics_sample(w, l, PEER_LABELS + 2, 1);
		}
	if (metrics_family(w, "iketcp_peer_state", "gauge",
			   "the peer's TCP transport: 1 for the state it is in, 0 for the others"))
		for (size_t i = 0; i < n; i++) {
			json_object *p = json_object_array_get_idx(peers, i);
			const char *link = jstr(p, "link");

			peer_labels(p, l);
			for (int s = 0; s < N(link_states); s++) {
				l[PEER_LABELS] = (struct metrics_label){
					"state", link_states[s] };
				metrics_sample(w, l, PEER_LABELS + 1,
					       link && !strcmp(link, link_states[s]));
			}
		}
	for (int f = 0; f < N(peer_fams); f++) {
		bool begun = false;

		for (size_t i = 0; i < n; i++) {
			json_object *p = json_object_array_get_idx(peers, i);

			if (!jnum(p, peer_fams[f].key, &v))
				continue;
			if (!begun &&
			    !metrics_family(w, peer_fams[f].name,
					    peer_fams[f].type, peer_fams[f].help))
				break;
			begun = true;
			peer_labels(p, l);
			metrics_sample(w, l, PEER_LABELS, v);
		}
	}
	for (int f = 0; f < N(peer_times); f++) {
		bool begun = false;

		for (size_t i = 0; i < n; i++) {
			json_object *p = json_object_array_get_idx(peers, i);

			if (!jnum(p, peer_times[f].key, &v) ||
			    (long long)v > now)
				continue;
			if (!begun &&
			    !metrics_family(w, peer_times[f].name, "gauge",
					    peer_times[f].help))
				break;
			begun = true;
			peer_labels(p, l);
			metrics_sample(w, l, PEER_LABELS, now - v);
		}
	}
}

/* ---------------------------------------------------------------- module */

static const struct {
	int stat;
	const char *name, *type, *help;
} ns_fams[] = {
	{ IKETCP_NS_STAT_CONNS, "iketcp_module_connections", "gauge",
	  "connections with the iketcp ULP attached now" },
	{ IKETCP_NS_STAT_CONNS_TOTAL, "iketcp_module_connections_attached_total",
	  "counter", "connections attached since the netns began" },
	{ IKETCP_NS_STAT_ABORTS, "iketcp_module_framing_aborts_total", "counter",
	  "connections aborted for a framing violation" },
	{ IKETCP_NS_STAT_RX_MSGS, "iketcp_module_rx_messages_total", "counter",
	  "IKE messages delivered to the helper" },
	{ IKETCP_NS_STAT_BACKPRESSURE, "iketcp_module_backpressure_total",
	  "counter", "times a connection stopped being read: the helper could not take more" },
	{ IKETCP_NS_STAT_HELD, "iketcp_module_held_notifications", "gauge",
	  "notifications held back now" },
	{ IKETCP_NS_STAT_CAPTURED, "iketcp_module_captured_total", "counter",
	  "datagrams of the local IKE daemon captured for the helper" },
	{ IKETCP_NS_STAT_CAPTURE_DROPS, "iketcp_module_capture_drops_total",
	  "counter", "captured datagrams the helper could not take" },
	{ IKETCP_NS_STAT_CAPTURE_DEFERRED, "iketcp_module_capture_deferred_total",
	  "counter", "captured datagrams handed to the helper later, from process context" },
	{ IKETCP_NS_STAT_INJECTED, "iketcp_module_injected_total", "counter",
	  "datagrams delivered to the local IKE daemon" },
	{ IKETCP_NS_STAT_INJECT_DROPS, "iketcp_module_inject_drops_total",
	  "counter", "datagrams for the local IKE daemon that could not be delivered" },
	{ IKETCP_NS_STAT_UDP_SENT, "iketcp_module_udp_sent_total", "counter",
	  "datagrams sent to peers over UDP for the helper" },
	{ IKETCP_NS_STAT_FAST_MSGS, "iketcp_module_fast_path_messages_total",
	  "counter", "messages the fast path delivered to the local IKE daemon" },
	{ IKETCP_NS_STAT_FAST_FALLBACKS, "iketcp_module_fast_path_fallbacks_total",
	  "counter", "fast path messages handed to the helper instead" },
	{ IKETCP_NS_STAT_FAST_ADDED, "iketcp_module_fast_path_added_total",
	  "counter", "fast path entries started" },
	{ IKETCP_NS_STAT_FAST_WAITS, "iketcp_module_fast_path_waits_total",
	  "counter", "connections paused for a fast path hand-over until the helper caught up" },
	{ IKETCP_NS_STAT_FAST_WAIT_TIMEOUTS,
	  "iketcp_module_fast_path_wait_timeouts_total", "counter",
	  "such pauses ended because the helper did not ask again in time" },
	{ IKETCP_NS_STAT_FIRST_MSG_TIMEOUTS,
	  "iketcp_module_first_message_timeouts_total", "counter",
	  "connections aborted: no first message in time" },
	{ IKETCP_NS_STAT_MSG_TIMEOUTS, "iketcp_module_message_timeouts_total",
	  "counter", "connections aborted: a message begun was not completed in time" },
	{ IKETCP_NS_STAT_MEM_USED, "iketcp_module_memory_used_bytes", "gauge",
	  "bytes in send queues and held messages now" },
	{ IKETCP_NS_STAT_MEM_REFUSALS, "iketcp_module_memory_refusals_total",
	  "counter", "sends refused for the memory limits" },
};

static const struct {
	int stat;
	const char *name, *type, *help;
} conn_fams[] = {
	{ IKETCP_STAT_RX_MSGS, "iketcp_conn_rx_messages_total", "counter",
	  "IKE messages received and delivered to the helper" },
	{ IKETCP_STAT_RX_BYTES, "iketcp_conn_rx_bytes_total", "counter",
	  "bytes of those messages" },
	{ IKETCP_STAT_TX_MSGS, "iketcp_conn_tx_messages_total", "counter",
	  "IKE messages written to the connection" },
	{ IKETCP_STAT_TX_BYTES, "iketcp_conn_tx_bytes_total", "counter",
	  "bytes of those messages" },
	{ IKETCP_STAT_FAST_MSGS, "iketcp_conn_fast_path_messages_total",
	  "counter", "IKE messages the fast path delivered to the local IKE daemon" },
	{ IKETCP_STAT_FAST_BYTES, "iketcp_conn_fast_path_bytes_total", "counter",
	  "bytes of those messages" },
	{ IKETCP_STAT_FRAMING_ERRORS, "iketcp_conn_framing_errors_total",
	  "counter", "framing violations" },
	{ IKETCP_STAT_BACKPRESSURE, "iketcp_conn_backpressure_total", "counter",
	  "times reading stopped: the helper could not take more" },
	{ IKETCP_STAT_TX_QUEUED, "iketcp_conn_tx_queued_bytes", "gauge",
	  "bytes queued for sending, not yet written" },
	{ IKETCP_STAT_SKIPPED, "iketcp_conn_skipped_records_total", "counter",
	  "RFC 9329 records dropped silently (keepalives)" },
	{ IKETCP_STAT_ESP_RX_PKTS, "iketcp_conn_esp_rx_packets_total", "counter",
	  "RFC 9329 ESP packets received and delivered to xfrm" },
	{ IKETCP_STAT_ESP_RX_BYTES, "iketcp_conn_esp_rx_bytes_total", "counter",
	  "bytes of those packets" },
	{ IKETCP_STAT_ESP_RX_DROPS, "iketcp_conn_esp_rx_drops_total", "counter",
	  "ESP packets received and not delivered" },
	{ IKETCP_STAT_ESP_RX_NOSA, "iketcp_conn_esp_rx_no_sa_total", "counter",
	  "of them, those of an unknown SPI" },
	{ IKETCP_STAT_ESP_TX_PKTS, "iketcp_conn_esp_tx_packets_total", "counter",
	  "ESP packets of the local xfrm output written to the connection" },
	{ IKETCP_STAT_ESP_TX_BYTES, "iketcp_conn_esp_tx_bytes_total", "counter",
	  "bytes of those packets" },
	{ IKETCP_STAT_ESP_TX_DROPS, "iketcp_conn_esp_tx_drops_total", "counter",
	  "outbound ESP packets dropped" },
};

static void module_metrics(struct metrics_writer *w,
			   const struct metrics_input *in)
{
	const struct iketcp_netns_info *ns = in->ns;

	for (int i = 0; i < N(ns_fams); i++)
		single(w, ns_fams[i].name, ns_fams[i].type, ns_fams[i].help,
		       ns->stats[ns_fams[i].stat]);
	single(w, "iketcp_module_helper_registered", "gauge",
	       "1 while a helper (iketcpd) is registered with the module",
	       ns->helper_portid != 0);
	single(w, "iketcp_module_max_message_bytes", "gauge",
	       "largest IKE message accepted and sent (max-msg-len)",
	       ns->max_msg_len);
	single(w, "iketcp_module_memory_limit_bytes", "gauge",
	       "bytes send queues and held messages may take (mem-limit)",
	       ns->mem_limit);
	if (!in->nconns)
		return;
	for (int f = 0; f < N(conn_fams); f++) {
		if (!metrics_family(w, conn_fams[f].name, conn_fams[f].type,
				    conn_fams[f].help))
			continue;
		for (int i = 0; i < in->nconns; i++) {
			const struct iketcp_event *ev = &in->conns[i];
			char id[16], r[INET6_ADDRSTRLEN], l[INET6_ADDRSTRLEN];
			struct metrics_label lb[] = {
				{ "conn", id }, { "peer", r }, { "local", l },
				{ "framing", iketcp_framing_str(ev->framing) },
			};

			snprintf(id, sizeof(id), "%u", ev->conn_id);
			if (!inet_ntop(ev->remote.family, &ev->remote.addr, r,
				       sizeof(r)))
				r[0] = 0;
			if (!inet_ntop(ev->local.family, &ev->local.addr, l,
				       sizeof(l)))
				l[0] = 0;
			metrics_sample(w, lb, N(lb), ev->stats[conn_fams[f].stat]);
		}
	}
}

/**
 * metrics_write() - write every metric
 * @f: where to
 * @in: the sources (either may be missing)
 *
 * Return: 0, or the number of families or samples refused (a bug).
 */
int metrics_write(FILE *f, const struct metrics_input *in)
{
	struct metrics_writer w = { .f = f };
	int errors;

	single(&w, "iketcp_daemon_up", "gauge",
	       "1 if iketcpd answered on its status socket", in->status != NULL);
	single(&w, "iketcp_module_up", "gauge",
	       "1 if the iketcp module answered over generic netlink",
	       in->ns != NULL);
	if (in->status) {
		daemon_global(&w, in->status, in->now);
		daemon_peers(&w, in->status, in->now);
	}
	if (in->ns)
		module_metrics(&w, in);
	errors = w.errors;
	metrics_writer_free(&w);
	return errors;
}
