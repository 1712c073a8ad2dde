// SPDX-License-Identifier: GPL-2.0
/*
 * nlfuzz.c - a netlink fuzzer for the iketcp module. Random sequences of
 * the family's commands (every command number, invalid ones included) with
 * random and boundary attributes, from privileged processes and from an
 * unprivileged one, while another process attaches, uses, resets and
 * closes connections (being the helper, and losing that role to a
 * fuzzer now and then), and another creates and tears down network
 * namespaces with connections in them.
 *
 * Checked: every answer's errno is one this request may get (no EFAULT,
 * EIO, ENOMEM, ...; stricter lists for well-formed requests); the
 * unprivileged process never gets anything but EPERM (or EOPNOTSUPP for
 * a command the family does not have); every request that asks for an
 * answer gets one; at the end every connection and namespace is gone
 * (the netns counters, and the module's debugfs counters). Kernel
 * reports (KASAN, lockdep, WARN, kmemleak) fail the VM run itself.
 *
 *   nlfuzz [--seed N] [--time SECONDS] [harness options]
 *
 * or NLFUZZ_SEED / NLFUZZ_TIME (also IKETCP_NLFUZZ_*, which vmrun.sh
 * passes into the guest). Default: 60 s, a seed from the clock; the seed
 * is printed so that a failing run can be replayed (the interleaving of
 * the processes is not replayed, each process's own sequence is).
 */
#include <grp.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "lib.h"

#define NERRNO		160
#define TXBUF		(160 * 1024)
#define RXBUF		(256 * 1024)
#define NLIVE		64
#define REPLY_MS	60000	/* a request that wants an answer gets one */
#define MAXPAIRS	40
#define NOBODY		65534

static unsigned long long opt_seed;
static bool opt_seed_set;
static long opt_time = 60;

/* The processes of the mixed run */
enum { P_PRIV0, P_PRIV1, P_UNPRIV, P_CHURN, P_NETNS, P_NETNS_CHILD, NPROC };
static const char *const pname[NPROC] = {
	"privileged fuzzer 0", "privileged fuzzer 1", "unprivileged fuzzer",
	"connection churn", "netns churn", "netns children",
};

struct pstat {
	uint64_t reqs;		/* requests sent */
	uint64_t ok;		/* acked with 0, or answered with data */
	uint64_t silent;	/* nothing asked for, nothing came */
	uint64_t lost;		/* answer lost in a receive overrun */
	uint64_t err[NERRNO];	/* error answers by errno */
	uint64_t notifs;	/* notifications received */
	uint64_t overruns;	/* ENOBUFS on our socket */
	uint64_t helper;	/* times it became the helper */
	uint64_t reopen;	/* sockets closed and opened again */
};

struct shm {
	volatile int stop;
	volatile int failed;
	char why[2048];
	/* connection ids seen attached / ended, as hints for the fuzzers */
	volatile uint32_t live[NLIVE], live_n;
	volatile uint32_t stale[NLIVE], stale_n;
	int ifidx[8], nif;
	struct pstat st[NPROC];
	/* connection churn */
	uint64_t pairs, attached, attach_err[NERRNO], msgs_written, bad_written,
		 resets, closes, halfcloses, owner_closes, echoes, fp_adds,
		 conn_closes, udp_sent, helper_lost;
	/* netns churn */
	uint64_t ns_cycles, ns_killed, ns_conns;
	volatile int anchored;
};

static struct shm *shm;

/* --- deterministic per-process randomness ------------------------------ */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rn(struct rng *r, uint32_t n)
{
	return n ? rnd(r) % n : 0;
}

static bool pct(struct rng *r, int p)
{
	return rn(r, 100) < (uint32_t)p;
}

#define PICK(r, a) ((a)[rn(r, sizeof(a) / sizeof((a)[0]))])

/* --- failure reporting from any process -------------------------------- */

static void __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	char buf[sizeof(shm->why)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!__sync_lock_test_and_set(&shm->failed, 1))
		memcpy(shm->why, buf, sizeof(buf));
	fprintf(stderr, "# nlfuzz: FAIL (pid %d): %s\n", getpid(), buf);
	shm->stop = 1;
	_exit(1);
}

static void hexdump(char *out, size_t outlen, const uint8_t *b, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && i < 96 && o + 4 < outlen; i++)
		o += snprintf(out + o, outlen - o, "%02x", b[i]);
	if (len > 96 && o + 4 < outlen)
		snprintf(out + o, outlen - o, "...");
}

static void hint_add(volatile uint32_t *ring, volatile uint32_t *n, uint32_t id)
{
	uint32_t i = __sync_fetch_and_add(n, 1);

	ring[i % NLIVE] = id;
}

static uint32_t hint_get(struct rng *r, volatile uint32_t *ring,
			 volatile uint32_t *n)
{
	uint32_t k = *n;

	if (!k)
		return 1 + rn(r, 4);
	return ring[rn(r, k < NLIVE ? k : NLIVE)];
}

/* --- the family's shape ------------------------------------------------- */

enum { K_NONE, K_U8, K_U16, K_U32, K_U64, K_FLAG, K_BIN, K_IP4, K_IP6, K_NEST };

static const uint8_t akind[IKETCP_A_MAX + 1] = {
	[IKETCP_A_CONN_ID] = K_U32,		[IKETCP_A_CONN_INODE] = K_U64,
	[IKETCP_A_CONN_STATE] = K_U8,		[IKETCP_A_FRAMING] = K_U8,
	[IKETCP_A_LOCAL_IPV4] = K_IP4,		[IKETCP_A_LOCAL_IPV6] = K_IP6,
	[IKETCP_A_LOCAL_PORT] = K_U16,		[IKETCP_A_REMOTE_IPV4] = K_IP4,
	[IKETCP_A_REMOTE_IPV6] = K_IP6,		[IKETCP_A_REMOTE_PORT] = K_U16,
	[IKETCP_A_MSG] = K_BIN,			[IKETCP_A_REASON] = K_U8,
	[IKETCP_A_ERRNO] = K_U32,		[IKETCP_A_TRUNCATED] = K_FLAG,
	[IKETCP_A_STATS] = K_NEST,		[IKETCP_A_MAX_MSG_LEN] = K_U32,
	[IKETCP_A_HELPER_PORTID] = K_U32,	[IKETCP_A_NETNS_STATS] = K_NEST,
	[IKETCP_A_PAD] = K_BIN,			[IKETCP_A_PREFIXLEN] = K_U8,
	[IKETCP_A_CAPTURE] = K_U8,		[IKETCP_A_NONESP] = K_FLAG,
	[IKETCP_A_PMTU] = K_U32,		[IKETCP_A_IFINDEX] = K_U32,
	[IKETCP_A_FIRST_MSG_TIMEOUT] = K_U32,	[IKETCP_A_SPI_I] = K_U64,
	[IKETCP_A_SPI_R] = K_U64,		[IKETCP_A_RX_SEQ] = K_U64,
	[IKETCP_A_MAX_RATE] = K_U32,		[IKETCP_A_MSG_TIMEOUT] = K_U32,
	[IKETCP_A_MEM_LIMIT] = K_U32,		[IKETCP_A_ESP] = K_U8,
};

/* Which commands have a do / a dump operation (kernel/netlink.c) */
static bool has_do(unsigned int cmd)
{
	switch (cmd) {
	case IKETCP_CMD_HELPER_REGISTER: case IKETCP_CMD_HELPER_RESUME:
	case IKETCP_CMD_NETNS_GET: case IKETCP_CMD_NETNS_SET:
	case IKETCP_CMD_CONN_GET: case IKETCP_CMD_CONN_SEND:
	case IKETCP_CMD_CONN_CLOSE: case IKETCP_CMD_CONN_SET:
	case IKETCP_CMD_FASTPATH_ADD: case IKETCP_CMD_FASTPATH_DEL:
	case IKETCP_CMD_CAPTURE_ADD: case IKETCP_CMD_CAPTURE_DEL:
	case IKETCP_CMD_CAPTURE_FLUSH: case IKETCP_CMD_UDP_INJECT:
	case IKETCP_CMD_UDP_SEND:
		return true;
	}
	return false;
}

static bool has_dump(unsigned int cmd)
{
	return cmd == IKETCP_CMD_CONN_GET || cmd == IKETCP_CMD_CAPTURE_GET;
}

static bool is_udp(unsigned int cmd)
{
	return cmd == IKETCP_CMD_UDP_INJECT || cmd == IKETCP_CMD_UDP_SEND;
}

/* Sets of errnos, as bits of the errnos that may be allowed anywhere */
static const int known_errno[] = {
	EPERM, ENOENT, ESRCH, EAGAIN, EACCES, EBUSY, EEXIST, ENODEV, EINVAL,
	ENOSPC, ERANGE, EMSGSIZE, EOPNOTSUPP, EAFNOSUPPORT, EADDRNOTAVAIL,
	ENETUNREACH, ENOBUFS, ENOTCONN, EHOSTUNREACH, EALREADY,
};

static uint64_t BIT64(int e)
{
	for (size_t i = 0; i < sizeof(known_errno) / sizeof(known_errno[0]); i++)
		if (known_errno[i] == e)
			return 1ULL << i;
	return 1ULL << 63;	/* in no set */
}

/* Errors any request of a privileged process may get (attribute policy,
 * the commands' own documented errors); UDP commands may also get what
 * routing and the IP layer say.
 */
#define ERR_BASE \
	(BIT64(EINVAL) | BIT64(ERANGE) | BIT64(EOPNOTSUPP) | BIT64(ENOENT) | \
	 BIT64(EMSGSIZE) | BIT64(EBUSY) | BIT64(ENOTCONN) | BIT64(ENOBUFS) | \
	 BIT64(EAGAIN) | BIT64(ENOSPC) | BIT64(EALREADY))
#define ERR_ROUTE \
	(BIT64(EHOSTUNREACH) | BIT64(ENETUNREACH) | BIT64(ENODEV) | \
	 BIT64(EACCES) | BIT64(EADDRNOTAVAIL) | BIT64(EINVAL) | \
	 BIT64(EMSGSIZE) | BIT64(ENOBUFS) | BIT64(EAFNOSUPPORT))

