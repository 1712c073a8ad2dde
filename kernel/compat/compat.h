/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - the differences between the kernels iketcp builds for
 * (Debian 6.1 and 6.12). Version tests live here and nowhere else.
 */
#ifndef IKETCP_COMPAT_H
#define IKETCP_COMPAT_H

#include <linux/version.h>
#include <linux/workqueue.h>
#include <net/sock.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
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

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 10, 0)
/* No disable_work_sync(): callers make sure nothing queues the work again
 * (the socket callbacks that do are restored first).
 */
static inline bool iketcp_compat_disable_work_sync(struct work_struct *work)
{
	return cancel_work_sync(work);
}
#else
static inline bool iketcp_compat_disable_work_sync(struct work_struct *work)
{
	return disable_work_sync(work);
}
#endif

#endif /* IKETCP_COMPAT_H */
