/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log.h - iketcpd logging: levels, to stderr (foreground) or syslog.
 */
#ifndef IKETCP_LOG_H
#define IKETCP_LOG_H

#include <stdbool.h>
#include <syslog.h>

void log_init(bool to_stderr, int level);
void log_set_level(int level);
int log_level_parse(const char *s);
const char *log_level_name(int level);
void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

/* (placeholder until the rate-limited logger lands: same signature) */
#ifndef log_rl
#define log_rl(level, ...)	log_msg(level, __VA_ARGS__)
#endif

#endif /* IKETCP_LOG_H */