/* What a well-formed request of each command may get */
static uint64_t err_valid(unsigned int cmd, bool dump)
{
	if (dump)	/* one still running (its answers lost in an overrun) */
		return BIT64(EBUSY);
	switch (cmd) {
	case IKETCP_CMD_HELPER_REGISTER:
		return BIT64(EBUSY);
	case IKETCP_CMD_HELPER_RESUME: case IKETCP_CMD_NETNS_GET:
	case IKETCP_CMD_NETNS_SET: case IKETCP_CMD_CAPTURE_FLUSH:
		return 0;
	case IKETCP_CMD_CONN_GET:
		return BIT64(ENOENT);
	case IKETCP_CMD_CONN_SEND:
		return BIT64(ENOENT) | BIT64(ENOTCONN) | BIT64(ENOBUFS) |
		       BIT64(EMSGSIZE);
	case IKETCP_CMD_CONN_CLOSE:
		return BIT64(ENOENT) | BIT64(EALREADY);
	case IKETCP_CMD_CONN_SET:
		return BIT64(ENOENT) | BIT64(ENOTCONN);
	case IKETCP_CMD_FASTPATH_ADD:
		/* EINVAL: an IKETCP_A_RX_SEQ ahead of the connection */
		return BIT64(ENOENT) | BIT64(ENOTCONN) | BIT64(EAGAIN) |
		       BIT64(ENOSPC) | BIT64(EINVAL);
	case IKETCP_CMD_FASTPATH_DEL:
		return BIT64(ENOENT);
	case IKETCP_CMD_CAPTURE_ADD:
		return BIT64(ENOTCONN);
	case IKETCP_CMD_CAPTURE_DEL:
		return BIT64(ENOENT);
	case IKETCP_CMD_UDP_INJECT: case IKETCP_CMD_UDP_SEND:
		return ERR_ROUTE;
	}
	return BIT64(EOPNOTSUPP);
}

/* --- one fuzzing client ------------------------------------------------- */

struct fz {
	struct rng r;
	int role;
	bool priv;
	int fd;
	uint32_t portid;
	uint16_t family;
	uint32_t seq;
	uint8_t *tx, *rx;
	struct pstat *st;
	bool helper;		/* we registered (may have been replaced) */
	uint32_t own[16];	/* ids learnt from our own notifications */
	int own_n;
	uint64_t spi[8];	/* SPIs seen in messages */
	int spi_n;
};

static int nl_sock_open(bool big)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	int one = 1, sz = 4 << 20;

	if (fd < 0)
		return -errno;
	if (bind(fd, (void *)&sa, sizeof(sa))) {
		close(fd);
		return -errno;
	}
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (big && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	return fd;
}

static uint32_t nl_portid(int fd)
{
	struct sockaddr_nl sa;
	socklen_t sl = sizeof(sa);

	if (getsockname(fd, (void *)&sa, &sl))
		return 0;
	return sa.nl_pid;
}

static int family_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_validate(attr, MNL_TYPE_U16) >= 0)
		*(uint16_t *)data = mnl_attr_get_u16(attr);
	return MNL_CB_OK;
}

/* The family's id by name (CTRL_CMD_GETFAMILY, open to everybody). */
static int resolve_family(int fd, uint16_t *id)
{
	char buf[8192];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;
	long long end = now_ms() + REPLY_MS;
	uint32_t seq = 0x4e4c465a;

	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, IKETCP_GENL_NAME);
	*id = 0;
	if (send(fd, nlh, nlh->nlmsg_len, 0) < 0)
		return -errno;
	while (now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n;

		if (poll(&p, 1, 200) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			return -errno;
		for (nlh = (void *)buf; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				if (e->error)
					return e->error;
				return *id ? 0 : -ENOENT;
			}
			if (nlh->nlmsg_type == GENL_ID_CTRL)
				mnl_attr_parse(nlh, GENL_HDRLEN, family_cb, id);
		}
	}
	return -ETIMEDOUT;
}

static void fz_open(struct fz *f)
{
	int ret;

	f->fd = nl_sock_open(f->priv);
	if (f->fd < 0)
		fail("%s: netlink socket: %s", pname[f->role], strerror(-f->fd));
	f->portid = nl_portid(f->fd);
	ret = resolve_family(f->fd, &f->family);
	if (ret)
		fail("%s: family %s not resolved: %s", pname[f->role],
		     IKETCP_GENL_NAME, strerror(-ret));
	f->helper = false;
	f->own_n = 0;
}

static void fz_init(struct fz *f, int role, bool priv, uint64_t seed)
{
	memset(f, 0, sizeof(*f));
	f->r.s = seed ^ (0x1000193ULL * (role + 1));
	f->role = role;
	f->priv = priv;
	f->st = &shm->st[role];
	f->tx = malloc(TXBUF);
	f->rx = malloc(RXBUF);
	if (!f->tx || !f->rx)
		fail("out of memory");
	f->seq = 1;
	fz_open(f);
}

static void fz_reopen(struct fz *f)
{
	close(f->fd);
	f->st->reopen++;
	fz_open(f);
}

/* --- building requests -------------------------------------------------- */

struct req {
	uint8_t *b;
	size_t len;		/* bytes built */
	size_t cap;
	uint8_t cmd;
	uint16_t flags;
	uint32_t seq;
	bool hdr_ok;		/* nlmsghdr and genlmsghdr well formed */
	bool valid;		/* a well-formed request of its command */
	bool nlen_ok;		/* nlmsg_len matches what is sent */
	bool full;		/* an attribute did not fit: left out */
};

static struct nlattr *put_attr(struct req *q, uint16_t type, const void *d,
			       size_t len)
{
	struct nlattr *a = (void *)(q->b + q->len);
	size_t tot = NLA_HDRLEN + len, al = NLA_ALIGN(tot);

	if (len > 0xffff - NLA_HDRLEN || q->len + al > q->cap) {
		q->full = true;
		return NULL;
	}
	a->nla_type = type;
	a->nla_len = tot;
	if (len)
		memcpy((uint8_t *)a + NLA_HDRLEN, d, len);
	memset((uint8_t *)a + tot, 0, al - tot);
	q->len += al;
	return a;
}

static void put_u8(struct req *q, uint16_t t, uint8_t v) { put_attr(q, t, &v, 1); }
static void put_u16(struct req *q, uint16_t t, uint16_t v) { put_attr(q, t, &v, 2); }
static void put_u32(struct req *q, uint16_t t, uint32_t v) { put_attr(q, t, &v, 4); }
static void put_u64(struct req *q, uint16_t t, uint64_t v) { put_attr(q, t, &v, 8); }

static uint32_t conn_id_value(struct fz *f)
{
	struct rng *r = &f->r;

	switch (rn(r, 10)) {
	case 0: case 1: case 2: case 3:
		return hint_get(r, shm->live, &shm->live_n);
	case 4:
		if (f->own_n)
			return f->own[rn(r, f->own_n)];
		return hint_get(r, shm->live, &shm->live_n);
	case 5: case 6:
		return hint_get(r, shm->stale, &shm->stale_n);
	case 7:
		return hint_get(r, shm->live, &shm->live_n) + 1;
	case 8: {
		static const uint32_t b[] = { 0, 1, 2, 0x7fffffff, 0x80000000,
					      UINT32_MAX - 1, UINT32_MAX };
		return PICK(r, b);
	}
	}
	return rnd(r);
}

static uint32_t u32_value(struct fz *f, uint16_t type)
{
	static const uint32_t b[] = {
		0, 1, 2, 27, 28, 29, 127, 128, 255, 256, 4096, 65506, 65507,
		65508, 65534, 65535, 65536, 999999, 1000000, 1000001, 3599999,
		3600000, 3600001, 0x7ffffffe, 0x7fffffff, 0x80000000,
		UINT32_MAX - 1, UINT32_MAX,
	};
	struct rng *r = &f->r;

	if (type == IKETCP_A_CONN_ID && pct(r, 70))
		return conn_id_value(f);
	if (type == IKETCP_A_IFINDEX && shm->nif && pct(r, 60))
		return pct(r, 80) ? (uint32_t)shm->ifidx[rn(r, shm->nif)] :
				    (uint32_t)shm->ifidx[shm->nif - 1] + 1;
	if (type == IKETCP_A_HELPER_PORTID && pct(r, 50))
		return f->portid;
	if (pct(r, 75))
		return PICK(r, b);
	return rnd(r);
}

static uint64_t u64_value(struct fz *f)
{
	static const uint64_t b[] = {
		0, 1, 2, 0xffffffffULL, 0x100000000ULL, INT64_MAX,
		UINT64_MAX - 1, UINT64_MAX,
	};
	struct rng *r = &f->r;

	if (f->spi_n && pct(r, 30))
		return f->spi[rn(r, f->spi_n)];
	if (pct(r, 25))
		return rn(r, 8);
	return pct(r, 70) ? PICK(r, b) : rnd(r);
}

static void ip4_value(struct rng *r, uint8_t *a)
{
	static const uint32_t b[] = {
		0x00000000, 0x7f000001, 0x7f000002, 0x0a630001, 0x0a630002,
		0x0a6300ff, 0x0a630000, 0xffffffff, 0xe0000001, 0xc0000201,
	};
	uint32_t v = pct(r, 85) ? PICK(r, b) : (uint32_t)rnd(r);

	v = htonl(v);
	memcpy(a, &v, 4);
}

static void ip6_value(struct rng *r, uint8_t *a)
{
	static const uint8_t b[][16] = {
		{ 0 },
		{ [15] = 1 },
		{ 0xfd, 0, 0, 0x99, [15] = 1 },
		{ 0xfd, 0, 0, 0x99, [15] = 2 },
		{ 0xfd, 0, 0, 0x99 },
		{ 0xff, 0x02, [15] = 1 },
		{ 0xfe, 0x80, [15] = 1 },
		{ [10] = 0xff, [11] = 0xff, 127, 0, 0, 1 },
		{ 0x20, 0x01, 0x0d, 0xb8, [15] = 9 },
	};

	if (pct(r, 85)) {
		memcpy(a, PICK(r, b), 16);
		return;
	}
	for (int i = 0; i < 16; i++)
		a[i] = rnd(r);
}

static uint16_t port_value(struct rng *r)
{
	static const uint16_t b[] = { 0, 1, 500, 4500, 65534, 65535 };

	return pct(r, 80) ? PICK(r, b) : (uint16_t)rnd(r);
}

/* An IKE message (or something like one) of about @len bytes in @m. */
static size_t ike_value(struct fz *f, uint8_t *m, size_t cap, bool valid)
{
	static const uint32_t sz[] = { 28, 29, 36, 100, 300, 1000, 1500, 4000,
				       65507, 65508, 65535 };
	struct rng *r = &f->r;
	size_t len = pct(r, 60) ? 28 + rn(r, 600) : PICK(r, sz);

	if (len > cap)
		len = cap;
	mk_msg(m, len, pct(r, 80) ? 0x20 : 0x10, 34 + rn(r, 4), rn(r, 100));
	if (valid)
		return len;
	switch (rn(r, 8)) {
	case 0:	/* length field says more */
		m[27]++;
		break;
	case 1:	/* length field below the header */
		m[24] = m[25] = m[26] = 0;
		m[27] = rn(r, 28);
		break;
	case 2:	/* bad major version */
		m[IKETCP_IKE_OFF_VERSION] = rn(r, 256) & 0xf0;
		break;
	case 3:	/* shorter than a header */
		return rn(r, 28);
	case 4:	/* random bytes */
		for (size_t i = 0; i < len; i++)
			m[i] = rnd(r);
		break;
	}
	return len;
}

