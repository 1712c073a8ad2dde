// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - module init and exit: register the pieces, unwind in reverse.
 *
 * iketcp carries IKE over TCP port 500 (draft-nir-ipsecme-ike-tcp, the
 * "raw IKE over TCP" of Check Point gateways) for unmodified IKE daemons.
 */
#include <linux/module.h>
#include <net/genetlink.h>

#include "iketcp.h"

static int __init iketcp_init(void)
{
	int err;

	err = iketcp_netns_init();
	if (err)
		return err;
	err = iketcp_nl_init();
	if (err)
		goto err_netns;
	err = iketcp_ulp_init();
	if (err)
		goto err_nl;
	err = iketcp_debug_init();
	if (err)
		goto err_ulp;
	pr_info("IKE over TCP (raw framing) loaded\n");
	return 0;

err_ulp:
	iketcp_ulp_exit();
err_nl:
	iketcp_nl_exit();
err_netns:
	iketcp_netns_exit();
	return err;
}

static void __exit iketcp_exit(void)
{
	iketcp_debug_exit();
	iketcp_ulp_exit();
	iketcp_nl_exit();
	iketcp_netns_exit();
}

module_init(iketcp_init);
module_exit(iketcp_exit);

MODULE_DESCRIPTION("IKE over TCP: TCP ULP framing IKE messages for a userspace helper");
MODULE_AUTHOR("iketcp developers");
MODULE_LICENSE("GPL");
#ifdef IKETCP_VERSION
MODULE_VERSION(IKETCP_VERSION);
#endif
/* No MODULE_ALIAS_GENL_FAMILY: anyone may look a family up by name, which
 * would load the module; the helper (or its unit) loads it with modprobe.
 */
