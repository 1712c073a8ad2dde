/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - the differences between the kernels iketcp builds for
 * (Debian 6.1 and 6.12). They live here and nowhere else; the IKETCP_HAVE_*
 * macros come from the feature probes in compat.mk.
 */
#ifndef IKETCP_COMPAT_H
#define IKETCP_COMPAT_H

#include <linux/workqueue.h>
#include <net/sock.h>

#ifdef IKETCP_HAVE_PROTO_SENDPAGE
/* struct proto still has sendpage (replaced by MSG_SPLICE_PAGES in 6.5):
 * sendfile() onto an attached socket must not bypass the ULP.
 */
static inline int iketcp_compat_sendpage(struct sock *sk, struct page *page,
					 int offset, size_t size, int flags)
{
	return -EOPNOTSUPP;
}

static inline void iketcp_compat_refuse_sendpage(struct proto *prot)
{
	prot->sendpage = iketcp_compat_sendpage;
}
#else
static inline void iketcp_compat_refuse_sendpage(struct proto *prot)
{
}
#endif

#ifndef IKETCP_HAVE_DISABLE_WORK_SYNC
/* No disable_work_sync(): callers make sure nothing queues the work again
 * (the socket callbacks that do are restored first).
 */
static inline bool iketcp_compat_disable_work_sync(struct work_struct *work)
{
	return cancel_work_sync(work);
}

static inline bool
iketcp_compat_disable_delayed_work_sync(struct delayed_work *dwork)
{
	return cancel_delayed_work_sync(dwork);
}
#else
static inline bool iketcp_compat_disable_work_sync(struct work_struct *work)
{
	return disable_work_sync(work);
}

static inline bool
iketcp_compat_disable_delayed_work_sync(struct delayed_work *dwork)
{
	return disable_delayed_work_sync(dwork);
}
#endif

#endif /* IKETCP_COMPAT_H */