static void put_msg(struct fz *f, struct req *q, bool valid)
{
	static uint8_t m[70000];
	struct rng *r = &f->r;
	size_t len = ike_value(f, m, sizeof(m), valid), off = 0;

	if (len > 28 && pct(r, 15)) {
		/* in several attributes, to be concatenated */
		while (off < len) {
			size_t n = 1 + rn(r, len - off);

			put_attr(q, IKETCP_A_MSG, m + off, n);
			off += n;
		}
		return;
	}
	if (len > 0xffff - NLA_HDRLEN - 4) {
		/* the kernel's own split of a big message */
		put_attr(q, IKETCP_A_MSG, m, 65000);
		put_attr(q, IKETCP_A_MSG, m + 65000, len - 65000);
		return;
	}
	put_attr(q, IKETCP_A_MSG, m, len);
	if (!valid && pct(r, 10))	/* over the ceiling in total */
		put_attr(q, IKETCP_A_MSG, m, 65535 - NLA_HDRLEN - 4);
}

/* An attribute of type @t with a value of its own kind (mostly). */
static void put_typed(struct fz *f, struct req *q, uint16_t t)
{
	struct rng *r = &f->r;
	uint8_t buf[64];
	int k = t <= IKETCP_A_MAX ? akind[t] : K_NONE;

	if (pct(r, 20))
		k = rn(r, K_NEST + 1);
	switch (k) {
	case K_U8: {
		static const uint8_t b[] = { 0, 1, 2, 32, 33, 127, 128, 129, 255 };

		put_u8(q, t, pct(r, 80) ? PICK(r, b) : (uint8_t)rnd(r));
		break;
	}
	case K_U16:
		put_u16(q, t, port_value(r));
		break;
	case K_U32:
		put_u32(q, t, u32_value(f, t));
		break;
	case K_U64:
		put_u64(q, t, u64_value(f));
		break;
	case K_FLAG:
		put_attr(q, t, NULL, 0);
		break;
	case K_IP4:
		ip4_value(r, buf);
		put_attr(q, t, buf, 4);
		break;
	case K_IP6:
		ip6_value(r, buf);
		put_attr(q, t, buf, 16);
		break;
	case K_BIN:
		if (t == IKETCP_A_MSG && pct(r, 70)) {
			put_msg(f, q, pct(r, 50));
			break;
		}
		/* fall through */
	default: {
		static const uint16_t lens[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 15,
						 16, 17, 31, 64 };
		static uint8_t big[66000];
		size_t n = pct(r, 90) ? PICK(r, lens) : rn(r, sizeof(big));

		for (size_t i = 0; i < n && i < 64; i++)
			buf[i] = rnd(r);
		if (n > 64) {
			memset(big, rn(r, 256), n);
			put_attr(q, t, big, n);
		} else {
			put_attr(q, t, buf, n);
		}
		break;
	}
	case K_NEST: {
		/* a nest of garbage: sub-attributes with random types */
		struct nlattr *nest = put_attr(q, t | NLA_F_NESTED, NULL, 0);
		int n = rn(r, 4);

		for (int i = 0; nest && i < n; i++)
			put_typed(f, q, rn(r, IKETCP_A_MAX + 3));
		if (nest)
			nest->nla_len = q->b + q->len - (uint8_t *)nest;
		break;
	}
	}
}

static uint16_t attr_type(struct rng *r)
{
	switch (rn(r, 20)) {
	case 0:
		return 0;
	case 1:
		return IKETCP_A_MAX + 1 + rn(r, 8);
	case 2:
		return rnd(r);	/* with NLA_F_NESTED / byte order bits too */
	case 3:
		return (1 + rn(r, IKETCP_A_MAX)) | NLA_F_NET_BYTEORDER;
	}
	return 1 + rn(r, IKETCP_A_MAX);
}

static void put_addr(struct fz *f, struct req *q, int a4, int a6, int ap,
		     int family, bool port)
{
	uint8_t a[16];

	if (family == AF_INET) {
		ip4_value(&f->r, a);
		put_attr(q, a4, a, 4);
	} else {
		ip6_value(&f->r, a);
		put_attr(q, a6, a, 16);
	}
	if (port)
		put_u16(q, ap, 1 + rn(&f->r, 3) == 1 ? 500 :
			1 + rn(&f->r, 65535));
}

/* A well-formed request of @cmd (every attribute it needs, in range). */
static void build_valid(struct fz *f, struct req *q)
{
	struct rng *r = &f->r;
	int fam = pct(r, 60) ? AF_INET : AF_INET6;

	switch (q->cmd) {
	case IKETCP_CMD_NETNS_SET: {
		int n = 0;

		if (pct(r, 50) && ++n)
			put_u32(q, IKETCP_A_MAX_MSG_LEN, pct(r, 80) ?
				IKETCP_MAX_MSG_LEN_DEFAULT :
				28 + rn(r, 65535 - 28 + 1));
		if (pct(r, 40) && ++n)
			put_u32(q, IKETCP_A_FIRST_MSG_TIMEOUT, pct(r, 70) ?
				IKETCP_FIRST_MSG_TIMEOUT_DEFAULT :
				rn(r, 3600001));
		if (pct(r, 40) && ++n)
			put_u32(q, IKETCP_A_MSG_TIMEOUT, pct(r, 70) ?
				IKETCP_MSG_TIMEOUT_DEFAULT : rn(r, 3600001));
		if (!n || pct(r, 30))
			put_u32(q, IKETCP_A_MEM_LIMIT, pct(r, 70) ?
				IKETCP_MEM_LIMIT_DEFAULT :
				65535 + rn(r, UINT32_MAX - 65535));
		break;
	}
	case IKETCP_CMD_CONN_GET:
		if (!(q->flags & NLM_F_DUMP))
			put_u32(q, IKETCP_A_CONN_ID, 1 + rn(r, 0xfffffff0) % 0xffff);
		break;
	case IKETCP_CMD_CONN_SEND:
		put_u32(q, IKETCP_A_CONN_ID, 1);
		put_msg(f, q, true);
		break;
	case IKETCP_CMD_CONN_CLOSE:
		put_u32(q, IKETCP_A_CONN_ID, 1);
		break;
	case IKETCP_CMD_CONN_SET:
		put_u32(q, IKETCP_A_CONN_ID, 1);
		put_u32(q, IKETCP_A_FIRST_MSG_TIMEOUT, pct(r, 50) ? 0 :
			rn(r, 3600001));
		break;
	case IKETCP_CMD_FASTPATH_ADD:
		put_u32(q, IKETCP_A_CONN_ID, 1);
		put_u64(q, IKETCP_A_SPI_I, u64_value(f) | 1);
		put_u64(q, IKETCP_A_SPI_R, u64_value(f) | 1);
		put_u16(q, IKETCP_A_LOCAL_PORT, pct(r, 50) ? 500 : 4500);
		put_u16(q, IKETCP_A_REMOTE_PORT, 1 + rn(r, 65535));
		put_u64(q, IKETCP_A_RX_SEQ, rn(r, 4));
		if (pct(r, 30))
			put_attr(q, IKETCP_A_NONESP, NULL, 0);
		if (pct(r, 50))
			put_u32(q, IKETCP_A_MAX_RATE, rn(r, 1000001));
		break;
	case IKETCP_CMD_FASTPATH_DEL:
		put_u32(q, IKETCP_A_CONN_ID, 1);
		if (pct(r, 60)) {
			put_u64(q, IKETCP_A_SPI_I, u64_value(f) | 1);
			put_u64(q, IKETCP_A_SPI_R, u64_value(f) | 1);
		}
		break;
	case IKETCP_CMD_CAPTURE_ADD:
	case IKETCP_CMD_CAPTURE_DEL: {
		uint8_t a[16] = {};
		int plen = fam == AF_INET ? 32 : 128;

		/* a clean prefix: host bits zero */
		if (fam == AF_INET) {
			ip4_value(r, a);
			if (pct(r, 40)) {
				plen = PICK(r, ((const int[]){ 0, 8, 16, 24 }));
				memset(a + plen / 8, 0, 4 - plen / 8);
			}
			put_attr(q, IKETCP_A_REMOTE_IPV4, a, 4);
		} else {
			ip6_value(r, a);
			if (pct(r, 40)) {
				plen = PICK(r, ((const int[]){ 0, 8, 64, 120 }));
				memset(a + plen / 8, 0, 16 - plen / 8);
			}
			put_attr(q, IKETCP_A_REMOTE_IPV6, a, 16);
		}
		if (plen != (fam == AF_INET ? 32 : 128) || pct(r, 30))
			put_u8(q, IKETCP_A_PREFIXLEN, plen);
		if (q->cmd == IKETCP_CMD_CAPTURE_ADD && pct(r, 50))
			put_u8(q, IKETCP_A_CAPTURE, rn(r, 2));
		break;
	}
	case IKETCP_CMD_UDP_INJECT:
	case IKETCP_CMD_UDP_SEND:
		put_addr(f, q, IKETCP_A_LOCAL_IPV4, IKETCP_A_LOCAL_IPV6,
			 IKETCP_A_LOCAL_PORT, fam, true);
		put_addr(f, q, IKETCP_A_REMOTE_IPV4, IKETCP_A_REMOTE_IPV6,
			 IKETCP_A_REMOTE_PORT, fam, true);
		put_msg(f, q, true);
		if (pct(r, 30))
			put_attr(q, IKETCP_A_NONESP, NULL, 0);
		if (q->cmd == IKETCP_CMD_UDP_INJECT && shm->nif && pct(r, 30))
			put_u32(q, IKETCP_A_IFINDEX, shm->ifidx[rn(r, shm->nif)]);
		break;
	}
}

/* Replace the placeholder connection id 1 of a valid request by a hint. */
static void fix_conn_id(struct fz *f, struct req *q)
{
	struct nlattr *a;

	mnl_attr_for_each((a), (struct nlmsghdr *)q->b, GENL_HDRLEN)
		if (mnl_attr_get_type(a) == IKETCP_A_CONN_ID &&
		    mnl_attr_get_payload_len(a) == 4) {
			uint32_t id = conn_id_value(f);

			if (!id)
				id = 1;
			memcpy(mnl_attr_get_payload(a), &id, 4);
		}
}

static uint8_t pick_cmd(struct rng *r)
{
	switch (rn(r, 20)) {
	case 0:
		return 0;
	case 1:
		return __IKETCP_CMD_MAX + rn(r, 256 - __IKETCP_CMD_MAX);
	case 2:	/* notification numbers: no operation */
		return PICK(r, ((const uint8_t[]){ IKETCP_CMD_CONN_ATTACHED,
						   IKETCP_CMD_CONN_ENDED,
						   IKETCP_CMD_MSG,
						   IKETCP_CMD_UDP_CAPTURED }));
	}
	return 1 + rn(r, IKETCP_CMD_MAX);
}

