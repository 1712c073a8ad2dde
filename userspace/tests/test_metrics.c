// SPDX-License-Identifier: GPL-2.0
/*
 * test_metrics.c - iketcpctl metrics (metrics.c): the Prometheus text
 * format. Label values and help texts are escaped (a peer name with a
 * backslash, a double quote and a newline comes back intact), every
 * family has one HELP and one TYPE before its samples and its samples
 * together, names are iketcp_* and counters end in _total, the values are
 * those of iketcpd's status and the module's counters; a missing iketcpd
 * or module leaves only the up gauges. The whole output is also checked
 * with tests/prom-check.awk (the VM suites' checker).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "kselftest_harness.h"
#include "metrics.h"

#define NOW 1700000000LL

/* what iketcpd answers, trimmed; the first peer's names are hostile */
static const char status_json[] =
	"{\"pid\":42,\"uptime_s\":100,\"config\":\"/etc/iketcp/iketcpd.conf\","
	"\"policies\":[],"
	"\"counters\":{\"captured\":11,\"to_tcp\":9,\"bad-key\":3,\"refused\":2},"
	"\"sas\":3,\"half_open\":1,\"outstanding\":0,\"npeers\":2,\"accepted\":1,"
	"\"peers\":["
	"{\"remote\":\"10.77.2.1\\\\ \\\"x\\\"\\nnext\",\"local\":\"10.77.1.1\","
	"\"state\":\"up\",\"conn\":7,\"opened_by\":\"us\",\"queued\":0,"
	"\"tcp_out\":5,\"tcp_in\":4,\"udp_out\":0,\"suppressed\":1,\"resent\":1,"
	"\"connects\":2,\"accepts\":0,\"connect_failures\":0,\"dropped\":0,"
	"\"sas\":2,\"half_open\":0,\"outstanding\":0,\"framing\":\"raw\","
	"\"esp_conn\":0,\"link\":\"up\",\"policy\":\"tcp\",\"tcp_port\":500,"
	"\"conns_open\":1,\"tcp_out_bytes\":12000,\"tcp_in_bytes\":8000,"
	"\"conns_ended\":1,\"resets\":1,\"conn_up_s\":30,\"first_up_s\":90,"
	"\"last_in_s\":3,\"last_out_s\":2,\"retry_in_ms\":null,\"conns\":["
	"{\"id\":7,\"framing\":\"raw\",\"opened_by_us\":true,"
	"\"for_sa\":\"0000000000000000\",\"known\":false,\"up_s\":30}]},"
	"{\"remote\":\"fd77:2::1\",\"local\":\"fd77:1::1\",\"state\":\"reconnecting\","
	"\"tcp_out\":0,\"tcp_in\":0,\"udp_out\":6,\"framing\":\"rfc9329\","
	"\"link\":\"backing-off\",\"policy\":\"fallback\",\"tcp_port\":4500,"
	"\"conns_open\":0,\"conn_up_s\":null,\"first_up_s\":null,"
	"\"last_in_s\":null,\"last_out_s\":null,\"conns\":[]}"
	"]}";

static char *out;
static size_t outlen;

static int run(const struct metrics_input *in)
{
	FILE *f;
	int ret;

	free(out);
	out = NULL;
	f = open_memstream(&out, &outlen);
	if (!f)
		return -1;
	ret = metrics_write(f, in);
	fclose(f);
	return ret;
}

static void fill_kernel(struct iketcp_netns_info *ns, struct iketcp_event *c)
{
	memset(ns, 0, sizeof(*ns));
	ns->max_msg_len = 65507;
	ns->mem_limit = 134217728;
	ns->helper_portid = 1234;
	ns->stats[IKETCP_NS_STAT_CONNS] = 2;
	ns->stats[IKETCP_NS_STAT_CONNS_TOTAL] = 9;
	ns->stats[IKETCP_NS_STAT_MEM_USED] = 4096;
	memset(c, 0, 2 * sizeof(*c));
	for (int i = 0; i < 2; i++) {
		c[i].conn_id = 7 + i;
		c[i].framing = i ? IKETCP_FRAMING_RFC9329 : IKETCP_FRAMING_RAW;
		c[i].local.family = c[i].remote.family = AF_INET;
		inet_pton(AF_INET, "10.77.1.1", &c[i].local.addr.v4);
		inet_pton(AF_INET, "10.77.2.1", &c[i].remote.addr.v4);
		c[i].stats[IKETCP_STAT_RX_MSGS] = 100 + i;
		c[i].stats[IKETCP_STAT_TX_BYTES] = 5000 + i;
	}
}

