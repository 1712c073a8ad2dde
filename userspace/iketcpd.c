// SPDX-License-Identifier: GPL-2.0
/*
 * iketcpd - carries an unmodified UDP IKE daemon's traffic to selected
 * peers over TCP (draft-nir-ipsecme-ike-tcp on port 500, or RFC 9329 on
 * 4500 with ESP in the stream), through the iketcp kernel module. This file: options, start-up, the event loop, signals.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "addr.h"
#include "daemon.h"
#include "log.h"

#define DEFAULT_CONFIG "/etc/iketcp/iketcpd.conf"
#define DEFAULT_RUNDIR "/run/iketcpd"
#define DEFAULT_CTL DEFAULT_RUNDIR "/iketcpd.sock"
#define DEFAULT_STATE DEFAULT_RUNDIR "/iketcpd.state"
#define STATE_SAVE_MS 3000
#define TICK_MS 100

/**
 * now_ms() - monotonic time in milliseconds
 *
 * Return: the time.
 */
long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: iketcpd [OPTIONS]\n"
		"\n"
		"Carry the local IKE daemon's traffic to selected peers over TCP through the\n"
		"iketcp kernel module: raw IKE over TCP port 500 (draft-nir-ipsecme-ike-tcp),\n"
		"or RFC 9329 on TCP 4500 with the peer's ESP in the same stream (iketcpd.conf:\n"
		"'framing rfc9329').\n"
		"The IKE daemon (strongSwan, libreswan, ...) is not modified: it keeps\n"
		"talking UDP 500/4500.\n"
		"\n"
		"Options:\n"
		"  -c, --config FILE      configuration (default " DEFAULT_CONFIG ")\n"
		"  -f, --foreground       log to stderr instead of syslog\n"
		"  -l, --log-level LEVEL  error, warning, notice, info, debug (overrides the file)\n"
		"  -s, --ctl PATH         status socket (default " DEFAULT_CTL ")\n"
		"      --state PATH       state kept across restarts (default " DEFAULT_STATE ",\n"
		"                         or CTL.state with a non-default --ctl)\n"
		"      --check            check the configuration and exit\n"
		"  -V, --version          print the version\n"
		"  -h, --help             this help\n"
		"\n"
		"Signals: SIGHUP reloads the configuration (connections stay up; a file\n"
		"with errors is refused and the previous configuration kept), SIGTERM and\n"
		"SIGINT stop. Status: iketcpctl status [--json].\n");
}

static bool rule_same(const struct cfg_rule *a, const struct cfg_rule *b)
{
	return a->plen == b->plen && a->prefix.family == b->prefix.family &&
	       !memcmp(&a->prefix.addr, &b->prefix.addr,
		       a->prefix.family == AF_INET6 ? 16 : 4);
}

/* Make the kernel's capture rules those of @nc (new first, then stale
 * ones removed, so that no captured peer is briefly left out).
 */
static int apply_capture(struct daemon *d, const struct config *oc,
			 const struct config *nc)
{
	int ret = 0;

	for (int i = 0; i < nc->nrules; i++) {
		const struct cfg_rule *r = &nc->rules[i];

		if (iketcp_nl_capture_add(&d->cmd, &r->prefix, r->plen,
					  r->policy != POL_UDP)) {
			log_err("%s:%d: capture rule refused by the kernel: %s",
				nc->path, r->line, d->cmd.err);
			ret = -1;
		}
	}
	for (int i = 0; oc && i < oc->nrules; i++) {
		bool keep = false;

		for (int j = 0; j < nc->nrules && !keep; j++)
			keep = rule_same(&oc->rules[i], &nc->rules[j]);
		if (!keep)
			iketcp_nl_capture_del(&d->cmd, &oc->rules[i].prefix,
					      oc->rules[i].plen);
	}
	return ret;
}

