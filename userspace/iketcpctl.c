// SPDX-License-Identifier: GPL-2.0
/*
 * iketcpctl - show and control iketcp: connections with their counters,
 * netns parameters, in text or JSON; iketcpd's status; both as
 * Prometheus metrics.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "metrics.h"
#include "nl.h"

static bool json;
static int nconns;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: iketcpctl [--json] [--ctl PATH] [--output FILE] COMMAND\n"
		"\n"
		"Commands:\n"
		"  show                  netns parameters, counters and connections (default)\n"
		"  conns                 connections with their counters\n"
		"  netns                 netns parameters and counters\n"
		"  set max-msg-len N     largest IKE message accepted/sent (28..65535)\n"
		"  set first-msg-timeout MS  time a new connection has for its first\n"
		"                        message before it is aborted (0: no limit)\n"
		"  set msg-timeout MS    time a peer has to complete a message it began\n"
		"                        (every message; 0: no limit)\n"
		"  set mem-limit BYTES   send queues and held messages of all connections\n"
		"                        of the netns together (at least 65535)\n"
		"  close ID              abort connection ID with a RST\n"
		"  status                iketcpd's view: policies, peers (state, mode,\n"
		"                        uptime, last message each way), counters\n"
		"  metrics               iketcpd's and the module's counters in the\n"
		"                        Prometheus text format (node_exporter textfile)\n"
		"\n"
		"Options:\n"
		"  -j, --json            JSON output\n"
		"  -s, --ctl PATH        iketcpd's status socket (default /run/iketcpd/iketcpd.sock)\n"
		"  -o, --output FILE     metrics: write FILE atomically (a temporary file\n"
		"                        in its directory, renamed over it)\n"
		"  -V, --version         print the version\n"
		"  -h, --help            this help\n"
		"\n"
		"Needs CAP_NET_ADMIN and the iketcp module loaded (status needs only\n"
		"iketcpd; metrics reports what answers: iketcp_daemon_up, iketcp_module_up).\n");
}

static const char *const stat_names[] = {
	[IKETCP_STAT_RX_MSGS] = "rx_msgs",
	[IKETCP_STAT_RX_BYTES] = "rx_bytes",
	[IKETCP_STAT_TX_MSGS] = "tx_msgs",
	[IKETCP_STAT_TX_BYTES] = "tx_bytes",
	[IKETCP_STAT_FRAMING_ERRORS] = "framing_errors",
	[IKETCP_STAT_BACKPRESSURE] = "backpressure",
	[IKETCP_STAT_TX_QUEUED] = "tx_queued",
	[IKETCP_STAT_FAST_MSGS] = "fast_msgs",
	[IKETCP_STAT_FAST_BYTES] = "fast_bytes",
	[IKETCP_STAT_SKIPPED] = "skipped",
	[IKETCP_STAT_ESP_RX_PKTS] = "esp_rx_pkts",
	[IKETCP_STAT_ESP_RX_BYTES] = "esp_rx_bytes",
	[IKETCP_STAT_ESP_RX_DROPS] = "esp_rx_drops",
	[IKETCP_STAT_ESP_RX_NOSA] = "esp_rx_nosa",
	[IKETCP_STAT_ESP_TX_PKTS] = "esp_tx_pkts",
	[IKETCP_STAT_ESP_TX_BYTES] = "esp_tx_bytes",
	[IKETCP_STAT_ESP_TX_DROPS] = "esp_tx_drops",
};

static const char *const ns_stat_names[] = {
	[IKETCP_NS_STAT_CONNS] = "conns",
	[IKETCP_NS_STAT_CONNS_TOTAL] = "conns_total",
	[IKETCP_NS_STAT_ABORTS] = "aborts",
	[IKETCP_NS_STAT_RX_MSGS] = "rx_msgs",
	[IKETCP_NS_STAT_BACKPRESSURE] = "backpressure",
	[IKETCP_NS_STAT_HELD] = "held",
	[IKETCP_NS_STAT_CAPTURED] = "captured",
	[IKETCP_NS_STAT_CAPTURE_DROPS] = "capture_drops",
	[IKETCP_NS_STAT_INJECTED] = "injected",
	[IKETCP_NS_STAT_UDP_SENT] = "udp_sent",
	[IKETCP_NS_STAT_FAST_MSGS] = "fast_msgs",
	[IKETCP_NS_STAT_FAST_FALLBACKS] = "fast_fallbacks",
	[IKETCP_NS_STAT_FIRST_MSG_TIMEOUTS] = "first_msg_timeouts",
	[IKETCP_NS_STAT_MSG_TIMEOUTS] = "msg_timeouts",
	[IKETCP_NS_STAT_MEM_USED] = "mem_used",
	[IKETCP_NS_STAT_MEM_REFUSALS] = "mem_refusals",
	[IKETCP_NS_STAT_INJECT_DROPS] = "inject_drops",
	[IKETCP_NS_STAT_CAPTURE_DEFERRED] = "capture_deferred",
	[IKETCP_NS_STAT_FAST_ADDED] = "fast_added",
	[IKETCP_NS_STAT_FAST_WAITS] = "fast_waits",
	[IKETCP_NS_STAT_FAST_WAIT_TIMEOUTS] = "fast_wait_timeouts",
};

#define NS_STATS ((int)(sizeof(ns_stat_names) / sizeof(*ns_stat_names)))

static int print_conn(const struct iketcp_event *ev, void *arg)
{
	char l[64], r[64];

	(void)arg;
	iketcp_ep_str(&ev->local, l, sizeof(l));
	iketcp_ep_str(&ev->remote, r, sizeof(r));
	if (json) {
		printf("%s{\"id\":%u,\"local\":\"%s\",\"remote\":\"%s\",\"framing\":\"%s\",\"state\":\"%s\"",
		       nconns ? "," : "", ev->conn_id, l, r,
		       iketcp_framing_str(ev->framing),
		       ev->state == IKETCP_CONN_STATE_ENDED ? "ended" : "active");
		if (ev->state == IKETCP_CONN_STATE_ENDED)
			printf(",\"reason\":\"%s\"", iketcp_reason_str(ev->reason));
		for (int i = 1; i <= IKETCP_STAT_MAX; i++)
			if (i < (int)(sizeof(stat_names) / sizeof(*stat_names)) &&
			    stat_names[i])
				printf(",\"%s\":%llu", stat_names[i],
				       (unsigned long long)ev->stats[i]);
		printf("}");
	} else {
		printf("conn %u %s -> %s %s %s", ev->conn_id, l, r,
		       iketcp_framing_str(ev->framing),
		       ev->state == IKETCP_CONN_STATE_ENDED ? "ended" : "active");
		if (ev->state == IKETCP_CONN_STATE_ENDED)
			printf(" (%s)", iketcp_reason_str(ev->reason));
		printf("\n ");
		for (int i = 1; i <= IKETCP_STAT_MAX; i++)
			if (i < (int)(sizeof(stat_names) / sizeof(*stat_names)) &&
			    stat_names[i])
				printf(" %s %llu", stat_names[i],
				       (unsigned long long)ev->stats[i]);
		printf("\n");
	}
	nconns++;
	return 0;
}

static int show_netns(struct iketcp_nl *nl)
{
	struct iketcp_netns_info info;
	int ret = iketcp_nl_netns_get(nl, &info);

	if (ret)
		return ret;
	if (json) {
		printf("\"netns\":{\"max_msg_len\":%u,\"first_msg_timeout_ms\":%u,\"msg_timeout_ms\":%u,\"mem_limit\":%u,\"helper_portid\":%u",
		       info.max_msg_len, info.first_msg_timeout,
		       info.msg_timeout, info.mem_limit, info.helper_portid);
		for (int i = 1; i < NS_STATS; i++)
			if (ns_stat_names[i])
				printf(",\"%s\":%llu", ns_stat_names[i],
				       (unsigned long long)info.stats[i]);
		printf("}");
	} else {
		printf("netns: max-msg-len %u first-msg-timeout %u ms msg-timeout %u ms mem-limit %u helper %s\n ",
		       info.max_msg_len, info.first_msg_timeout,
		       info.msg_timeout, info.mem_limit,
		       info.helper_portid ? "registered" : "none");
		for (int i = 1; i < NS_STATS; i++)
			if (ns_stat_names[i])
				printf(" %s %llu", ns_stat_names[i],
				       (unsigned long long)info.stats[i]);
		printf("\n");
	}
	return 0;
}

static int show_conns(struct iketcp_nl *nl)
{
	int ret;

	if (json)
		printf("\"conns\":[");
	ret = iketcp_nl_conn_dump(nl, print_conn, NULL);
	if (json)
		printf("]");
	return ret;
}

/* Ask iketcpd over its status socket: its whole answer (malloc'd, NUL
 * terminated) in *ans, or -1 with a message printed.
 */