static void build(struct fz *f, struct req *q, uint8_t *b, size_t cap)
{
	struct rng *r = &f->r;
	struct nlmsghdr *nlh = (void *)b;
	struct genlmsghdr *g;

	memset(q, 0, sizeof(*q));
	q->b = b;
	q->cap = cap;
	q->cmd = pick_cmd(r);
	q->flags = NLM_F_REQUEST;
	if (pct(r, 3))
		q->flags = 0;
	if (pct(r, 75))
		q->flags |= NLM_F_ACK;
	if (has_dump(q->cmd) ? pct(r, 60) : pct(r, 8))
		q->flags |= NLM_F_DUMP;
	else if (pct(r, 5))
		q->flags |= PICK(r, ((const uint16_t[]){ NLM_F_ROOT, NLM_F_MATCH,
							 NLM_F_ATOMIC, NLM_F_ECHO,
							 NLM_F_APPEND }));
	q->seq = ++f->seq;
	q->hdr_ok = true;
	q->nlen_ok = true;

	nlh->nlmsg_type = f->family;
	nlh->nlmsg_flags = q->flags;
	nlh->nlmsg_seq = q->seq;
	nlh->nlmsg_pid = pct(r, 2) ? (uint32_t)rnd(r) : 0;
	g = (void *)(b + NLMSG_HDRLEN);
	g->cmd = q->cmd;
	g->version = pct(r, 90) ? IKETCP_GENL_VERSION : rn(r, 256);
	g->reserved = pct(r, 95) ? 0 : (uint16_t)rnd(r);
	if (g->reserved)
		q->hdr_ok = false;
	/* beyond these the core refuses the header itself (EINVAL) */
	if ((q->flags & ~NLM_F_DUMP & ~(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO)) ||
	    ((q->flags & NLM_F_DUMP) && (q->flags & NLM_F_DUMP) != NLM_F_DUMP))
		q->hdr_ok = false;
	q->len = NLMSG_HDRLEN + GENL_HDRLEN;

	if ((has_do(q->cmd) || has_dump(q->cmd)) && pct(r, 45)) {
		bool dump = (q->flags & NLM_F_DUMP) == NLM_F_DUMP;

		q->valid = q->hdr_ok && (dump ? has_dump(q->cmd) :
						has_do(q->cmd));
		build_valid(f, q);
		nlh->nlmsg_len = q->len;
		fix_conn_id(f, q);
		/* now and then one attribute more, of any type */
		if (pct(r, 20)) {
			put_typed(f, q, attr_type(r));
			q->valid = false;
		}
	} else {
		int n = rn(r, 9);

		for (int i = 0; i < n; i++) {
			if (i && pct(r, 10)) {	/* the previous one again */
				size_t last = q->len;

				put_typed(f, q, attr_type(r));
				if (q->len > last && q->len + (q->len - last) <= cap) {
					memcpy(b + q->len, b + last, q->len - last);
					q->len += q->len - last;
				}
				continue;
			}
			put_typed(f, q, pct(r, 70) && q->cmd <= IKETCP_CMD_MAX ?
				  1 + rn(r, IKETCP_A_MAX) : attr_type(r));
		}
	}

	/* damage */
	if (pct(r, 8)) {
		q->valid = false;
		switch (rn(r, 5)) {
		case 0:	/* a truncated attribute header at the end */
			memset(b + q->len, 0xff, 3);
			b[q->len] = 8 + rn(r, 64);
			q->len += 1 + rn(r, 3);
			break;
		case 1:	/* an attribute claiming more than there is */
			if (q->len + 8 <= cap) {
				struct nlattr *a = (void *)(b + q->len);

				a->nla_type = 1 + rn(r, IKETCP_A_MAX);
				a->nla_len = 8 + 4 * (1 + rn(r, 100));
				memset(a + 1, 0, 4);
				q->len += 8;
			}
			break;
		case 2:	/* an attribute with a length below its header */
			if (q->len + 4 <= cap) {
				struct nlattr *a = (void *)(b + q->len);

				a->nla_type = 1 + rn(r, IKETCP_A_MAX);
				a->nla_len = rn(r, 4);
				q->len += 4;
			}
			break;
		case 3:	/* the generic netlink header cut short */
			q->len = NLMSG_HDRLEN + rn(r, GENL_HDRLEN);
			q->hdr_ok = false;
			break;
		case 4:	/* cut anywhere */
			q->len = NLMSG_HDRLEN + rn(r, q->len - NLMSG_HDRLEN + 1);
			if (q->len < NLMSG_HDRLEN + GENL_HDRLEN)
				q->hdr_ok = false;
			break;
		}
	}
	nlh->nlmsg_len = q->len;
	if (q->full)	/* not what build_valid() meant */
		q->valid = false;
	if (pct(r, 1)) {
		/* more than is sent: the kernel drops it without a word */
		nlh->nlmsg_len = q->len + 4 * (1 + rn(r, 16));
		q->nlen_ok = false;
		q->valid = false;
	}
}

/* --- sending, collecting answers, judging them --------------------------- */

struct answer {
	bool term;	/* ERROR or DONE seen */
	int err;	/* positive errno, 0 */
	bool data;	/* a message of the family answered it */
};

static void note_notification(struct fz *f, const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	struct nlattr *a;
	uint32_t id = 0;

	f->st->notifs++;
	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(a) == IKETCP_A_CONN_ID &&
		    mnl_attr_get_payload_len(a) == 4)
			id = mnl_attr_get_u32(a);
		if (mnl_attr_get_type(a) == IKETCP_A_MSG &&
		    mnl_attr_get_payload_len(a) >= 16 && f->spi_n < 8) {
			uint64_t s[2];

			memcpy(s, mnl_attr_get_payload(a), 16);
			f->spi[f->spi_n++] = s[rn(&f->r, 2)];
		}
	}
	if (!id)
		return;
	if (g->cmd == IKETCP_CMD_CONN_ATTACHED) {
		f->own[f->own_n++ % 16] = id;
		if (f->own_n > 16)
			f->own_n = 16;
		hint_add(shm->live, &shm->live_n, id);
	} else if (g->cmd == IKETCP_CMD_CONN_ENDED) {
		hint_add(shm->stale, &shm->stale_n, id);
	}
}

/* Every answer must be a well-formed message: attributes that fit. */
static void check_reply(struct fz *f, const struct nlmsghdr *nlh)
{
	const struct nlattr *a;
	size_t rem, off = NLMSG_HDRLEN + GENL_HDRLEN;

	if (nlh->nlmsg_len < off)
		fail("%s: reply of %u bytes, shorter than its headers",
		     pname[f->role], nlh->nlmsg_len);
	rem = nlh->nlmsg_len - off;
	a = (const void *)((const uint8_t *)nlh + off);
	while (rem >= NLA_HDRLEN) {
		if (a->nla_len < NLA_HDRLEN || a->nla_len > rem)
			fail("%s: reply with a broken attribute (type %u len %u, %zu left)",
			     pname[f->role], a->nla_type, a->nla_len, rem);
		if (NLA_ALIGN(a->nla_len) >= rem)
			break;
		rem -= NLA_ALIGN(a->nla_len);
		a = (const void *)((const uint8_t *)a + NLA_ALIGN(a->nla_len));
	}
}

static void send_ping(struct fz *f, uint32_t seq)
{
	char buf[64];
	struct nlmsghdr *ph = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	ph->nlmsg_type = f->family;
	ph->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	ph->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(ph, sizeof(*g));
	g->cmd = 0xff;	/* no such command: an error, at once */
	g->version = 1;
	if (send(f->fd, ph, ph->nlmsg_len, 0) < 0)
		fail("%s: netlink send: %s", pname[f->role], strerror(errno));
}

/* Read what arrives for @n requests (seqs @seq[0..n-1]) and a ping with
 * @pseq, until each of them is answered (or the ping proves that nothing
 * more comes). Returns false if answers were lost (receive overrun).
 */
static bool collect(struct fz *f, const struct req *qs, int n,
		    struct answer *ans, uint32_t pseq)
{
	long long end = now_ms() + REPLY_MS;
	bool ping_done = !pseq, lost = false;

	for (;;) {
		struct pollfd p = { .fd = f->fd, .events = POLLIN };
		bool all = ping_done;
		struct nlmsghdr *nlh;
		int len;

		for (int i = 0; i < n && all; i++)
			if (!ans[i].term && qs[i].nlen_ok &&
			    (qs[i].flags & NLM_F_REQUEST) &&
			    ((qs[i].flags & NLM_F_ACK) ||
			     (qs[i].flags & NLM_F_DUMP) == NLM_F_DUMP))
				all = false;
		if (all)
			return !lost;
		if (now_ms() > end) {
			char hex[256];

			hexdump(hex, sizeof(hex), qs[0].b, qs[0].len);
			fail("%s: no answer within %d ms (cmd %u flags %#x seq %u len %zu: %s)",
			     pname[f->role], REPLY_MS, qs[0].cmd, qs[0].flags,
			     qs[0].seq, qs[0].len, hex);
		}
		if (poll(&p, 1, 100) <= 0)
			continue;
		len = recv(f->fd, f->rx, RXBUF, MSG_DONTWAIT);
		if (len < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno != ENOBUFS)
				fail("%s: netlink recv: %s", pname[f->role],
				     strerror(errno));
			/* Answers may be gone. Until the queue is empty the
			 * socket counts as congested and the kernel drops
			 * what comes without a word: drain it, then a ping
			 * says when everything that is coming has come.
			 */
			f->st->overruns++;
			lost = true;
			while ((len = recv(f->fd, f->rx, RXBUF, MSG_DONTWAIT)) > 0 ||
			       (len < 0 && errno == ENOBUFS))
				;
			pseq = ++f->seq;
			send_ping(f, pseq);
			ping_done = false;
			for (int i = 0; i < n; i++)
				ans[i].term = true;	/* not waited for */
			continue;
		}
		for (nlh = (void *)f->rx; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			int i;

			if (nlh->nlmsg_seq == 0 && nlh->nlmsg_pid == 0 &&
			    nlh->nlmsg_type == f->family) {
				check_reply(f, nlh);
				if (!f->priv)
					fail("%s: got a notification (cmd %u)",
					     pname[f->role],
					     ((struct genlmsghdr *)
					      mnl_nlmsg_get_payload(nlh))->cmd);
				note_notification(f, nlh);
				continue;
			}
			if (pseq && nlh->nlmsg_seq == pseq &&
			    nlh->nlmsg_type == NLMSG_ERROR) {
				ping_done = true;
				continue;
			}
			for (i = 0; i < n; i++)
				if (nlh->nlmsg_seq == qs[i].seq)
					break;
			if (i == n || ans[i].term)
				continue;	/* stale, or after an overrun */
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				ans[i].term = true;
				ans[i].err = -e->error;
			} else if (nlh->nlmsg_type == NLMSG_DONE) {
				int e = 0;

				if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int))
					memcpy(&e, mnl_nlmsg_get_payload(nlh),
					       sizeof(int));
				ans[i].term = true;
				ans[i].err = -e;
			} else if (nlh->nlmsg_type == f->family) {
				check_reply(f, nlh);
				ans[i].data = true;
			}
		}
	}
}