/* The module's per-netns settings that come from the configuration */
static void apply_netns(struct daemon *d)
{
	if (iketcp_nl_netns_set_first_msg_timeout(&d->cmd,
						  d->cfg.first_msg_timeout * 1000))
		log_warn("cannot set the first-message timeout: %s", d->cmd.err);
}

static void report_errors(const char *err)
{
	char *copy = strdup(err), *line, *save = NULL;

	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		log_err("%s", line);
	free(copy);
}

static bool listens_same(const struct config *a, const struct config *b)
{
	if (a->nlistens != b->nlistens)
		return false;
	for (int i = 0; i < a->nlistens; i++)
		if (ep_addr_cmp(&a->listens[i].ep, &b->listens[i].ep) ||
		    a->listens[i].ep.port != b->listens[i].ep.port ||
		    a->listens[i].framing != b->listens[i].framing)
			return false;
	return true;
}

static void update_rule(struct peer *p, void *arg)
{
	peer_apply_rule(p, arg);
}

static void reload(struct daemon *d, const char *path, int log_override)
{
	struct config nc;
	char err[4096];

	sd_notify(0, "RELOADING=1");
	if (config_load(path, &nc, err, sizeof(err))) {
		report_errors(err);
		log_err("configuration not reloaded: keeping the previous one");
		config_free(&nc);
		sd_notify(0, "READY=1");
		return;
	}
	apply_capture(d, &d->cfg, &nc);
	if (!listens_same(&d->cfg, &nc)) {
		peer_unlisten(d);
		config_free(&d->cfg);
		d->cfg = nc;
		peer_listen(d);
	} else {
		config_free(&d->cfg);
		d->cfg = nc;
	}
	log_set_level(log_override >= 0 ? log_override : d->cfg.log_level);
	apply_netns(d);
	peer_for_each(d, update_rule, &d->cfg);
	log_notice("configuration reloaded from %s: %d peer rules", path,
		   d->cfg.nrules);
	sd_notify(0, "READY=1");
}

static int on_event(const struct iketcp_event *ev, void *arg)
{
	struct daemon *d = arg;

	switch (ev->cmd) {
	case IKETCP_CMD_UDP_CAPTURED:
		bridge_captured(d, ev);
		break;
	case IKETCP_CMD_MSG:
		bridge_from_tcp(d, ev);
		break;
	case IKETCP_CMD_CONN_ATTACHED:
		peer_attached(d, ev);
		break;
	case IKETCP_CMD_CONN_ENDED:
		peer_ended(d, ev);
		break;
	}
	return 0;
}

/* Open both netlink sockets, register, install the capture rules. */
static int module_attach(struct daemon *d)
{
	if (iketcp_nl_open(&d->evt) || iketcp_nl_open(&d->cmd)) {
		iketcp_nl_close(&d->evt);
		return -1;
	}
	iketcp_nl_set_rcvbuf(&d->evt, 4 << 20);
	if (iketcp_nl_register(&d->evt)) {
		log_err("cannot register as the helper of this network namespace: %s",
			d->evt.err);
		iketcp_nl_close(&d->evt);
		iketcp_nl_close(&d->cmd);
		return -1;
	}
	if (loop_add(d, iketcp_nl_fd(&d->evt), EPOLLIN, EV_NL, NULL)) {
		iketcp_nl_close(&d->evt);
		iketcp_nl_close(&d->cmd);
		return -1;
	}
	d->module_ok = true;
	return 0;
}

/*
 * Once a second: is the module still there? When it was unloaded (rmmod
 * succeeds only without attached connections), wait for it to come back,
 * then register again and reinstall the capture rules: the service comes
 * back by itself.
 */
