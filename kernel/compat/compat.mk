# SPDX-License-Identifier: GPL-2.0
#
# Feature probes for kernel/compat/compat.h. Kernel-version differences are
# detected here, from the headers of the kernel being built against (so a
# stable or distribution backport is seen as what it is), and nowhere else.

iketcp_probe = $(shell grep -qsE '$($(1))' $(srctree)/$(2) && echo -D$(3))

# 6.10: disable_work_sync()
iketcp_re_disable_work := bool disable_work_sync[(]
ccflags-y += $(call iketcp_probe,iketcp_re_disable_work,include/linux/workqueue.h,IKETCP_HAVE_DISABLE_WORK_SYNC)
# until 6.5: struct proto::sendpage (then MSG_SPLICE_PAGES)
iketcp_re_sendpage := [(][*]sendpage[)][(]struct sock [*]sk
ccflags-y += $(call iketcp_probe,iketcp_re_sendpage,include/net/sock.h,IKETCP_HAVE_PROTO_SENDPAGE)