static void judge(struct fz *f, const struct req *q, const struct answer *a)
{
	bool dump = (q->flags & NLM_F_DUMP) == NLM_F_DUMP;
	bool req = q->flags & NLM_F_REQUEST;
	const char *why = NULL;
	uint64_t allowed;
	char hex[256];

	if (a->err < 0 || a->err >= NERRNO)
		why = "errno out of range";
	else if (a->err)
		f->st->err[a->err]++;
	else if (a->term || a->data)
		f->st->ok++;
	else
		f->st->silent++;
	if (why)
		goto bad;

	if (!f->priv) {
		/* nothing but a refusal, ever */
		if (a->data) {
			why = "the unprivileged process got an answer with data";
			goto bad;
		}
		if (!req || !q->nlen_ok)
			return;	/* never executed: an ACK of 0 is no success */
		if (a->term && !a->err) {
			why = "the unprivileged process succeeded";
			goto bad;
		}
		if (!a->term)
			return;
		if (!q->hdr_ok) {
			allowed = BIT64(EPERM) | BIT64(EOPNOTSUPP) | BIT64(EINVAL);
		} else if (dump ? has_dump(q->cmd) : has_do(q->cmd)) {
			allowed = BIT64(EPERM);
		} else if (has_do(q->cmd) || has_dump(q->cmd)) {
			/* only the other kind: 6.1 checks the permission
			 * first, later kernels the kind
			 */
			allowed = BIT64(EPERM) | BIT64(EOPNOTSUPP);
		} else {
			allowed = BIT64(EOPNOTSUPP);
		}
		if (!(allowed & BIT64(a->err))) {
			why = "the unprivileged process got an unexpected errno";
			goto bad;
		}
		return;
	}

	if (!a->term || !a->err)
		return;
	if (q->hdr_ok && (q->flags & NLM_F_REQUEST) &&
	    !(dump ? has_dump(q->cmd) : has_do(q->cmd))) {
		allowed = BIT64(EOPNOTSUPP);
	} else if (q->valid) {
		allowed = err_valid(q->cmd, dump);
	} else {
		allowed = ERR_BASE;
		if (is_udp(q->cmd))
			allowed |= ERR_ROUTE;
	}
	if (!(allowed & BIT64(a->err)))
		why = "unexpected errno";
	else
		return;
bad:
	hexdump(hex, sizeof(hex), q->b, q->len);
	fail("%s: %s: %d (%s) for cmd %u flags %#x%s%s len %zu data %d: %s",
	     pname[f->role], why, a->err, strerror(a->err), q->cmd, q->flags,
	     q->valid ? " (well-formed)" : "", q->hdr_ok ? "" : " (bad header)",
	     q->len, a->data, hex);
}

/* One round: one request (sometimes two or three in one datagram). */
static void fz_round(struct fz *f)
{
	struct rng *r = &f->r;
	struct req qs[3];
	struct answer ans[3] = {};
	int n = pct(r, 5) ? 2 + rn(r, 2) : 1;
	size_t off = 0;
	uint32_t pseq = 0;
	bool need_ping = false;

	for (int i = 0; i < n; i++) {
		size_t cap = (TXBUF - off) / (n - i);

		build(f, &qs[i], f->tx + off, cap);
		if (i < n - 1 && (!qs[i].nlen_ok ||
				  qs[i].len != NLMSG_ALIGN(qs[i].len))) {
			n = i + 1;	/* only a sane message may go first */
		}
		off += NLMSG_ALIGN(qs[i].len);
		if (!(qs[i].flags & NLM_F_ACK) || !(qs[i].flags & NLM_F_REQUEST) ||
		    !qs[i].nlen_ok)
			need_ping = true;
	}
	off = NLMSG_ALIGN(off);
	if (n == 1)
		off = qs[0].len;
	f->st->reqs += n;
	if (send(f->fd, f->tx, off, 0) < 0) {
		if (errno == ENOBUFS || errno == EAGAIN)
			return;
		fail("%s: netlink send of %zu bytes: %s", pname[f->role], off,
		     strerror(errno));
	}
	if (need_ping) {
		pseq = ++f->seq;
		send_ping(f, pseq);
	}
	if (!collect(f, qs, n, ans, pseq)) {
		f->st->lost += n;
		return;
	}
	for (int i = 0; i < n; i++)
		judge(f, &qs[i], &ans[i]);
}

/* Become the helper (valid REGISTER), or stop being it (close, reopen). */
static void fz_helper_games(struct fz *f)
{
	struct rng *r = &f->r;

	if (f->helper && pct(r, 30)) {
		fz_reopen(f);	/* NETLINK_URELEASE: the helper goes */
		return;
	}
	if (!f->helper && pct(r, 50)) {
		char buf[64];
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct genlmsghdr *g;
		struct req q = { .b = (void *)buf, .cmd = IKETCP_CMD_HELPER_REGISTER,
				 .flags = NLM_F_REQUEST | NLM_F_ACK,
				 .hdr_ok = true, .valid = true, .nlen_ok = true };
		struct answer a = {};

		q.seq = ++f->seq;
		nlh->nlmsg_type = f->family;
		nlh->nlmsg_flags = q.flags;
		nlh->nlmsg_seq = q.seq;
		g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
		g->cmd = q.cmd;
		g->version = 1;
		q.len = nlh->nlmsg_len;
		f->st->reqs++;
		if (send(f->fd, buf, q.len, 0) < 0)
			fail("%s: netlink send: %s", pname[f->role], strerror(errno));
		if (!collect(f, &q, 1, &a, 0))
			return;
		judge(f, &q, &a);
		if (f->priv && a.term && !a.err) {
			f->helper = true;
			f->st->helper++;
		}
	}
}

static void fz_loop(struct fz *f, long long deadline, long max_rounds)
{
	for (long i = 0; !shm->stop && now_ms() < deadline &&
	     (max_rounds < 0 || i < max_rounds); i++) {
		if (pct(&f->r, 1))
			fz_helper_games(f);
		if (pct(&f->r, 1) && rn(&f->r, 4) == 0)
			fz_reopen(f);
		fz_round(f);
	}
}

/* --- the unprivileged process -------------------------------------------- */