static void module_watch(struct daemon *d)
{
	struct iketcp_netns_info info;

	if (d->module_ok) {
		if (!iketcp_nl_netns_get(&d->cmd, &info) &&
		    info.helper_portid == d->evt.portid)
			return;
		log_warn("the iketcp module went away (or dropped our registration): waiting for it");
		loop_del(d, iketcp_nl_fd(&d->evt));
		iketcp_nl_close(&d->evt);
		iketcp_nl_close(&d->cmd);
		d->module_ok = false;
		return;
	}
	if (module_attach(d))
		return;
	apply_capture(d, NULL, &d->cfg);
	apply_netns(d);
	log_notice("the iketcp module is back: registered again, %d capture rules installed",
		   d->cfg.nrules);
}

/* notifications handled per round of the loop, at most (then the other
 * descriptors get their turn; the socket stays readable for the next)
 */
#define NL_DRAIN_MAX 256

static void drain_netlink(struct daemon *d)
{
	static int overruns;
	int ret;

	ret = iketcp_nl_drain(&d->evt, NL_DRAIN_MAX, on_event, d, &overruns);
	if (ret < 0)
		log_err("netlink: %s", strerror(-ret));
	/* everything handed to us is handled: fast path entries may start */
	if (d->nfp_pending)
		fastpath_flush(d);
	/* resume once the backlog is read (the kernel holds back the rest) */
	if (overruns && ret < NL_DRAIN_MAX) {
		d->stats.enobufs += overruns;
		overruns = 0;
		if (iketcp_nl_resume(&d->cmd))
			log_warn("netlink resume: %s", d->cmd.err);
	}
}

struct main_ctx {
	const char *path;
	int log_override;
	bool running;
	long long last_gc;
	long long last_save;
	long long last_watch;
};

static struct main_ctx mc;

static void on_tick(struct daemon *d, int fd)
{
	uint64_t ticks;

	if (read(fd, &ticks, sizeof(ticks)) < 0)
		return;
	log_rl_flush();
	ctl_tick(d, now_ms());
	if (now_ms() - mc.last_watch >= 1000) {
		mc.last_watch = now_ms();
		module_watch(d);
	}
	if (!d->module_ok)
		return;
	peer_tick(d, now_ms());
	if (now_ms() - mc.last_save > STATE_SAVE_MS) {
		mc.last_save = now_ms();
		state_save(d);
	}
	if (now_ms() - mc.last_gc > 60000) {
		mc.last_gc = now_ms();
		bridge_gc(d, mc.last_gc);
	}
}