/* the line that begins with @prefix, or NULL */
static const char *line_of(const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (!strncmp(p, prefix, n))
			return p;
	return NULL;
}

/* the value of the sample whose name and labels are @series, or -1 */
static long long value_of(const char *series)
{
	char key[512];
	const char *l;

	snprintf(key, sizeof(key), "%s ", series);
	l = line_of(key);
	return l ? strtoll(l + strlen(key), NULL, 10) : -1;
}

/* lines that begin with @prefix and end with @suffix */
static int lines_with(const char *prefix, const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);
	int n = 0;

	for (const char *p = out; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len >= pl + sl && !strncmp(p, prefix, pl) &&
		    !strncmp(p + len - sl, suffix, sl))
			n++;
		p = e ? e + 1 : NULL;
	}
	return n;
}

static int count(const char *needle)
{
	int n = 0;

	for (const char *p = out; p && (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/*
 * The structure, line by line: HELP, then TYPE, then samples of the same
 * family; no family twice; names and label syntax; counters _total.
 * Return: the number of problems (each printed).
 */
static int check_structure(void)
{
	char fams[256][128];
	int nfams = 0, problems = 0, state = 0;	/* 0 none, 1 HELP, 2 TYPE */
	char cur[128] = "", type[16] = "";
	char *copy = strdup(out), *save, *l;

	for (l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char name[128], rest[64];

		if (sscanf(l, "# HELP %127s", name) == 1) {
			for (int i = 0; i < nfams; i++)
				if (!strcmp(fams[i], name)) {
					printf("# family %s twice\n", name);
					problems++;
				}
			if (nfams < 256)
				strcpy(fams[nfams++], name);
			if (!metrics_name_ok(name) || strncmp(name, "iketcp_", 7)) {
				printf("# bad family name %s\n", name);
				problems++;
			}
			strcpy(cur, name);
			state = 1;
		} else if (sscanf(l, "# TYPE %127s %15s", name, type) == 2) {
			if (state != 1 || strcmp(name, cur)) {
				printf("# TYPE of %s not right after its HELP\n", name);
				problems++;
			}
			if (!strcmp(type, "counter") !=
			    (strlen(name) > 6 && !strcmp(name + strlen(name) - 6, "_total"))) {
				printf("# %s: a %s\n", name, type);
				problems++;
			}
			if (strcmp(type, "counter") && strcmp(type, "gauge")) {
				printf("# %s: type %s\n", name, type);
				problems++;
			}
			state = 2;
		} else {
			size_t n = strcspn(l, "{ ");

			if (state != 2 || n != strlen(cur) || strncmp(l, cur, n)) {
				printf("# sample outside its family: %s\n", l);
				problems++;
			}
			/* the value: digits to the end */
			if (sscanf(strrchr(l, ' '), " %63[0-9]", rest) != 1 ||
			    strlen(rest) != strlen(strrchr(l, ' ') + 1)) {
				printf("# bad value: %s\n", l);
				problems++;
			}
		}
	}
	free(copy);
	return problems;
}

TEST(label_escaping)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	metrics_put_label_value(f, "a\\b\"c\nd");
	fputc('|', f);
	metrics_put_help(f, "h\\e\"l\np");
	fclose(f);
	EXPECT_STREQ("a\\\\b\\\"c\\nd|h\\\\e\"l\\np", buf);
	free(buf);
}

TEST(names)
{
	EXPECT_TRUE(metrics_name_ok("iketcp_peer_tcp_out_messages_total"));
	EXPECT_TRUE(metrics_name_ok("a:b_C9"));
	EXPECT_FALSE(metrics_name_ok(""));
	EXPECT_FALSE(metrics_name_ok("9abc"));
	EXPECT_FALSE(metrics_name_ok("iketcp_daemon_bad-key_total"));
	EXPECT_FALSE(metrics_name_ok("a b"));
	EXPECT_FALSE(metrics_name_ok("a\"b"));
}

TEST(family_once)
{
	struct metrics_writer w = {};
	char *buf = NULL;
	size_t len = 0;

	w.f = open_memstream(&buf, &len);
	EXPECT_TRUE(metrics_family(&w, "iketcp_x_total", "counter", "x"));
	metrics_sample(&w, NULL, 0, 1);
	EXPECT_FALSE(metrics_family(&w, "iketcp_x_total", "counter", "x"));
	/* (refused: its samples are refused too) */
	metrics_sample(&w, NULL, 0, 2);
	EXPECT_FALSE(metrics_family(&w, "bad name", "gauge", "x"));
	fclose(w.f);
	EXPECT_EQ(3, w.errors);
	EXPECT_STREQ("# HELP iketcp_x_total x\n# TYPE iketcp_x_total counter\n"
		     "iketcp_x_total 1\n", buf);
	metrics_writer_free(&w);
	free(buf);
}

TEST(nothing_answers)
{
	struct metrics_input in = { .now = NOW };

	ASSERT_EQ(0, run(&in));
	EXPECT_STREQ("# HELP iketcp_daemon_up 1 if iketcpd answered on its status socket\n"
		     "# TYPE iketcp_daemon_up gauge\n"
		     "iketcp_daemon_up 0\n"
		     "# HELP iketcp_module_up 1 if the iketcp module answered over generic netlink\n"
		     "# TYPE iketcp_module_up gauge\n"
		     "iketcp_module_up 0\n", out);
}

TEST(module_only)
{
	struct iketcp_netns_info ns;
	struct iketcp_event c[2];
	struct metrics_input in = { .now = NOW, .ns = &ns, .conns = c,
				    .nconns = 2 };

	fill_kernel(&ns, c);
	ASSERT_EQ(0, run(&in));
	EXPECT_EQ(0, check_structure());
	EXPECT_EQ(0, value_of("iketcp_daemon_up"));
	EXPECT_EQ(1, value_of("iketcp_module_up"));
	EXPECT_EQ(2, value_of("iketcp_module_connections"));
	EXPECT_EQ(9, value_of("iketcp_module_connections_attached_total"));
	EXPECT_EQ(4096, value_of("iketcp_module_memory_used_bytes"));
	EXPECT_EQ(1, value_of("iketcp_module_helper_registered"));
	EXPECT_EQ(101, value_of("iketcp_conn_rx_messages_total{conn=\"8\",peer=\"10.77.2.1\",local=\"10.77.1.1\",framing=\"rfc9329\"}"));
	EXPECT_EQ(5000, value_of("iketcp_conn_tx_bytes_total{conn=\"7\",peer=\"10.77.2.1\",local=\"10.77.1.1\",framing=\"raw\"}"));
	EXPECT_EQ(0, count("iketcp_peer_"));
}

TEST(daemon_and_module)
{
	struct iketcp_netns_info ns;
	struct iketcp_event c[2];
	struct metrics_input in = { .now = NOW, .ns = &ns, .conns = c,
				    .nconns = 2 };
	const char *p1 = "peer=\"10.77.2.1\\\\ \\\"x\\\"\\nnext\",local=\"10.77.1.1\",framing=\"raw\"";
	const char *p2 = "peer=\"fd77:2::1\",local=\"fd77:1::1\",framing=\"rfc9329\"";
	char s[512];

	fill_kernel(&ns, c);
	in.status = json_tokener_parse(status_json);
	ASSERT_NE(NULL, in.status);
	ASSERT_EQ(0, run(&in));
	EXPECT_EQ(0, check_structure());
	EXPECT_EQ(1, value_of("iketcp_daemon_up"));
	EXPECT_EQ(NOW - 100, value_of("iketcp_daemon_start_time_seconds"));
	EXPECT_EQ(11, value_of("iketcp_daemon_captured_total"));
	EXPECT_EQ(2, value_of("iketcp_daemon_refused_total"));
	/* a key that makes no metric name is left out */
	EXPECT_EQ(0, count("bad"));
	EXPECT_EQ(3, value_of("iketcp_daemon_ike_sas"));
	EXPECT_EQ(2, value_of("iketcp_daemon_peers"));

#define PEER(fam, labels) (snprintf(s, sizeof(s), "%s{%s}", fam, labels), s)
	EXPECT_EQ(5, value_of(PEER("iketcp_peer_tcp_out_messages_total", p1)));
	EXPECT_EQ(4, value_of(PEER("iketcp_peer_tcp_in_messages_total", p1)));
	EXPECT_EQ(12000, value_of(PEER("iketcp_peer_tcp_out_bytes_total", p1)));
	EXPECT_EQ(8000, value_of(PEER("iketcp_peer_tcp_in_bytes_total", p1)));
	EXPECT_EQ(1, value_of(PEER("iketcp_peer_connection_resets_total", p1)));
	EXPECT_EQ(1, value_of(PEER("iketcp_peer_connections", p1)));
	EXPECT_EQ(6, value_of(PEER("iketcp_peer_udp_out_messages_total", p2)));
	EXPECT_EQ(NOW - 30, value_of(PEER("iketcp_peer_connection_up_timestamp_seconds", p1)));
	EXPECT_EQ(NOW - 3, value_of(PEER("iketcp_peer_last_received_timestamp_seconds", p1)));
	EXPECT_EQ(NOW - 2, value_of(PEER("iketcp_peer_last_sent_timestamp_seconds", p1)));
	/* never up: no timestamp */
	EXPECT_EQ(-1, value_of(PEER("iketcp_peer_connection_up_timestamp_seconds", p2)));
	/* a peer without the key: no sample (none is made up) */
	EXPECT_EQ(-1, value_of(PEER("iketcp_peer_connects_total", p2)));
	snprintf(s, sizeof(s), "iketcp_peer_state{%s,state=\"up\"}", p1);
	EXPECT_EQ(1, value_of(s));
	snprintf(s, sizeof(s), "iketcp_peer_state{%s,state=\"idle\"}", p1);
	EXPECT_EQ(0, value_of(s));
	snprintf(s, sizeof(s), "iketcp_peer_state{%s,state=\"backing-off\"}", p2);
	EXPECT_EQ(1, value_of(s));
	/* one state per peer */
	EXPECT_EQ(2, lines_with("iketcp_peer_state{", " 1"));
	EXPECT_EQ(10, lines_with("iketcp_peer_state{", " 0"));
	snprintf(s, sizeof(s), "iketcp_peer_info{%s,policy=\"tcp\",tcp_port=\"500\"}", p1);
	EXPECT_EQ(1, value_of(s));
	/* the hostile name: escaped, never a raw newline or quote */
	EXPECT_EQ(NULL, line_of("next"));
	EXPECT_EQ(101, value_of("iketcp_conn_rx_messages_total{conn=\"8\",peer=\"10.77.2.1\",local=\"10.77.1.1\",framing=\"rfc9329\"}"));
	json_object_put(in.status);
}

/* every counter of the module is exposed (a new one needs its family) */
TEST(every_module_counter)
{
	struct iketcp_netns_info ns;
	struct iketcp_event c[2];
	struct metrics_input in = { .now = NOW, .ns = &ns, .conns = c,
				    .nconns = 1 };
	char v[32];

	fill_kernel(&ns, c);
	for (int i = 1; i <= IKETCP_NS_STAT_MAX; i++)
		ns.stats[i] = 7000000 + i;
	for (int i = 1; i <= IKETCP_STAT_MAX; i++)
		c[0].stats[i] = 8000000 + i;
	ASSERT_EQ(0, run(&in));
	for (int i = 1; i <= IKETCP_NS_STAT_MAX; i++) {
		if (i == IKETCP_NS_STAT_PAD)
			continue;
		snprintf(v, sizeof(v), " %d\n", 7000000 + i);
		EXPECT_EQ(1, count(v)) TH_LOG("netns stat %d not exposed once", i);
	}
	for (int i = 1; i <= IKETCP_STAT_MAX; i++) {
		if (i == IKETCP_STAT_PAD)
			continue;
		snprintf(v, sizeof(v), " %d\n", 8000000 + i);
		EXPECT_EQ(1, count(v)) TH_LOG("connection stat %d not exposed once", i);
	}
}

/* the same output through the VM suites' checker */
TEST(prom_check_awk)
{
	struct iketcp_netns_info ns;
	struct iketcp_event c[2];
	struct metrics_input in = { .now = NOW, .ns = &ns, .conns = c,
				    .nconns = 2 };
	char path[] = "/tmp/test_metrics.XXXXXX", cmd[256], res[256] = "";
	FILE *f, *p;
	int fd, rc;

	if (access("tests/prom-check.awk", R_OK) || system("command -v awk >/dev/null"))
		SKIP(return, "no awk or tests/prom-check.awk (run from userspace/)");
	fill_kernel(&ns, c);
	in.status = json_tokener_parse(status_json);
	ASSERT_EQ(0, run(&in));
	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	f = fdopen(fd, "w");
	fputs(out, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "awk -v strict=1 -f tests/prom-check.awk %s", path);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	if (!fgets(res, sizeof(res), p))
		res[0] = 0;
	rc = pclose(p);
	printf("# %s", res);
	EXPECT_EQ(0, rc);
	EXPECT_EQ(0, strncmp(res, "prom-check: ok", 14));
	/* and the checker finds a broken file */
	f = fopen(path, "a");
	fputs("iketcp_daemon_up 1\niketcp_x{a=\"\\t\"} 1\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "awk -v strict=1 -f tests/prom-check.awk %s >/dev/null", path);
	EXPECT_NE(0, system(cmd));
	unlink(path);
	json_object_put(in.status);
}

TEST_HARNESS_MAIN
