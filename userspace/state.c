// SPDX-License-Identifier: GPL-2.0
/*
 * state.c - what iketcpd keeps across a restart (a text file, written
 * atomically every few seconds and at exit): the IKE SAs it saw, with the
 * ports the daemon uses for each, and the peers whose connection it had
 * opened, so that a restarted iketcpd reconnects them at once and keeps
 * delivering messages on the right ports: IKE SAs outlive iketcpd.
 *
 *   iketcpd-state 2
 *   peer <addr> <local|-> <originator> <ever_up> <fallback_tcp> <tcp_port>
 *   sa <peer> <local> <spi_i> <major> <lport> <rport> <flags>
 *
 * Only active SAs are kept (started by the daemon, or authenticated): a
 * half-open one is a stranger's until proven otherwise. The file is
 * written when something in it changed (d->state_dirty), not on a timer.
 * A version 1 file (no <local> in sa lines) is still read.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

enum {
	SA_PORTS_KNOWN = 1,
	SA_NAT = 2,
	SA_V1_SEEN_START = 4,
	SA_V1_PEER_UDP = 8,
	SA_POST_SETUP = 16,
	SA_AUTHED = 32,
	SA_NAT_KNOWN = 64,
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
	char a[INET6_ADDRSTRLEN], l[INET6_ADDRSTRLEN];
	int flags = (sa->ports_known ? SA_PORTS_KNOWN : 0) |
		    (sa->nat == 1 ? SA_NAT : 0) |
		    (sa->nat >= 0 ? SA_NAT_KNOWN : 0) |
		    (sa->v1_seen_start ? SA_V1_SEEN_START : 0) |
		    (sa->v1_peer_started_udp ? SA_V1_PEER_UDP : 0) |
		    (sa->post_setup_sent ? SA_POST_SETUP : 0) |
		    (sa->authed ? SA_AUTHED : 0);

	if (sa->state != SA_ACTIVE)
		return;
	fprintf(arg, "sa %s %s %016llx %u %u %u %d\n",
		addr_s(&sa->peer, a, sizeof(a)),
		addr_s(&sa->p->local, l, sizeof(l)),
		(unsigned long long)sa->spi_i, sa->major, sa->lport, sa->rport,
		flags);
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
	int fd, ret = 0;

	if (!d->state_path || !d->state_dirty)
		return 0;
	/* a fresh private file in the same directory (never a name an
	 * attacker could have planted a symlink at), then renamed over
	 */
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", d->state_path) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		log_warn("cannot write %s: %s", d->state_path, strerror(-ret));
		return ret;
	}
	if (fchmod(fd, 0600) || !(f = fdopen(fd, "w"))) {
		ret = -errno;
		close(fd);
		goto out;
	}
	fprintf(f, "iketcpd-state 2\n");
	peer_for_each(d, save_peer, f);
	sa_for_each(d, save_sa, f);
	if (fflush(f) || ferror(f))
		ret = -EIO;
	if (fclose(f))
		ret = -EIO;
	if (!ret && rename(tmp, d->state_path))
		ret = -errno;
out:
	if (!ret)
		d->state_dirty = false;
	if (ret) {
		log_warn("cannot write %s: %s", d->state_path, strerror(-ret));
		unlink(tmp);
	}
	return ret;
}

/* The state file, if it is ours: a regular file (no symlink followed),
 * owned by us or root, not writable by others.
 */
static FILE *state_open(const char *path)
{
	struct stat st = {};
	FILE *f;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno != ENOENT)
			log_warn("not reading the state file %s: %s", path,
				 errno == ELOOP ? "it is a symbolic link" :
				 strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (st.st_uid != geteuid() && st.st_uid != 0) ||
	    (st.st_mode & 0022)) {
		log_warn("not reading the state file %s: not a regular file of ours (owner %u, mode %o)",
			 path, (unsigned int)st.st_uid,
			 (unsigned int)(st.st_mode & 07777));
		close(fd);
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f)
		close(fd);
	return f;
}