/* one event of a batch */
static void on_fd(struct daemon *d, enum ev_kind kind, int fd, void *ptr,
		  uint32_t events)
{
	struct signalfd_siginfo si;

	switch (kind) {
	case EV_NL:
		drain_netlink(d);
		break;
	case EV_LISTEN:
		peer_accept(d, fd);
		break;
	case EV_CONNECT:
		peer_connect_done(d, ptr);
		break;
	case EV_PREFIX:
		peer_prefix_read(d, ptr);
		break;
	case EV_CTL:
		ctl_serve(d, fd);
		break;
	case EV_CTL_CLIENT:
		ctl_client_event(d, ptr, events);
		break;
	case EV_TIMER:
		on_tick(d, fd);
		break;
	case EV_SIGNAL:
		while (read(fd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP) {
				reload(d, mc.path, mc.log_override);
			} else {
				log_notice("signal %d: stopping", si.ssi_signo);
				mc.running = false;
			}
		}
		break;
	}
	/* requests may have kept notifications aside */
	if (d->module_ok && iketcp_nl_pending(&d->evt))
		drain_netlink(d);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "ctl", required_argument, NULL, 's' },
		{ "check", no_argument, NULL, 'C' },
		{ "state", required_argument, NULL, 'S' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *path = DEFAULT_CONFIG, *ctl = DEFAULT_CTL;
	int c, log_override = -1, sfd, tfd, ret = 1;
	bool foreground = false, check = false;
	struct itimerspec its = {
		.it_interval = { .tv_nsec = TICK_MS * 1000000 },
		.it_value = { .tv_nsec = TICK_MS * 1000000 },
	};
	struct daemon d = {};
	char err[4096];
	sigset_t mask;

	while ((c = getopt_long(argc, argv, "c:fl:s:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'l':
			log_override = log_level_parse(optarg);
			if (log_override < 0) {
				fprintf(stderr, "iketcpd: unknown log level '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 's':
			ctl = optarg;
			break;
		case 'C':
			check = true;
			break;
		case 'S':
			d.state_path = optarg;
			break;
		case 'V':
			printf("iketcpd %s\n", IKETCP_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}

	if (config_load(path, &d.cfg, err, sizeof(err))) {
		fprintf(stderr, "%s\niketcpd: refusing to start with this configuration\n",
			err);
		config_free(&d.cfg);
		return 1;
	}
	if (check) {
		printf("%s: OK (%d peer rules)\n", path, d.cfg.nrules);
		config_free(&d.cfg);
		return 0;
	}
	log_init(foreground, log_override >= 0 ? log_override : d.cfg.log_level);
	if (!d.state_path) {
		static char sp[PATH_MAX];

		/* next to a non-default status socket: one per instance */
		if (strcmp(ctl, DEFAULT_CTL))
			snprintf(sp, sizeof(sp), "%s.state", ctl);
		else
			snprintf(sp, sizeof(sp), "%s", DEFAULT_STATE);
		d.state_path = sp;
	}
	d.started = now_ms();
	signal(SIGPIPE, SIG_IGN);

	if (loop_init() || module_attach(&d)) {
		if (d.evt.err[0] || d.cmd.err[0])
			log_err("%s", d.evt.err[0] ? d.evt.err : d.cmd.err);
		if (strstr(d.evt.err, "not found") || strstr(d.cmd.err, "not found"))
			log_err("load it first: modprobe iketcp (or insmod iketcp.ko)");
		goto out_nl;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	timerfd_settime(tfd, 0, &its, NULL);
	if (sfd < 0 || tfd < 0 ||
	    loop_add(&d, sfd, EPOLLIN, EV_SIGNAL, NULL) ||
	    loop_add(&d, tfd, EPOLLIN, EV_TIMER, NULL)) {
		log_err("event loop set-up: %s", strerror(errno));
		goto out_nl;
	}
	if (peer_listen(&d))
		goto out_nl;
	if (apply_capture(&d, NULL, &d.cfg))
		goto out_peers;
	apply_netns(&d);
	state_load(&d);
	/* (the default directory: systemd's RuntimeDirectory=, else ours) */
	if (!strcmp(ctl, DEFAULT_CTL) && mkdir(DEFAULT_RUNDIR, 0700) &&
	    errno != EEXIST)
		log_warn("cannot create %s: %s", DEFAULT_RUNDIR, strerror(errno));
	ctl_open(&d, ctl);
	log_notice("iketcpd %s started: %d peer rules from %s", IKETCP_VERSION,
		   d.cfg.nrules, path);
	/* the capture rules are installed: the IKE daemon may start */
	sd_notifyf(0, "READY=1\nSTATUS=%d peer rules from %s", d.cfg.nrules,
		   path);
	drain_netlink(&d);

	mc.path = path;
	mc.log_override = log_override;
	mc.running = true;
	while (mc.running) {
		if (loop_run_once(&d, -1, on_fd) < 0) {
			log_err("epoll: %s", strerror(errno));
			break;
		}
	}
	ret = 0;
	sd_notify(0, "STOPPING=1");
	/* refuse new connections before closing the established ones */
	peer_unlisten(&d);
	state_save(&d);
	if (d.module_ok)
		iketcp_nl_capture_flush(&d.cmd);
	ctl_close(&d, ctl);
out_peers:
	peer_close_all(&d);
	bridge_free(&d);
	fastpath_free(&d);
out_nl:
	iketcp_nl_close(&d.evt);
	iketcp_nl_close(&d.cmd);
	config_free(&d.cfg);
	loop_exit();
	return ret;
}
