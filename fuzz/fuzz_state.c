// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_state.c - libFuzzer target for the state file a previous iketcpd
 * left (userspace/state.c: state_load(), and state_save() for the round
 * trip), on a daemon set up as iketcpd sets it up before state_load():
 * a parsed configuration (peer rules with their TCP ports, max-sas 12),
 * no peers, no SAs.
 *
 * Input: the file's bytes, written to a private file (a mkdtemp()
 * directory in /dev/shm, $TMPDIR or /tmp, created once per process) that
 * state_load() then reads.
 *
 * Checks, against an independent reading of the file (its lines split at
 * '\n' whatever their length, each record read by the format state.c
 * documents, a line that is not a record skipped, the version of the
 * first line):
 * - a record's values fit its fields: IKE version 1 or 2, ports 0..65535
 *   (anything else is a damaged line, skipped);
 * - the return value is the number of SA records that started tracking an
 *   SA (one already tracked is skipped);
 * - the SAs tracked are the most recent max-sas of them, in the order of
 *   the file (least recently seen first: the LRU order), each with the
 *   peer, local address, IKE version, ports and flags of its line (a
 *   version 1 line: only its version 1 flags, authenticated); every one
 *   is active and belongs to its peer, whose SA count matches;
 * - the peers are the address pairs of the peer and SA records, each with
 *   the flags of its last peer line (originator: any of them), the TCP
 *   port of its configuration rule, no half-open SA;
 * - the state is not dirty after the load;
 * - state_save() of the loaded daemon, loaded into a fresh daemon and
 *   saved again, gives the same file (nothing is lost or altered on the
 *   way), with one line per peer and per SA;
 * - everything is freed (the daemon's peers, SAs, fast path requests) so
 *   that LeakSanitizer sees a leak of state_load().
 * Any violation abort()s.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "daemon.h"
#include "log.h"

#define FUZZ_NAME "fuzz_state"
#include "fuzz.h"

/* iketcpd.c's clock (iketcpd.c itself has main()) */
long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

#define MAX_SAS 12

static const char config_text[] =
	"listen off\n"
	"max-sas 12\n"
	"peer 192.0.2.0/24 tcp port 4500\n"
	"peer 198.51.100.0/24 fallback port 10500\n"
	"peer 2001:db8::/32 auth port 8443\n"
	"peer 0.0.0.0/0 udp\n";

static struct config cfg;
static char dir[80], in_path[112], rt_path[112];
static int in_fd = -1;

/* Remove a directory of ours and the files in it */
static void remove_dir(const char *path)
{
	DIR *dp = opendir(path);
	struct dirent *de;

	if (!dp)
		return;
	while ((de = readdir(dp)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dirfd(dp), de->d_name, 0);
	closedir(dp);
	rmdir(path);
}

static void cleanup(void)
{
	remove_dir(dir);
}

/*
 * libFuzzer leaves with _Exit() after a crash, a timeout or a run on
 * files (no atexit()): the directories of fuzzers that are gone are
 * removed by the next one (fuzz_state.<pid>.XXXXXX, the pid dead).
 */
static void remove_stale(const char *base)
{
	DIR *dp = opendir(base);
	struct dirent *de;

	if (!dp)
		return;
	while ((de = readdir(dp))) {
		char path[PATH_MAX];
		int pid;

		if (sscanf(de->d_name, "fuzz_state.%d.", &pid) != 1 ||
		    pid <= 0 || pid == getpid() ||
		    !(kill(pid, 0) && errno == ESRCH))
			continue;
		snprintf(path, sizeof(path), "%s/%s", base, de->d_name);
		remove_dir(path);
	}
	closedir(dp);
}

static void write_input(const uint8_t *data, size_t size)
{
	CHECK(pwrite(in_fd, data, size, 0) == (ssize_t)size, "pwrite: %s",
	      strerror(errno));
	CHECK(!ftruncate(in_fd, size), "ftruncate: %s", strerror(errno));
}

static void daemon_init(struct daemon *d, const char *path)
{
	memset(d, 0, sizeof(*d));
	d->cfg = cfg;
	d->state_path = path;
	d->started = now_ms();
}

static void daemon_free(struct daemon *d)
{
	peer_close_all(d);
	bridge_free(d);
	fastpath_free(d);
}

/* The refusals of state_open(): once, at start-up */
static void check_refusals(void)
{
	static const char valid[] = "iketcpd-state 2\npeer 192.0.2.1 192.0.2.2 1 1 0 500\n"
				    "sa 192.0.2.1 192.0.2.2 0102030405060708 2 500 500 33\n";
	struct daemon d;
	char link[128];

	write_input((const uint8_t *)valid, sizeof(valid) - 1);
	daemon_init(&d, in_path);
	CHECK(state_load(&d) == 1, "the valid file is not loaded");
	daemon_free(&d);

	CHECK(!fchmod(in_fd, 0622), "fchmod");
	daemon_init(&d, in_path);
	CHECK(state_load(&d) == 0 && d.npeers == 0, "a file writable by others is read");
	daemon_free(&d);
	CHECK(!fchmod(in_fd, 0600), "fchmod");

	snprintf(link, sizeof(link), "%s/link", dir);
	CHECK(!symlink(in_path, link), "symlink: %s", strerror(errno));
	daemon_init(&d, link);
	CHECK(state_load(&d) == 0 && d.npeers == 0, "a symbolic link is followed");
	daemon_free(&d);
	unlink(link);

	daemon_init(&d, dir);
	CHECK(state_load(&d) == 0 && d.npeers == 0, "a directory is read");
	daemon_free(&d);
	daemon_init(&d, rt_path);	/* missing */
	CHECK(state_load(&d) == 0, "a missing file");
	daemon_free(&d);
	daemon_init(&d, NULL);
	CHECK(state_load(&d) == 0, "no path");
	daemon_free(&d);
}

static void init(void)
{
	static const char *const bases[] = { "/dev/shm", NULL, "/tmp" };
	char err[1024];
	FILE *devnull;

	CHECK(!config_parse("fuzz_state.conf", config_text, &cfg, err,
			    sizeof(err)), "config: %s", err);
	CHECK(cfg.max_sas == MAX_SAS, "max-sas %d", cfg.max_sas);
	devnull = fopen("/dev/null", "w");
	log_init(true, LOG_ERR);
	log_set_output(devnull);
	for (size_t i = 0; i < sizeof(bases) / sizeof(*bases); i++) {
		const char *b = bases[i] ? bases[i] : getenv("TMPDIR");

		if (!b)
			continue;
		if (strlen(b) >= 32)
			continue;
		remove_stale(b);
		snprintf(dir, sizeof(dir), "%s/fuzz_state.%d.XXXXXX", b,
			 (int)getpid());
		if (mkdtemp(dir))
			break;
		dir[0] = 0;
	}
	CHECK(dir[0], "no temporary directory");
	snprintf(in_path, sizeof(in_path), "%s/state", dir);
	snprintf(rt_path, sizeof(rt_path), "%s/roundtrip", dir);
	in_fd = open(in_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHECK(in_fd >= 0, "%s: %s", in_path, strerror(errno));
	atexit(cleanup);
	check_refusals();
}

/* ---- an independent reading of the file ---- */

enum {
	F_PORTS_KNOWN = 1,
	F_NAT = 2,
	F_V1_SEEN_START = 4,
	F_V1_PEER_UDP = 8,
	F_POST_SETUP = 16,
	F_AUTHED = 32,
	F_NAT_KNOWN = 64,
};

struct m_peer {
	struct iketcp_ep remote, local;
	bool up, fb, o;
	int nsas;
};

struct m_sa {
	struct iketcp_ep remote, local;
	unsigned long long spi;
	int major;
	unsigned int lp, rp;
	int flags;
};

struct model {
	struct m_peer *peers;
	int npeers;
	struct m_sa sas[MAX_SAS];	/* least recently seen first */
	int nsas;
	int created;
};

static bool same(const struct iketcp_ep *a, const struct iketcp_ep *b)
{
	return a->family == b->family &&
	       !memcmp(&a->addr, &b->addr, a->family == AF_INET ? 4 : 16);
}

static struct m_peer *m_peer_get(struct model *m, const struct iketcp_ep *r,
				 const struct iketcp_ep *l)
{
	for (int i = 0; i < m->npeers; i++)
		if (same(&m->peers[i].remote, r) && same(&m->peers[i].local, l))
			return &m->peers[i];
	m->peers = realloc(m->peers, (m->npeers + 1) * sizeof(*m->peers));
	CHECK(m->peers, "out of memory");
	memset(&m->peers[m->npeers], 0, sizeof(*m->peers));
	m->peers[m->npeers].remote = *r;
	m->peers[m->npeers].local = *l;
	return &m->peers[m->npeers++];
}

static void m_sa_add(struct model *m, const struct m_sa *s)
{
	struct m_peer *p = m_peer_get(m, &s->remote, &s->local);

	for (int i = 0; i < m->nsas; i++)
		if (same(&m->sas[i].remote, &s->remote) && m->sas[i].spi == s->spi)
			return;	/* tracked already: skipped */
	if (m->nsas == MAX_SAS) {
		/* the least recently seen makes room */
		m_peer_get(m, &m->sas[0].remote, &m->sas[0].local)->nsas--;
		memmove(m->sas, m->sas + 1, (MAX_SAS - 1) * sizeof(*m->sas));
		m->nsas--;
	}
	m->sas[m->nsas++] = *s;
	p = m_peer_get(m, &s->remote, &s->local);	/* (realloc) */
	p->nsas++;
	m->created++;
}

static bool fits(const struct m_sa *s)
{
	return (s->major == 1 || s->major == 2) && s->lp <= 65535 &&
	       s->rp <= 65535;
}

static void m_line(struct model *m, const char *line, int version)
{
	char a[64], l[64];
	int o, up, fb;
	unsigned int port;
	struct iketcp_ep r, lo;
	struct m_sa s = {};

	if (sscanf(line, "peer %63s %63s %d %d %d %u", a, l, &o, &up, &fb,
		   &port) == 6 && fuzz_addr(a, &r) && fuzz_addr(l, &lo)) {
		struct m_peer *p = m_peer_get(m, &r, &lo);

		p->up = up;
		p->fb = fb;
		p->o |= o != 0;
		return;
	}
	if (version == 2 &&
	    sscanf(line, "sa %63s %63s %llx %d %u %u %d", a, l, &s.spi,
		   &s.major, &s.lp, &s.rp, &s.flags) == 7 &&
	    fuzz_addr(a, &s.remote) && fuzz_addr(l, &s.local)) {
		if (fits(&s))
			m_sa_add(m, &s);
	} else if (version == 1 &&
		   sscanf(line, "sa %63s %llx %d %u %u %d", a, &s.spi,
			  &s.major, &s.lp, &s.rp, &s.flags) == 6 &&
		   fuzz_addr(a, &s.remote)) {
		s.local.family = s.remote.family;
		s.flags &= F_PORTS_KNOWN | F_V1_SEEN_START | F_V1_PEER_UDP;
		s.flags |= F_AUTHED;
		if (fits(&s))
			m_sa_add(m, &s);
	}
}

static void model_read(struct model *m, const uint8_t *data, size_t size)
{
	int version = 0;
	size_t off = 0;
	char *line = malloc(size + 1);

	CHECK(line, "out of memory");
	memset(m, 0, sizeof(*m));
	while (off < size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t n = nl ? (size_t)(nl - data - off) + 1 : size - off;

		memcpy(line, data + off, n);
		line[n] = 0;
		off += n;
		if (!version) {
			if (!strncmp(line, "iketcpd-state 1", 15))
				version = 1;
			else if (!strncmp(line, "iketcpd-state 2", 15))
				version = 2;
			else
				break;
			continue;
		}
		m_line(m, line, version);
	}
	free(line);
}

/* ---- the checks ---- */

static int m_flags(const struct sa *sa)
{
	return (sa->ports_known ? F_PORTS_KNOWN : 0) |
	       (sa->nat == 1 ? F_NAT : 0) | (sa->nat >= 0 ? F_NAT_KNOWN : 0) |
	       (sa->v1_seen_start ? F_V1_SEEN_START : 0) |
	       (sa->v1_peer_started_udp ? F_V1_PEER_UDP : 0) |
	       (sa->post_setup_sent ? F_POST_SETUP : 0) |
	       (sa->authed ? F_AUTHED : 0);
}

/* The flags a record's bits give an SA */
static int expect_flags(int f)
{
	int nat = f & F_NAT_KNOWN ? !!(f & F_NAT) : -1;

	return (f & (F_PORTS_KNOWN | F_V1_SEEN_START | F_V1_PEER_UDP |
		     F_POST_SETUP | F_AUTHED)) |
	       (nat == 1 ? F_NAT : 0) | (nat >= 0 ? F_NAT_KNOWN : 0);
}

static void check_load(struct daemon *d, const struct model *m, int ret)
{
	const struct sa *sa;
	int i = 0;

	CHECK(ret == m->created, "state_load returned %d, model %d", ret,
	      m->created);
	CHECK(d->nsas == m->nsas && d->nsas <= d->cfg.max_sas,
	      "%d SAs tracked, model %d (max-sas %d)", d->nsas, m->nsas,
	      d->cfg.max_sas);
	CHECK(d->npeers == m->npeers, "%d peers, model %d", d->npeers,
	      m->npeers);
	CHECK(!d->state_dirty, "dirty after the load");
	CHECK(d->sa_lru[SA_HALF_OPEN].n == 0 && !d->sa_lru[SA_HALF_OPEN].head,
	      "half-open SAs loaded");
	CHECK(d->sa_lru[SA_ACTIVE].n == d->nsas, "LRU %d SAs, tracked %d",
	      d->sa_lru[SA_ACTIVE].n, d->nsas);

	for (sa = d->sa_lru[SA_ACTIVE].head; sa; sa = sa->lru_next, i++) {
		const struct m_sa *s = &m->sas[i];

		CHECK(i < m->nsas, "more SAs on the LRU list than the model's");
		CHECK(!sa->lru_next || sa->lru_next->lru_prev == sa,
		      "LRU list links");
		CHECK(sa->lru_next || d->sa_lru[SA_ACTIVE].tail == sa,
		      "LRU list tail");
		CHECK(sa_find(d, &sa->peer, sa->spi_i) == sa, "SA %d not found", i);
		CHECK(sa->state == SA_ACTIVE, "SA %d state %d", i, sa->state);
		CHECK(sa->spi_i == s->spi && same(&sa->peer, &s->remote) &&
		      same(&sa->local, &s->local),
		      "SA %d: spi %016llx, model %016llx", i,
		      (unsigned long long)sa->spi_i, s->spi);
		CHECK(sa->p && peer_find(d, &sa->p->remote, &sa->p->local) == sa->p &&
		      same(&sa->p->remote, &sa->peer) &&
		      same(&sa->p->local, &sa->local),
		      "SA %d does not belong to its peer", i);
		CHECK(sa->major == s->major && sa->lport == s->lp &&
		      sa->rport == s->rp,
		      "SA %d: IKEv%u ports %u %u, model IKEv%d %u %u", i,
		      sa->major, sa->lport, sa->rport, s->major, s->lp, s->rp);
		CHECK(m_flags(sa) == expect_flags(s->flags),
		      "SA %d: flags %d, model %d (line: %d)", i, m_flags(sa),
		      expect_flags(s->flags), s->flags);
		CHECK(!sa->out && !sa->fp_conn && !sa->bound, "SA %d: more state", i);
	}
	CHECK(i == m->nsas, "%d SAs on the LRU list, model %d", i, m->nsas);

	for (int k = 0; k < m->npeers; k++) {
		const struct m_peer *mp = &m->peers[k];
		const struct peer *p = peer_find(d, &mp->remote, &mp->local);
		const struct cfg_rule *r;

		CHECK(p, "peer %d missing", k);
		r = config_lookup(&d->cfg, &mp->remote);
		CHECK(p->tcp_port == (r ? r->port : 500), "peer %d: TCP port %u",
		      k, p->tcp_port);
		CHECK(p->ever_up == mp->up && p->fallback_tcp == mp->fb &&
		      p->originator == mp->o,
		      "peer %d: up %d fallback %d originator %d, model %d %d %d",
		      k, p->ever_up, p->fallback_tcp, p->originator, mp->up,
		      mp->fb, mp->o);
		CHECK(!p->fallback_tcp || p->fallback_until > 0,
		      "peer %d: fallback without an end", k);
		CHECK(p->originator == (p->next_connect > 0),
		      "peer %d: originator %d, next connection %lld", k,
		      p->originator, p->next_connect);
		CHECK(p->nsas == mp->nsas && p->nhalf == 0 && !p->conns &&
		      !p->qhead && !p->out_head,
		      "peer %d: %d SAs (%d half-open), model %d", k, p->nsas,
		      p->nhalf, mp->nsas);
	}
}

static char *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *b;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	CHECK(fd >= 0 && !fstat(fd, &st), "%s: %s", path, strerror(errno));
	CHECK((st.st_mode & 07777) == 0600, "state file mode %o",
	      (unsigned int)(st.st_mode & 07777));
	b = malloc(st.st_size + 1);
	CHECK(b && read(fd, b, st.st_size) == st.st_size, "%s: read", path);
	b[st.st_size] = 0;
	close(fd);
	*len = st.st_size;
	return b;
}

static int count_lines(const char *b, const char *prefix)
{
	int n = 0;

	for (const char *s = b; *s; s = strchr(s, '\n') + 1) {
		CHECK(strchr(s, '\n'), "saved file: unterminated line");
		n += !strncmp(s, prefix, strlen(prefix));
	}
	return n;
}

/* save(load(x)) is loaded again and saved: the same file */
static void round_trip(struct daemon *d)
{
	struct daemon d2;
	char *g, *h;
	size_t glen, hlen;
	int ret;

	d->state_path = rt_path;
	d->state_dirty = true;
	CHECK(!state_save(d), "state_save failed");
	CHECK(!d->state_dirty, "dirty after the save");
	g = slurp(rt_path, &glen);
	CHECK(!strncmp(g, "iketcpd-state 2\n", 16), "saved header");
	CHECK(count_lines(g, "peer ") == d->npeers &&
	      count_lines(g, "sa ") == d->nsas &&
	      count_lines(g, "") == 1 + d->npeers + d->nsas,
	      "saved file: %d peers, %d SAs in '%s'", d->npeers, d->nsas, g);

	daemon_init(&d2, rt_path);
	ret = state_load(&d2);
	CHECK(ret == d->nsas && d2.nsas == d->nsas && d2.npeers == d->npeers,
	      "reloaded %d SAs (%d), %d peers; saved %d, %d", ret, d2.nsas,
	      d2.npeers, d->nsas, d->npeers);
	d2.state_dirty = true;
	CHECK(!state_save(&d2), "state_save failed");
	h = slurp(rt_path, &hlen);
	CHECK(glen == hlen && !memcmp(g, h, glen),
	      "saved, loaded, saved: differs:\n%s---\n%s", g, h);
	daemon_free(&d2);
	free(g);
	free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct daemon d;
	struct model m;
	int ret;

	if (in_fd < 0)
		init();
	write_input(data, size);
	model_read(&m, data, size);

	daemon_init(&d, in_path);
	ret = state_load(&d);
	check_load(&d, &m, ret);
	if (d.npeers)
		round_trip(&d);
	daemon_free(&d);
	free(m.peers);
	return 0;
}
