// SPDX-License-Identifier: GPL-2.0
/*
 * debug.c - fault triggers for testing the test harness itself, built only
 * with IKETCP_DEBUG=y (never in a release build). Writing to
 * /sys/kernel/debug/iketcp/warn makes the module WARN, which must turn a
 * vmrun.sh run red. conns_alive and nets_alive count the connection and
 * per-netns structures not yet freed (leak tests); abort_delay_ms delays
 * the RST after a framing violation (widens the race with a close);
 * fail_conn_id makes the next attach fail after strp_init() (error path);
 * urelease_delay_ms delays forgetting a closing helper (port id reuse).
 */
#include <linux/debugfs.h>
#include <linux/fs.h>

#include "iketcp.h"

static struct dentry *iketcp_debug_dir;
atomic_t iketcp_debug_conns_alive = ATOMIC_INIT(0);
atomic_t iketcp_debug_nets_alive = ATOMIC_INIT(0);
u32 iketcp_debug_abort_delay_ms;
bool iketcp_debug_fail_conn_id_once;
u32 iketcp_debug_urelease_delay_ms;

static ssize_t iketcp_debug_warn_write(struct file *file,
				       const char __user *buf, size_t len,
				       loff_t *ppos)
{
	WARN(1, "WARN triggered through debugfs\n");
	return len;
}

static const struct file_operations iketcp_debug_warn_fops = {
	.owner = THIS_MODULE,
	.write = iketcp_debug_warn_write,
	.llseek = noop_llseek,
};

/**
 * iketcp_debug_init() - create /sys/kernel/debug/iketcp/
 *
 * Return: 0 (debugfs failures are not fatal).
 */
int iketcp_debug_init(void)
{
	iketcp_debug_dir = debugfs_create_dir("iketcp", NULL);
	debugfs_create_file("warn", 0200, iketcp_debug_dir, NULL,
			    &iketcp_debug_warn_fops);
	debugfs_create_atomic_t("conns_alive", 0400, iketcp_debug_dir,
				&iketcp_debug_conns_alive);
	debugfs_create_atomic_t("nets_alive", 0400, iketcp_debug_dir,
				&iketcp_debug_nets_alive);
	debugfs_create_u32("abort_delay_ms", 0600, iketcp_debug_dir,
			   &iketcp_debug_abort_delay_ms);
	debugfs_create_bool("fail_conn_id", 0600, iketcp_debug_dir,
			    &iketcp_debug_fail_conn_id_once);
	debugfs_create_u32("urelease_delay_ms", 0600, iketcp_debug_dir,
			   &iketcp_debug_urelease_delay_ms);
	return 0;
}

/**
 * iketcp_debug_exit() - remove /sys/kernel/debug/iketcp/
 */
void iketcp_debug_exit(void)
{
	debugfs_remove_recursive(iketcp_debug_dir);
}