static void drop_privileges(void)
{
	char line[256];
	FILE *st;

	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
		fail("dropping to uid %d: %s", NOBODY, strerror(errno));
	/* setuid() from root to non-root cleared every capability */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		fail("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	st = fopen("/proc/self/status", "r");
	while (st && fgets(line, sizeof(line), st))
		if (!strncmp(line, "CapEff:", 7) &&
		    strtoull(line + 7, NULL, 16) != 0)
			fail("capabilities left after setuid: %s", line);
	if (st)
		fclose(st);
	if (!setuid(0))
		fail("could become root again");
	/* setuid() made us non-dumpable: /proc/self would be root's */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

/* A TCP pair of its own, and the ULP on it: EPERM */
static void unpriv_attach(void)
{
	int cli, srv, ret;

	if (tcp_pair(AF_INET, &cli, &srv))
		return;
	ret = ulp_attach(srv);
	close(cli);
	close(srv);
	if (ret != -EPERM)
		fail("unprivileged ULP attach: %d (%s), want EPERM", ret,
		     strerror(-ret));
}

static void unpriv_run(uint64_t seed, long long deadline)
{
	struct fz f, g;

	/* a socket root opened (the socket's creator does not count: the
	 * sender's own capabilities do), then one of its own
	 */
	fz_init(&f, P_UNPRIV, false, seed);
	drop_privileges();
	g = f;
	g.r.s ^= 0x5555;
	fz_open(&g);
	for (long i = 0; !shm->stop && now_ms() < deadline; i++) {
		fz_round(pct(&f.r, 50) ? &f : &g);
		g.r.s = rnd(&f.r);
		if (i % 200 == 0)
			unpriv_attach();
	}
	if (!shm->st[P_UNPRIV].err[EPERM])
		fail("unprivileged fuzzer: never got EPERM in %llu requests",
		     (unsigned long long)shm->st[P_UNPRIV].reqs);
}

/* --- connection churn: the helper, and connections coming and going ------ */

struct pair {
	int cli, srv;		/* srv: the end the ULP went on */
	bool attached;
	uint64_t ino;
	uint32_t id;
	uint64_t rx;		/* messages seen for this connection */
};

#define NCEV 256
struct cev {
	uint8_t cmd;
	uint32_t id;
	uint64_t ino;
	uint16_t rport;
	uint8_t *msg;
	size_t len;
};

struct churn {
	struct rng r;
	struct cev ev[NCEV];
	int nev;
	struct iketcp_nl nl;	/* the helper's: notifications */
	struct iketcp_nl cmd;	/* requests (as iketcpd: an answer that finds
				 * the helper's socket congested is dropped)
				 */
	bool nl_open, helper;
	int lfd[2];
	int udp[4];
	struct pair p[MAXPAIRS];
	int n;
};

static void check_ulp_err(int ret, const char *what)
{
	if (ret == 0 || ret == -ESRCH || ret == -ENOTCONN)
		return;
	fail("ULP attach (%s): %d (%s)", what, ret, strerror(-ret));
}

static void churn_open_pair(struct churn *c)
{
	struct rng *r = &c->r;
	struct pair *p = &c->p[c->n];
	struct stat st;
	uint8_t m[256];
	int ret;

	if (tcp_pair_on(c->lfd[rn(r, 2)], &p->cli, &p->srv))
		return;
	shm->pairs++;
	if (pct(r, 20)) {	/* the ULP on the connecting end */
		int t = p->cli;

		p->cli = p->srv;
		p->srv = t;
	}
	if (pct(r, 10)) {	/* bytes that arrived before the attach */
		mk_msg(m, sizeof(m), 0x20, 34, 1);
		write_all(p->cli, m, 28 + rn(r, sizeof(m) - 28));
	}
	ret = ulp_attach(p->srv);
	check_ulp_err(ret, "fresh connection");
	if (ret == -ESRCH)
		shm->attach_err[ESRCH]++;
	p->attached = !ret;
	p->id = 0;
	p->rx = 0;
	p->ino = 0;
	if (!fstat(p->srv, &st))
		p->ino = st.st_ino;
	if (p->attached) {
		shm->attached++;
		ret = ulp_attach(p->srv);
		if (pct(r, 5) && ret != -EEXIST)
			fail("second ULP attach: %d, want EEXIST", ret);
	}
	c->n++;
}

static void churn_drop(struct churn *c, int i)
{
	if (c->p[i].cli >= 0)
		close(c->p[i].cli);
	if (c->p[i].srv >= 0)
		close(c->p[i].srv);
	c->p[i] = c->p[--c->n];
}

static void linger0(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

static void check_helper_err(int ret, uint64_t allowed, const char *what)
{
	if (ret >= 0 || (allowed & BIT64(-ret)))
		return;
	fail("helper %s: %d (%s)", what, ret, strerror(-ret));
}

/* Notifications are copied, and acted on once the drain is over (a
 * request from inside the callback would reuse the receive buffer).
 */
static int churn_event(const struct iketcp_event *ev, void *arg)
{
	struct churn *c = arg;
	struct cev *e;

	shm->st[P_CHURN].notifs++;
	if (c->nev >= NCEV)
		return 0;
	e = &c->ev[c->nev++];
	e->cmd = ev->cmd;
	e->id = ev->conn_id;
	e->ino = ev->ino;
	e->rport = ev->remote.port;
	e->len = ev->msg_len;
	e->msg = NULL;
	if (ev->msg_len) {
		e->msg = malloc(ev->msg_len);
		if (!e->msg)
			fail("out of memory");
		memcpy(e->msg, ev->msg, ev->msg_len);
	}
	return 0;
}

static void churn_act(struct churn *c, struct cev *ev)
{
	struct rng *r = &c->r;
	struct pair *p = NULL;
	int ret;

	for (int i = 0; i < c->n; i++)
		if ((ev->cmd == IKETCP_CMD_CONN_ATTACHED && c->p[i].ino == ev->ino) ||
		    (c->p[i].id && c->p[i].id == ev->id))
			p = &c->p[i];
	switch (ev->cmd) {
	case IKETCP_CMD_CONN_ATTACHED:
		hint_add(shm->live, &shm->live_n, ev->id);
		if (p)
			p->id = ev->id;
		if (pct(r, 10)) {
			ret = iketcp_nl_conn_set_first_msg_timeout(&c->cmd, ev->id,
								   rn(r, 2) * 20000);
			check_helper_err(ret, BIT64(ENOENT) | BIT64(ENOTCONN) |
					 BIT64(ENOBUFS), "CONN_SET");
		}
		break;
	case IKETCP_CMD_MSG:
		if (p)
			p->rx++;
		if (pct(r, 30)) {
			ret = iketcp_nl_conn_send(&c->cmd, ev->id, ev->msg, ev->len);
			check_helper_err(ret, BIT64(ENOENT) | BIT64(ENOTCONN) |
					 BIT64(ENOBUFS) | BIT64(EMSGSIZE),
					 "CONN_SEND");
			shm->echoes++;
		}
		if (p && ev->len >= 16 && pct(r, 10)) {
			struct iketcp_fastpath_req fp = {
				.conn_id = ev->id,
				.lport = pct(r, 50) ? 500 : 4500,
				.rport = ev->rport ? ev->rport : 500,
				.nonesp = pct(r, 30),
				.max_rate = rn(r, 3) * 100,
				.rx_seq = p->rx,
			};

			memcpy(&fp.spi_i, ev->msg, 8);
			memcpy(&fp.spi_r, ev->msg + 8, 8);
			fp.spi_i = be64toh(fp.spi_i);
			fp.spi_r = be64toh(fp.spi_r) ?: 1;
			ret = iketcp_nl_fastpath_add(&c->cmd, &fp);
			check_helper_err(ret, BIT64(ENOENT) | BIT64(ENOTCONN) |
					 BIT64(EAGAIN) | BIT64(ENOSPC) |
					 BIT64(ENOBUFS), "FASTPATH_ADD");
			shm->fp_adds++;
		}
		if (pct(r, 3)) {
			ret = iketcp_nl_conn_close(&c->cmd, ev->id);
			check_helper_err(ret, BIT64(ENOENT) | BIT64(EALREADY) |
					 BIT64(ENOBUFS), "CONN_CLOSE");
			shm->conn_closes++;
		}
		break;
	case IKETCP_CMD_CONN_ENDED:
		hint_add(shm->stale, &shm->stale_n, ev->id);
		break;
	}
}

static void churn_helper(struct churn *c, bool force_new)
{
	int ret;

	if (c->nl_open && force_new) {
		iketcp_nl_close(&c->nl);
		c->nl_open = c->helper = false;
		shm->st[P_CHURN].reopen++;
	}
	if (!c->nl_open) {
		ret = iketcp_nl_open(&c->nl);
		if (ret)
			fail("helper socket: %s", c->nl.err);
		iketcp_nl_set_rcvbuf(&c->nl, 4 << 20);
		c->nl_open = true;
	}
	if (!c->helper) {
		/* nothing may be left that could keep the socket congested */
		iketcp_nl_drain(&c->nl, 1 << 30, NULL, NULL, &(int){ 0 });
		ret = iketcp_nl_register(&c->nl);
		check_helper_err(ret, BIT64(EBUSY) | BIT64(ENOBUFS), "REGISTER");
		if (!ret) {
			c->helper = true;
			shm->st[P_CHURN].helper++;
		}
	}
}

static void churn_drain(struct churn *c)
{
	int ret, overruns = 0;

	if (!c->nl_open)
		return;
	c->nev = 0;
	ret = iketcp_nl_drain(&c->nl, 64, churn_event, c, &overruns);
	shm->st[P_CHURN].overruns += overruns;
	if (ret < 0 && ret != -ENOBUFS)
		fail("helper recv: %d (%s)", ret, strerror(-ret));
	for (int i = 0; i < c->nev; i++) {
		churn_act(c, &c->ev[i]);
		free(c->ev[i].msg);
	}
	c->nev = 0;
	if (overruns) {
		ret = iketcp_nl_resume(&c->cmd);
		check_helper_err(ret, BIT64(ENOBUFS), "RESUME");
	}
}

static void churn_write(struct churn *c, struct pair *p)
{
	static uint8_t m[66000];
	struct rng *r = &c->r;
	static const uint32_t sz[] = { 28, 29, 64, 200, 1000, 4000, 20000, 65507 };
	uint32_t len = pct(r, 80) ? 28 + rn(r, 400) : PICK(r, sz);

	mk_msg(m, len, pct(r, 70) ? 0x20 : 0x10, 34, rn(r, 1000));
	if (pct(r, 50))		/* an established SA: for the fast path */
		m[15] = 1;
	switch (rn(r, 12)) {
	case 0:		/* bad version */
		m[IKETCP_IKE_OFF_VERSION] = 0x30;
		shm->bad_written++;
		break;
	case 1:		/* below the header */
		m[24] = m[25] = m[26] = 0;
		m[27] = rn(r, 28);
		shm->bad_written++;
		break;
	case 2:		/* above any limit */
		m[24] = 0x7f;
		shm->bad_written++;
		break;
	case 3:		/* half of it, the rest maybe never */
		len = 1 + rn(r, len);
		break;
	default:
		shm->msgs_written++;
	}
	/* the peer may have gone: EPIPE, ECONNRESET are fine */
	if (send(p->cli, m, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
	    errno != EAGAIN && errno != EPIPE && errno != ECONNRESET &&
	    errno != ENOTCONN)
		fail("peer send: %s", strerror(errno));
}

static void churn_udp(struct churn *c)
{
	struct rng *r = &c->r;
	uint8_t m[300];
	struct sockaddr_storage ss;
	socklen_t sl;
	int k = rn(r, 4);
	int fd = c->udp[k];
	size_t len = 28 + rn(r, 200), off = 0;

	if (fd < 0)
		return;
	if (k & 1) {	/* from 4500: the non-ESP marker */
		memset(m, 0, 4);
		off = 4;
	}
	mk_msg(m + off, len, 0x20, 34, rn(r, 100));
	sl = loop_addr(k < 2 ? AF_INET : AF_INET6, &ss, pct(r, 50) ? 500 : 4500);
	if (k < 2 && pct(r, 50))
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(0x0a630002);
	sendto(fd, m, len + off, MSG_DONTWAIT, (void *)&ss, sl);
	shm->udp_sent++;
	/* and read what was injected */
	while (recv(c->udp[rn(r, 4)], m, sizeof(m), MSG_DONTWAIT) > 0)
		;
}

static int udp_bound(int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl = loop_addr(family, &ss, port);
	int fd = socket(family, SOCK_DGRAM, 0);

	if (fd >= 0 && bind(fd, (void *)&ss, sl)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void churn_run(uint64_t seed, long long deadline)
{
	struct churn *c = calloc(1, sizeof(*c));
	struct rng *r;
	char b;

	if (!c)
		fail("out of memory");
	r = &c->r;
	r->s = seed ^ 0xc4c4c4c4ULL;
	c->lfd[0] = tcp_listener(AF_INET);
	c->lfd[1] = tcp_listener(AF_INET6);
	if (c->lfd[0] < 0 || c->lfd[1] < 0)
		fail("listeners: %s", strerror(errno));
	c->udp[0] = udp_bound(AF_INET, 500);
	c->udp[1] = udp_bound(AF_INET, 4500);
	c->udp[2] = udp_bound(AF_INET6, 500);
	c->udp[3] = udp_bound(AF_INET6, 4500);
	if (iketcp_nl_open(&c->cmd))
		fail("command socket: %s", c->cmd.err);
	iketcp_nl_set_rcvbuf(&c->cmd, 1 << 20);
	churn_helper(c, false);

	while (!shm->stop && now_ms() < deadline) {
		int i = c->n ? (int)rn(r, c->n) : -1;
		struct pair *p = i >= 0 ? &c->p[i] : NULL;
		int ret;

		churn_drain(c);
		switch (rn(r, 40)) {
		case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:
			if (c->n < MAXPAIRS)
				churn_open_pair(c);
			break;
		case 8: case 9: case 10: case 11: case 12: case 13: case 14:
		case 15: case 16: case 17:
			if (p && p->cli >= 0)
				churn_write(c, p);
			break;
		case 18: case 19: case 20:	/* the peer resets */
			if (p && p->cli >= 0) {
				linger0(p->cli);
				close(p->cli);
				p->cli = -1;
				shm->resets++;
			}
			break;
		case 21: case 22:		/* the peer closes */
			if (p && p->cli >= 0) {
				close(p->cli);
				p->cli = -1;
				shm->closes++;
			}
			break;
		case 23: case 24:		/* half-close */
			if (p && p->cli >= 0) {
				shutdown(p->cli, SHUT_WR);
				shm->halfcloses++;
			}
			if (p && pct(r, 30))
				shutdown(p->srv, pct(r, 50) ? SHUT_WR : SHUT_RDWR);
			break;
		case 25: case 26: case 27:	/* the owner closes */
			if (p) {
				if (pct(r, 50))
					linger0(p->srv);
				shm->owner_closes++;
				churn_drop(c, i);
			}
			break;
		case 28:
			if (p && p->cli < 0)
				churn_drop(c, i);
			break;
		case 29:			/* the stream is the module's */
			if (p && p->attached &&
			    (recv(p->srv, &b, 1, MSG_DONTWAIT) != -1 ||
			     errno != EOPNOTSUPP))
				fail("recv on an attached socket: %s, want EOPNOTSUPP",
				     strerror(errno));
			break;
		case 30:			/* not established: ENOTCONN */
			ret = ulp_attach(c->lfd[rn(r, 2)]);
			if (ret != -ENOTCONN)
				fail("ULP on a listener: %d, want ENOTCONN", ret);
			break;
		case 31: case 32: case 33:
			churn_udp(c);
			break;
		case 34:			/* helper release, and back */
			if (pct(r, 20))
				churn_helper(c, true);
			else if (!c->helper || pct(r, 20))
				churn_helper(c, false);
			break;
		default:
			usleep(rn(r, 2000));
			break;
		}
		if (c->helper && pct(r, 2)) {
			struct iketcp_netns_info info;

			/* still the helper, or did a fuzzer take over? */
			ret = iketcp_nl_netns_get(&c->cmd, &info);
			check_helper_err(ret, BIT64(ENOBUFS), "NETNS_GET");
			if (!ret && info.helper_portid != c->nl.portid) {
				c->helper = false;
				shm->helper_lost++;
			}
		}
	}
	/* the end: everything closed, in every way */
	while (c->n) {
		if (c->p[0].cli >= 0 && pct(r, 50))
			linger0(c->p[0].cli);
		if (pct(r, 30))
			linger0(c->p[0].srv);
		churn_drop(c, 0);
	}
	churn_drain(c);
	if (c->nl_open)
		iketcp_nl_close(&c->nl);
	iketcp_nl_close(&c->cmd);
	for (int i = 0; i < 4; i++)
		if (c->udp[i] >= 0)
			close(c->udp[i]);
	close(c->lfd[0]);
	close(c->lfd[1]);
	free(c);
}

/* --- netns churn: namespaces that die with connections in them ---------- */

static void netns_child(uint64_t seed)
{
	struct rng r = { .s = seed };
	struct iketcp_nl nl;
	struct fz f;
	int outer, lfd, cli[8], srv[8], n;
	uint8_t m[200];

	/* a socket of the parent namespace, used from inside the new one */
	outer = nl_sock_open(false);
	if (new_netns())
		fail("netns child: unshare: %s", strerror(errno));
	if (helper_open(&nl))
		fail("netns child: helper: %s", nl.err);
	lfd = tcp_listener(pct(&r, 50) ? AF_INET : AF_INET6);
	n = rn(&r, 9);
	for (int i = 0; i < n; i++) {
		if (tcp_pair_on(lfd, &cli[i], &srv[i])) {
			n = i;
			break;
		}
		check_ulp_err(ulp_attach(srv[i]), "netns child");
		mk_msg(m, sizeof(m), 0x20, 34, i);
		write_all(cli[i], m, pct(&r, 70) ? sizeof(m) : 40);
		__sync_fetch_and_add(&shm->ns_conns, 1);
	}
	fz_init(&f, P_NETNS_CHILD, true, rnd(&r));
	if (pct(&r, 50)) {
		/* fuzz through the outer socket too: its namespace counts */
		if (outer >= 0) {
			close(f.fd);
			f.fd = outer;
			f.portid = nl_portid(outer);
			outer = -1;
		}
	}
	for (int i = 0, k = rn(&r, 40); i < k && !shm->stop; i++) {
		fz_round(&f);
		if (pct(&r, 10))
			iketcp_nl_drain(&nl, 16, NULL, NULL, &(int){ 0 });
	}
	switch (rn(&r, 4)) {
	case 0:
		__sync_fetch_and_add(&shm->ns_killed, 1);
		raise(SIGKILL);
		break;
	case 1:	/* the helper first, then the connections */
		iketcp_nl_close(&nl);
		for (int i = 0; i < n; i++)
			if (pct(&r, 50))
				linger0(cli[i]);
		break;
	case 2:	/* connections reset by their owner */
		for (int i = 0; i < n; i++)
			linger0(srv[i]);
		break;
	}
	_exit(0);	/* the rest goes with the process */
}

static void netns_run(uint64_t seed, long long deadline)
{
	struct rng r = { .s = seed ^ 0x4e455453ULL };

	while (!shm->stop && now_ms() < deadline) {
		pid_t pid = fork();
		long long end = now_ms() + 60000;
		int status;

		if (pid < 0)
			fail("fork: %s", strerror(errno));
		if (!pid) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			netns_child(rnd(&r));
		}
		/* the next one may start before this one is gone */
		if (pct(&r, 30))
			usleep(rn(&r, 50000));
		while (waitpid(pid, &status, WNOHANG) == 0) {
			if (now_ms() > end) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				fail("a netns child did not finish in 60 s");
			}
			usleep(5000);
		}
		if (WIFEXITED(status) && WEXITSTATUS(status))
			_exit(1);	/* it said why */
		if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
			fail("a netns child died of signal %d", WTERMSIG(status));
		__sync_fetch_and_add(&shm->ns_cycles, 1);
		rnd(&r);
	}
}

/* --- the anchor ---------------------------------------------------------- */

/*
 * Capture rules in a namespace of its own for the whole run: the module's
 * netfilter hooks stay registered there, so the fuzzers turning the hooks
 * of other namespaces on and off never flip the static keys of the
 * LOCAL_OUT hooks (nf_hooks_needed). Flipping one patches kernel text
 * through int3, and Debian 12's qemu (7.2) with multi-threaded TCG races
 * with that ("Oops: int3" in __ip6_local_out, seen in this test): an
 * emulator bug, fixed in qemu 8.1, that says nothing about the module.
 */
static void anchor_run(uint64_t seed, long long deadline)
{
	struct iketcp_ep a4 = { .family = AF_INET }, a6 = { .family = AF_INET6 };
	struct iketcp_nl nl;

	if (new_netns() || helper_open(&nl))
		fail("anchor: netns or helper");
	inet_pton(AF_INET, "192.0.2.1", &a4.addr.v4);
	inet_pton(AF_INET6, "2001:db8::1", &a6.addr.v6);
	if (iketcp_nl_capture_add(&nl, &a4, 32, true) ||
	    iketcp_nl_capture_add(&nl, &a6, 128, true))
		fail("anchor: capture rules: %s", nl.err);
	shm->anchored = 1;
	while (!shm->stop)
		usleep(100000);
	iketcp_nl_close(&nl);
}

/* --- the test process ----------------------------------------------------- */

static long debugfs_read(const char *name)
{
	char path[128], buf[32];
	long v = -1;
	int fd;

	snprintf(path, sizeof(path), "/sys/kernel/debug/iketcp/%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) > 0)
		v = atol(buf);
	close(fd);
	return v;
}

static int debugfs_write(const char *name, long v)
{
	char path[128], buf[32];
	int fd, n, ret;

	snprintf(path, sizeof(path), "/sys/kernel/debug/iketcp/%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	n = snprintf(buf, sizeof(buf), "%ld", v);
	ret = write(fd, buf, n) == n ? 0 : -1;
	close(fd);
	return ret;
}

static uint64_t seed_value(void)
{
	const char *s = getenv("NLFUZZ_SEED") ?: getenv("IKETCP_NLFUZZ_SEED");
	struct timespec ts;

	if (opt_seed_set)
		return opt_seed;
	if (s && *s)
		return strtoull(s, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000003ULL ^ ts.tv_nsec ^ getpid();
}

static void *shm_new(void)
{
	void *p = mmap(NULL, sizeof(struct shm), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static pid_t spawn(void (*fn)(uint64_t, long long), uint64_t seed,
		   long long deadline)
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fn(seed, deadline);
		_exit(0);
	}
	return pid;
}

static void priv0_run(uint64_t seed, long long deadline)
{
	struct fz f;

	fz_init(&f, P_PRIV0, true, seed);
	fz_loop(&f, deadline, -1);
}

static void priv1_run(uint64_t seed, long long deadline)
{
	struct fz f;

	fz_init(&f, P_PRIV1, true, seed ^ 0xabcdef);
	fz_loop(&f, deadline, -1);
}

static void veth_setup(void)
{
	static const char *const names[] = { "lo", "nlfz0", "nlfz1" };

	/* optional: more interfaces (and addresses) to refer to */
	int ret;

	ret = system("ip link add nlfz0 type veth peer name nlfz1 2>/dev/null &&"
		    " ip addr add 10.99.0.1/24 dev nlfz0 &&"
		    " ip addr add 10.99.0.2/24 dev nlfz1 &&"
		    " ip addr add fd00:99::1/64 dev nlfz0 nodad &&"
		    " ip addr add fd00:99::2/64 dev nlfz1 nodad &&"
		    " ip link set nlfz0 up && ip link set nlfz1 up");
	(void)ret;
	shm->nif = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int idx = if_nametoindex(names[i]);

		if (idx > 0)
			shm->ifidx[shm->nif++] = idx;
	}
}

static void print_stats(long long ms)
{
	uint64_t total = 0;

	for (int p = 0; p < NPROC; p++) {
		struct pstat *s = &shm->st[p];
		char errs[512] = "";
		size_t o = 0;

		total += s->reqs;
		for (int e = 1; e < NERRNO; e++)
			if (s->err[e] && o + 32 < sizeof(errs))
				o += snprintf(errs + o, sizeof(errs) - o, " %s:%llu",
					      strerrorname_np(e) ?: "?",
					      (unsigned long long)s->err[e]);
		if (!s->reqs && !s->notifs && !s->helper)
			continue;
		ksft_print_msg("nlfuzz: %-20s %8llu requests (%llu/s): ok %llu, silent %llu, lost %llu, errors%s; %llu notifications, %llu overruns, helper %llu times, %llu reopens\n",
			       pname[p], (unsigned long long)s->reqs,
			       (unsigned long long)(ms ? s->reqs * 1000 / ms : 0),
			       (unsigned long long)s->ok,
			       (unsigned long long)s->silent,
			       (unsigned long long)s->lost, errs,
			       (unsigned long long)s->notifs,
			       (unsigned long long)s->overruns,
			       (unsigned long long)s->helper,
			       (unsigned long long)s->reopen);
	}
	ksft_print_msg("nlfuzz: %llu requests in %lld ms: %llu commands/s\n",
		       (unsigned long long)total, ms,
		       (unsigned long long)(ms ? total * 1000 / ms : 0));
	ksft_print_msg("nlfuzz: churn: %llu pairs, %llu attached (%llu ESRCH), %llu messages + %llu bad written, %llu resets, %llu closes, %llu half-closes, %llu owner closes, %llu echoes, %llu fast path adds, %llu CONN_CLOSE, %llu UDP sent, helper lost %llu times\n",
		       (unsigned long long)shm->pairs,
		       (unsigned long long)shm->attached,
		       (unsigned long long)shm->attach_err[ESRCH],
		       (unsigned long long)shm->msgs_written,
		       (unsigned long long)shm->bad_written,
		       (unsigned long long)shm->resets,
		       (unsigned long long)shm->closes,
		       (unsigned long long)shm->halfcloses,
		       (unsigned long long)shm->owner_closes,
		       (unsigned long long)shm->echoes,
		       (unsigned long long)shm->fp_adds,
		       (unsigned long long)shm->conn_closes,
		       (unsigned long long)shm->udp_sent,
		       (unsigned long long)shm->helper_lost);
	ksft_print_msg("nlfuzz: netns: %llu namespaces (%llu killed), %llu connections in them\n",
		       (unsigned long long)shm->ns_cycles,
		       (unsigned long long)shm->ns_killed,
		       (unsigned long long)shm->ns_conns);
}

FIXTURE(nlfuzz) {
	int unused;
};

FIXTURE_SETUP(nlfuzz)
{
	shm = shm_new();
	ASSERT_NE(NULL, shm);
}

FIXTURE_TEARDOWN(nlfuzz)
{
	if (shm)
		munmap(shm, sizeof(*shm));
}

/* Every command number, do and dump, from uid nobody: refused. */
TEST_F(nlfuzz, unprivileged_every_command)
{
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (!pid) {
		struct fz f;
		struct req q;
		struct answer a;

		fz_init(&f, P_UNPRIV, false, 1);
		drop_privileges();
		fz_reopen(&f);
		for (int cmd = 0; cmd < 256; cmd++) {
			for (int dump = 0; dump < 2; dump++) {
				struct nlmsghdr *nlh;
				struct genlmsghdr *g;

				memset(&a, 0, sizeof(a));
				q = (struct req){ .b = f.tx, .cmd = cmd,
					.flags = NLM_F_REQUEST | NLM_F_ACK |
						 (dump ? NLM_F_DUMP : 0),
					.seq = ++f.seq, .hdr_ok = true,
					.nlen_ok = true };
				nlh = mnl_nlmsg_put_header(f.tx);
				nlh->nlmsg_type = f.family;
				nlh->nlmsg_flags = q.flags;
				nlh->nlmsg_seq = q.seq;
				g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
				g->cmd = cmd;
				g->version = 1;
				/* what a privileged request would carry */
				mnl_attr_put_u32(nlh, IKETCP_A_CONN_ID,
						 hint_get(&f.r, shm->live,
							  &shm->live_n));
				q.len = nlh->nlmsg_len;
				if (send(f.fd, f.tx, q.len, 0) < 0)
					fail("send: %s", strerror(errno));
				collect(&f, &q, 1, &a, 0);
				judge(&f, &q, &a);
				if (!a.term)
					fail("cmd %d: no answer", cmd);
			}
		}
		unpriv_attach();
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status) TH_LOG("%s", shm->why);
	TH_LOG("%llu refused with EPERM, %llu with EOPNOTSUPP",
	       (unsigned long long)shm->st[P_UNPRIV].err[EPERM],
	       (unsigned long long)shm->st[P_UNPRIV].err[EOPNOTSUPP]);
	/* 15 do and 2 dump operations; the other kind of the same commands
	 * EPERM on 6.1, EOPNOTSUPP later; every other number EOPNOTSUPP
	 */
	EXPECT_LE(17, shm->st[P_UNPRIV].err[EPERM]);
	EXPECT_EQ(512, shm->st[P_UNPRIV].err[EPERM] +
		  shm->st[P_UNPRIV].err[EOPNOTSUPP]);
}

/* Root of its own user namespace (and netns): still nothing; the ULP
 * attach passes the netns capability check, and finds no helper.
 */
TEST_F(nlfuzz, userns_root_gets_nothing)
{
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (!pid) {
		struct fz f;
		int cli, srv, ret, fd;
		char map[64];

		drop_privileges();
		if (unshare(CLONE_NEWUSER | CLONE_NEWNET))
			_exit(KSFT_SKIP);
		snprintf(map, sizeof(map), "0 %d 1", NOBODY);
		fd = open("/proc/self/uid_map", O_WRONLY);
		if (fd < 0 || write(fd, map, strlen(map)) < 0)
			fail("uid_map: %s", strerror(errno));
		close(fd);
		fz_init(&f, P_UNPRIV, false, 7);
		fz_loop(&f, now_ms() + 3000, 500);
		if (new_netns())
			fail("netns of the user namespace: %s", strerror(errno));
		ret = tcp_pair(AF_INET, &cli, &srv) ? -errno : ulp_attach(srv);
		if (ret != -ESRCH)
			fail("ULP attach as userns root: %d (%s), want ESRCH",
			     ret, strerror(-ret));
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (WIFEXITED(status) && WEXITSTATUS(status) == KSFT_SKIP)
		SKIP(return, "no unprivileged user namespaces");
	EXPECT_EQ(0, status) TH_LOG("%s", shm->why);
	EXPECT_LT(0, shm->st[P_UNPRIV].err[EPERM]);
}

/* The mixed run: fuzzers, connection churn, netns churn, for opt_time s. */
TEST_F_TIMEOUT(nlfuzz, mixed, 600)
{
	long conns0 = debugfs_read("conns_alive"), nets0, conns1, nets1;
	uint64_t seed = seed_value();
	long long t0 = now_ms(), deadline = t0 + opt_time * 1000LL, end;
	void (*const fns[])(uint64_t, long long) = {
		[P_PRIV0] = priv0_run, [P_PRIV1] = priv1_run,
		[P_UNPRIV] = unpriv_run, [P_CHURN] = churn_run,
		[P_NETNS] = netns_run,
	};
	pid_t pids[P_NETNS + 1], anchor;
	struct iketcp_netns_info info;
	struct rng knobs = { .s = seed ^ 0x6b6e6f62ULL };
	struct iketcp_nl nl;
	int status, ret;

	ksft_print_msg("nlfuzz: seed %llu, %ld s (replay: NLFUZZ_SEED=%llu NLFUZZ_TIME=%ld)\n",
		       (unsigned long long)seed, opt_time,
		       (unsigned long long)seed, opt_time);
	/* namespaces of earlier tests may still be on their way out */
	nets0 = debugfs_read("nets_alive");
	for (int same = 0; nets0 >= 0 && same < 20 && now_ms() < t0 + 60000;) {
		usleep(100000);
		nets1 = debugfs_read("nets_alive");
		same = nets1 == nets0 ? same + 1 : 0;
		nets0 = nets1;
	}
	t0 = now_ms();
	deadline = t0 + opt_time * 1000LL;
	ASSERT_EQ(0, new_netns());
	nets0 = debugfs_read("nets_alive");
	veth_setup();

	anchor = spawn(anchor_run, 0, deadline);
	ASSERT_LT(0, anchor);
	for (end = now_ms() + 30000; !shm->anchored && !shm->failed &&
	     now_ms() < end;)
		usleep(10000);
	ASSERT_EQ(1, shm->anchored) TH_LOG("%s", shm->why);
	for (int p = 0; p <= P_NETNS; p++) {
		pids[p] = spawn(fns[p], seed + p, deadline);
		ASSERT_LT(0, pids[p]);
	}
	for (long long next = t0 + 60000; !shm->failed && now_ms() < deadline;) {
		usleep(200000);
		/* IKETCP_DEBUG builds: now and then widen the races of an
		 * abort with a close, and of a helper's release with the
		 * commands after it
		 */
		if (conns0 >= 0 && pct(&knobs, 10))
			debugfs_write("abort_delay_ms", pct(&knobs, 50) ? 0 :
				      rn(&knobs, 100));
		if (conns0 >= 0 && pct(&knobs, 10))
			debugfs_write("urelease_delay_ms", pct(&knobs, 50) ? 0 :
				      rn(&knobs, 50));
		if (now_ms() >= next) {
			ksft_print_msg("nlfuzz: %lld s, %llu requests so far\n",
				       (now_ms() - t0) / 1000,
				       (unsigned long long)(shm->st[P_PRIV0].reqs +
							    shm->st[P_PRIV1].reqs +
							    shm->st[P_UNPRIV].reqs));
			next += 60000;
		}
	}
	shm->stop = 1;
	debugfs_write("abort_delay_ms", 0);
	debugfs_write("urelease_delay_ms", 0);
	end = now_ms() + 120000;
	for (int p = 0; p <= P_NETNS; p++) {
		while ((ret = waitpid(pids[p], &status, WNOHANG)) == 0 &&
		       now_ms() < end)
			usleep(20000);
		if (ret == 0) {
			kill(pids[p], SIGKILL);
			waitpid(pids[p], &status, 0);
			EXPECT_EQ(0, 1) TH_LOG("%s did not stop", pname[p]);
		} else {
			EXPECT_EQ(0, status) TH_LOG("%s: exit status %#x", pname[p],
						    status);
		}
	}
	waitpid(anchor, &status, 0);
	print_stats(now_ms() - t0);
	ASSERT_EQ(0, shm->failed) TH_LOG("%s (seed %llu)", shm->why,
					 (unsigned long long)seed);

	/* Everything closed: the module must have forgotten everything */
	ASSERT_EQ(0, iketcp_nl_open(&nl));
	end = now_ms() + 30000;
	do {
		ASSERT_EQ(0, iketcp_nl_netns_get(&nl, &info));
		if (!info.stats[IKETCP_NS_STAT_CONNS] &&
		    !info.stats[IKETCP_NS_STAT_HELD] &&
		    !info.stats[IKETCP_NS_STAT_MEM_USED] && !info.helper_portid)
			break;
		usleep(100000);
	} while (now_ms() < end);
	TH_LOG("netns: %llu connections attached in all, %llu aborts, %llu first-message timeouts, %llu message timeouts, %llu captured, %llu injected, %llu UDP sent, %llu fast path messages",
	       (unsigned long long)info.stats[IKETCP_NS_STAT_CONNS_TOTAL],
	       (unsigned long long)info.stats[IKETCP_NS_STAT_ABORTS],
	       (unsigned long long)info.stats[IKETCP_NS_STAT_FIRST_MSG_TIMEOUTS],
	       (unsigned long long)info.stats[IKETCP_NS_STAT_MSG_TIMEOUTS],
	       (unsigned long long)info.stats[IKETCP_NS_STAT_CAPTURED],
	       (unsigned long long)info.stats[IKETCP_NS_STAT_INJECTED],
	       (unsigned long long)info.stats[IKETCP_NS_STAT_UDP_SENT],
	       (unsigned long long)info.stats[IKETCP_NS_STAT_FAST_MSGS]);
	EXPECT_EQ(0, info.stats[IKETCP_NS_STAT_CONNS]);
	EXPECT_EQ(0, info.stats[IKETCP_NS_STAT_HELD]);
	EXPECT_EQ(0, info.stats[IKETCP_NS_STAT_MEM_USED]);
	EXPECT_EQ(0, info.helper_portid);
	EXPECT_LT(0, info.stats[IKETCP_NS_STAT_CONNS_TOTAL]);
	iketcp_nl_close(&nl);

	if (conns0 < 0 || nets0 < 0) {
		TH_LOG("no debugfs counters (IKETCP_DEBUG build): not checked");
		return;
	}
	/* the namespaces die in the background (cleanup_net) */
	end = now_ms() + 180000;
	do {
		conns1 = debugfs_read("conns_alive");
		nets1 = debugfs_read("nets_alive");
		if (conns1 == conns0 && nets1 == nets0)
			break;
		usleep(200000);
	} while (now_ms() < end);
	TH_LOG("conns_alive %ld (before %ld), nets_alive %ld (before %ld)",
	       conns1, conns0, nets1, nets0);
	EXPECT_EQ(conns0, conns1);
	EXPECT_EQ(nets0, nets1);
}

int main(int argc, char **argv)
{
	const char *t = getenv("NLFUZZ_TIME") ?: getenv("IKETCP_NLFUZZ_TIME");
	int i = 1;

	if (t && *t)
		opt_time = atol(t);
	while (i + 1 < argc) {
		if (!strcmp(argv[i], "--seed")) {
			opt_seed = strtoull(argv[i + 1], NULL, 0);
			opt_seed_set = true;
		} else if (!strcmp(argv[i], "--time")) {
			opt_time = atol(argv[i + 1]);
		} else {
			break;
		}
		i += 2;
	}
	argv[i - 1] = argv[0];
	if (opt_time < 1)
		opt_time = 1;
	/* the harness's limit follows the run's length */
	_nlfuzz_mixed_object->timeout = opt_time + 600;
	return test_harness_run(argc - i + 1, argv + i - 1);
}