/**
 * state_load() - read the state a previous iketcpd left
 * @d: daemon
 *
 * Peers whose connection we had opened are reconnected at once. A missing
 * file is no error; a damaged line is skipped with a warning: one that is
 * not a record, or whose values do not fit their fields (an IKE version
 * other than 1 and 2, a port above 65535). Lines are read whole, whatever
 * their length (the rest of a long line is never read as a record).
 *
 * Return: the number of SAs restored.
 */
int state_load(struct daemon *d)
{
	char *line = NULL, a[64], l[64];
	int nsas = 0, lineno = 0, version = 2;
	size_t cap = 0;
	FILE *f;

	if (!d->state_path)
		return 0;
	f = state_open(d->state_path);
	if (!f)
		return 0;
	while (getline(&line, &cap, f) >= 0) {
		struct iketcp_ep ep, lep;
		unsigned long long spi;
		int o, up, fb, major, flags;
		unsigned int port, lp, rp;
		struct peer *p;
		struct sa *sa;

		lineno++;
		if (lineno == 1) {
			if (!strncmp(line, "iketcpd-state 1", 15))
				version = 1;
			else if (strncmp(line, "iketcpd-state 2", 15))
				break;
			continue;
		}
		if (sscanf(line, "peer %63s %63s %d %d %d %u", a, l, &o, &up,
			   &fb, &port) == 6 && !iketcp_ep_parse(a, 0, &ep) &&
		    !iketcp_ep_parse(l, 0, &lep)) {
			p = peer_get(d, &ep, &lep);
			if (!p)
				continue;
			p->ever_up = up;
			p->fallback_tcp = fb;
			if (fb)
				p->fallback_until = now_ms() +
					(d->cfg.idle_timeout ? d->cfg.idle_timeout : 3600) * 1000LL;
			if (o) {
				p->originator = true;
				p->next_connect = now_ms();
			}
			continue;
		}
		if (version == 2 &&
		    sscanf(line, "sa %63s %63s %llx %d %u %u %d", a, l, &spi,
			   &major, &lp, &rp, &flags) == 7 &&
		    !iketcp_ep_parse(a, 0, &ep) && !iketcp_ep_parse(l, 0, &lep)) {
			/* the local address is the line's */
		} else if (version == 1 &&
			   sscanf(line, "sa %63s %llx %d %u %u %d", a, &spi,
				  &major, &lp, &rp, &flags) == 6 &&
			   !iketcp_ep_parse(a, 0, &ep)) {
			/* (version 1 did not say which local address) */
			memset(&lep, 0, sizeof(lep));
			lep.family = ep.family;
			flags &= SA_PORTS_KNOWN | SA_V1_SEEN_START |
				 SA_V1_PEER_UDP;
			flags |= SA_AUTHED;
		} else {
			major = 0;	/* not a record */
		}
		/* values that do not fit their fields: damaged as well */
		if ((major != 1 && major != 2) || lp > 65535 || rp > 65535) {
			log_warn("%s:%d: damaged state line skipped",
				 d->state_path, lineno);
			continue;
		}
		p = peer_get(d, &ep, &lep);
		if (!p || sa_find(d, &ep, spi) ||
		    !(sa = sa_create(d, p, spi, major, SA_ACTIVE, now_ms())))
			continue;
		sa->lport = lp;
		sa->rport = rp;
		sa->ports_known = flags & SA_PORTS_KNOWN;
		sa->nat = flags & SA_NAT_KNOWN ? !!(flags & SA_NAT) : -1;
		sa->post_setup_sent = flags & SA_POST_SETUP;
		sa->v1_seen_start = flags & SA_V1_SEEN_START;
		sa->v1_peer_started_udp = flags & SA_V1_PEER_UDP;
		if (flags & SA_AUTHED)
			sa_set_authed(d, sa, now_ms());
		nsas++;
	}
	free(line);
	fclose(f);
	d->state_dirty = false;
	if (nsas)
		log_notice("restored %d IKE SAs from %s", nsas, d->state_path);
	return nsas;
}