static int daemon_request(const char *path, const char *req, char **ans,
			  size_t *anslen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[4096];
	FILE *m;
	ssize_t n;
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (void *)&sun, sizeof(sun))) {
		fprintf(stderr, "iketcpctl: cannot reach iketcpd at %s: %s (is it running?)\n",
			path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	m = open_memstream(ans, anslen);
	if (!m || write(fd, req, strlen(req)) < 0) {
		if (m)
			fclose(m);
		close(fd);
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, m);
	close(fd);
	return fclose(m) ? -1 : 0;
}

/* Ask iketcpd over its status socket; print the answer. */
static int daemon_status(const char *path)
{
	char *ans = NULL;
	size_t len = 0;

	if (daemon_request(path, json ? "status-json\n" : "status\n", &ans,
			   &len)) {
		free(ans);
		return 1;
	}
	fwrite(ans, 1, len, stdout);
	free(ans);
	return 0;
}

struct conn_list {
	struct iketcp_event *ev;
	int n;
	int cap;
};

static int collect_conn(const struct iketcp_event *ev, void *arg)
{
	struct conn_list *l = arg;

	if (l->n == l->cap) {
		int cap = l->cap ? 2 * l->cap : 64;
		struct iketcp_event *n = realloc(l->ev, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		l->ev = n;
		l->cap = cap;
	}
	l->ev[l->n] = *ev;
	l->ev[l->n].msg = NULL;		/* (valid during the callback only) */
	l->ev[l->n].msg_len = 0;
	l->n++;
	return 0;
}

/*
 * iketcpctl metrics: iketcpd's status (if it answers) and the module's
 * counters (if it answers) in the Prometheus text format, on stdout or
 * written atomically to @output (a temporary file in its directory,
 * renamed over it: the textfile collector never reads half a file).
 */
static int metrics(const char *ctl, const char *output)
{
	struct metrics_input in = { .now = time(NULL) };
	struct iketcp_netns_info ns;
	struct conn_list conns = {};
	struct iketcp_nl nl;
	char *ans = NULL, *tmp = NULL;
	size_t len = 0;
	FILE *f = stdout;
	int ret = 1, fd;

	if (!daemon_request(ctl, "status-json\n", &ans, &len)) {
		in.status = json_tokener_parse(ans);
		if (!in.status || !json_object_is_type(in.status, json_type_object)) {
			fprintf(stderr, "iketcpctl: iketcpd's answer is not a JSON object\n");
			json_object_put(in.status);
			in.status = NULL;
		}
	}
	free(ans);
	if (iketcp_nl_open(&nl)) {
		fprintf(stderr, "iketcpctl: %s\n", nl.err);
	} else {
		if (iketcp_nl_netns_get(&nl, &ns) == 0) {
			in.ns = &ns;
			if (iketcp_nl_conn_dump(&nl, collect_conn, &conns)) {
				fprintf(stderr, "iketcpctl: connection dump: %s\n",
					nl.err[0] ? nl.err : "failed");
				conns.n = 0;
			}
		} else {
			fprintf(stderr, "iketcpctl: %s\n", nl.err);
		}
		iketcp_nl_close(&nl);
	}
	in.conns = conns.ev;
	in.nconns = conns.n;

	if (output) {
		const char *slash = strrchr(output, '/');

		if (asprintf(&tmp, "%.*s.%s.XXXXXX",
			     slash ? (int)(slash - output + 1) : 0, output,
			     slash ? slash + 1 : output) < 0) {
			tmp = NULL;
			goto out;
		}
		fd = mkstemp(tmp);
		if (fd < 0 || fchmod(fd, 0644) || !(f = fdopen(fd, "w"))) {
			fprintf(stderr, "iketcpctl: %s: %s\n", tmp, strerror(errno));
			if (fd >= 0) {
				close(fd);
				unlink(tmp);
			}
			f = NULL;
			goto out;
		}
	}
	if (metrics_write(f, &in))
		fprintf(stderr, "iketcpctl: some metrics were left out (a bug)\n");
	if (output) {
		if (fflush(f) || fsync(fileno(f)) || fclose(f) ||
		    rename(tmp, output)) {
			fprintf(stderr, "iketcpctl: writing %s: %s\n", output,
				strerror(errno));
			unlink(tmp);
			goto out;
		}
	} else if (fflush(f)) {
		goto out;
	}
	ret = 0;
out:
	free(tmp);
	free(conns.ev);
	json_object_put(in.status);
	return ret;
}

static int parse_u32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(s, &end, 0);
	if (errno || *end || end == s || x > UINT32_MAX)
		return -1;
	*v = x;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "ctl", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	const char *cmd = "show", *ctl = "/run/iketcpd/iketcpd.sock";
	const char *output = NULL;
	struct iketcp_nl nl;
	uint32_t v;
	int c, ret;

	while ((c = getopt_long(argc, argv, "js:o:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 's':
			ctl = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("iketcpctl %s\n", IKETCP_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		cmd = argv[optind++];
	if ((!strcmp(cmd, "status") || !strcmp(cmd, "metrics")) &&
	    optind < argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(cmd, "status"))
		return daemon_status(ctl);
	if (!strcmp(cmd, "metrics"))
		return metrics(ctl, output);
	if (output) {
		usage(stderr);
		return 2;
	}

	ret = iketcp_nl_open(&nl);
	if (ret) {
		fprintf(stderr, "iketcpctl: %s\n", nl.err);
		return 1;
	}
	if (!strcmp(cmd, "show") || !strcmp(cmd, "conns") ||
	    !strcmp(cmd, "netns")) {
		bool all = !strcmp(cmd, "show");

		if (json)
			printf("{");
		if (all || !strcmp(cmd, "netns"))
			ret = show_netns(&nl);
		if (!ret && all && json)
			printf(",");
		if (!ret && (all || !strcmp(cmd, "conns")))
			ret = show_conns(&nl);
		if (json)
			printf("}\n");
	} else if (!strcmp(cmd, "set") && optind + 2 == argc &&
		   (!strcmp(argv[optind], "max-msg-len") ||
		    !strcmp(argv[optind], "first-msg-timeout") ||
		    !strcmp(argv[optind], "msg-timeout") ||
		    !strcmp(argv[optind], "mem-limit"))) {
		if (parse_u32(argv[optind + 1], &v)) {
			fprintf(stderr, "iketcpctl: bad number '%s'\n",
				argv[optind + 1]);
			ret = -EINVAL;
		} else if (!strcmp(argv[optind], "max-msg-len")) {
			ret = iketcp_nl_netns_set(&nl, v);
		} else if (!strcmp(argv[optind], "msg-timeout")) {
			ret = iketcp_nl_netns_set_msg_timeout(&nl, v);
		} else if (!strcmp(argv[optind], "mem-limit")) {
			ret = iketcp_nl_netns_set_mem_limit(&nl, v);
		} else {
			ret = iketcp_nl_netns_set_first_msg_timeout(&nl, v);
		}
	} else if (!strcmp(cmd, "close") && optind + 1 == argc) {
		if (parse_u32(argv[optind], &v)) {
			fprintf(stderr, "iketcpctl: bad connection id '%s'\n",
				argv[optind]);
			ret = -EINVAL;
		} else {
			ret = iketcp_nl_conn_close(&nl, v);
		}
	} else {
		usage(stderr);
		iketcp_nl_close(&nl);
		return 2;
	}
	if (ret && nl.err[0])
		fprintf(stderr, "iketcpctl: %s\n", nl.err);
	iketcp_nl_close(&nl);
	return ret ? 1 : 0;
}
