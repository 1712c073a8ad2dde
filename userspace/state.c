// SPDX-License-Identifier: GPL-2.0
/*
 * state.c - what iketcpd keeps across a restart (a text file, written
 * atomically every few seconds and at exit): the IKE SAs it saw, with the
 * ports the daemon uses for each, and the peers whose connection it had
 * opened, so that a restarted iketcpd reconnects them at once and keeps
 * delivering messages on the right ports: IKE SAs outlive iketcpd.
 *
 *   iketcpd-state 1
 *   peer <addr> <local|-> <originator> <ever_up> <fallback_tcp> <tcp_port>
 *   sa <peer> <spi_i> <major> <lport> <rport> <flags>
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

enum {
	SA_PORTS_KNOWN = 1,
	SA_NATT_FLOAT = 2,
	SA_V1_SEEN_START = 4,
	SA_V1_PEER_UDP = 8,
};

static const char *addr_s(const struct iketcp_ep *ep, char *buf, size_t len)
{
	if (!ep->family)
		return "-";
	inet_ntop(ep->family, &ep->addr, buf, len);
	return buf;
}

static void save_peer(struct peer *p, void *arg)
{
	char r[INET6_ADDRSTRLEN], l[INET6_ADDRSTRLEN];

	fprintf(arg, "peer %s %s %d %d %d %u\n",
		addr_s(&p->remote, r, sizeof(r)), addr_s(&p->local, l, sizeof(l)),
		p->originator && p->ever_up, p->ever_up, p->fallback_tcp,
		p->tcp_port);
}

static void save_sa(struct sa *sa, void *arg)
{
	char a[INET6_ADDRSTRLEN];
	int flags = (sa->ports_known ? SA_PORTS_KNOWN : 0) |
		    (sa->natt_float ? SA_NATT_FLOAT : 0) |
		    (sa->v1_seen_start ? SA_V1_SEEN_START : 0) |
		    (sa->v1_peer_started_udp ? SA_V1_PEER_UDP : 0);

	fprintf(arg, "sa %s %016llx %u %u %u %d\n",
		addr_s(&sa->peer, a, sizeof(a)), (unsigned long long)sa->spi_i,
		sa->major, sa->lport, sa->rport, flags);
}

/**
 * state_save() - write the state file (atomically)
 * @d: daemon
 *
 * Return: 0 or -errno.
 */
int state_save(struct daemon *d)
{
	char tmp[PATH_MAX];
	FILE *f;
	int ret = 0;

	if (!d->state_path)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", d->state_path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "iketcpd-state 1\n");
	peer_for_each(d, save_peer, f);
	bridge_sa_for_each(d, save_sa, f);
	if (fflush(f) || ferror(f))
		ret = -EIO;
	if (fclose(f))
		ret = -EIO;
	if (!ret && rename(tmp, d->state_path))
		ret = -errno;
	if (ret) {
		log_warn("cannot write %s: %s", d->state_path, strerror(-ret));
		unlink(tmp);
	}
	return ret;
}

/**
 * state_load() - read the state a previous iketcpd left
 * @d: daemon
 *
 * Peers whose connection we had opened are reconnected at once. A missing
 * file is no error; a damaged line is skipped with a warning.
 *
 * Return: the number of SAs restored.
 */
int state_load(struct daemon *d)
{
	char line[512], a[64], l[64];
	int nsas = 0, lineno = 0;
	FILE *f;

	if (!d->state_path)
		return 0;
	f = fopen(d->state_path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		struct iketcp_ep ep, lep;
		unsigned long long spi;
		int o, up, fb, major, flags;
		unsigned int port, lp, rp;

		lineno++;
		if (lineno == 1) {
			if (strncmp(line, "iketcpd-state 1", 15))
				break;
			continue;
		}
		if (sscanf(line, "peer %63s %63s %d %d %d %u", a, l, &o, &up,
			   &fb, &port) == 6 && !iketcp_ep_parse(a, 0, &ep) &&
		    !iketcp_ep_parse(l, 0, &lep)) {
			struct peer *p = peer_get(d, &ep, &lep);

			if (!p)
				continue;
			p->ever_up = up;
			p->fallback_tcp = fb;
			if (o) {
				p->originator = true;
				p->next_connect = now_ms();
			}
		} else if (sscanf(line, "sa %63s %llx %d %u %u %d", a, &spi,
				  &major, &lp, &rp, &flags) == 6 &&
			   !iketcp_ep_parse(a, 0, &ep)) {
			struct sa *sa = bridge_sa_get(d, &ep, spi, major);

			if (!sa)
				continue;
			sa->lport = lp;
			sa->rport = rp;
			sa->ports_known = flags & SA_PORTS_KNOWN;
			sa->natt_float = flags & SA_NATT_FLOAT;
			sa->v1_seen_start = flags & SA_V1_SEEN_START;
			sa->v1_peer_started_udp = flags & SA_V1_PEER_UDP;
			sa->last_seen = now_ms();
			nsas++;
		} else {
			log_warn("%s:%d: damaged state line skipped",
				 d->state_path, lineno);
		}
	}
	fclose(f);
	if (nsas)
		log_notice("restored %d IKE SAs from %s", nsas, d->state_path);
	return nsas;
}
