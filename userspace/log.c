// SPDX-License-Identifier: GPL-2.0
/*
 * log.c - iketcpd logging.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static bool log_stderr = true;
static int log_lvl = LOG_INFO;

static const struct {
	const char *name;
	int level;
} log_levels[] = {
	{ "error", LOG_ERR },
	{ "warning", LOG_WARNING },
	{ "notice", LOG_NOTICE },
	{ "info", LOG_INFO },
	{ "debug", LOG_DEBUG },
};

/**
 * log_init() - choose the destination and the level
 * @to_stderr: stderr (with timestamps) instead of syslog
 * @level: LOG_ERR..LOG_DEBUG
 */
void log_init(bool to_stderr, int level)
{
	log_stderr = to_stderr;
	log_lvl = level;
	if (!to_stderr)
		openlog("iketcpd", LOG_PID, LOG_DAEMON);
}

/**
 * log_set_level() - change the level (config reload)
 * @level: LOG_ERR..LOG_DEBUG
 */
void log_set_level(int level)
{
	log_lvl = level;
}

/**
 * log_level_parse() - a level name
 * @s: "error", "warning", "notice", "info" or "debug"
 *
 * Return: the syslog level, or -1.
 */
int log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(*log_levels); i++)
		if (!strcmp(s, log_levels[i].name))
			return log_levels[i].level;
	return -1;
}

/**
 * log_level_name() - the name of a level
 * @level: syslog level
 *
 * Return: a static string.
 */
const char *log_level_name(int level)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(*log_levels); i++)
		if (level == log_levels[i].level)
			return log_levels[i].name;
	return "?";
}

/**
 * log_msg() - log one line
 * @level: syslog level
 * @fmt: printf format
 */
void log_msg(int level, const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;

	if (level > log_lvl)
		return;
	va_start(ap, fmt);
	if (log_stderr) {
		clock_gettime(CLOCK_REALTIME, &ts);
		fprintf(stderr, "%lld.%03ld iketcpd[%s]: ", (long long)ts.tv_sec,
			ts.tv_nsec / 1000000, log_level_name(level));
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		fflush(stderr);
	} else {
		vsyslog(level, fmt, ap);
	}
	va_end(ap);
}
