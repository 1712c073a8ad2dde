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
static FILE *log_out;
static struct log_rl_state *rl_list;

static long long log_clock_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static long long (*log_clock)(void) = log_clock_mono;

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

static void log_vmsg(int level, const char *fmt, va_list ap)
{
	FILE *out = log_out ? log_out : stderr;
	struct timespec ts;

	if (log_stderr) {
		clock_gettime(CLOCK_REALTIME, &ts);
		fprintf(out, "%lld.%03ld iketcpd[%s]: ", (long long)ts.tv_sec,
			ts.tv_nsec / 1000000, log_level_name(level));
		vfprintf(out, fmt, ap);
		fputc('\n', out);
		fflush(out);
	} else {
		vsyslog(level, fmt, ap);
	}
}

/**
 * log_msg() - log one line
 * @level: syslog level
 * @fmt: printf format
 */
void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_lvl)
		return;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

/**
 * log_set_output() - where foreground logging goes
 * @f: the stream (NULL: stderr)
 */
void log_set_output(FILE *f)
{
	log_out = f;
}

/**
 * log_set_clock() - the clock of the rate limits (tests)
 * @clock_ms: a monotonic clock in ms (NULL: CLOCK_MONOTONIC)
 */
void log_set_clock(long long (*clock_ms)(void))
{
	log_clock = clock_ms ? clock_ms : log_clock_mono;
}

static void rl_summary(struct log_rl_state *rl)
{
	if (!rl->suppressed)
		return;
	log_msg(rl->level, "%u messages suppressed (rate limit) like: %s",
		rl->suppressed, rl->fmt);
	rl->suppressed = 0;
}

/* a new period: the call site may log LOG_RL_BURST lines again */
static void rl_refill(struct log_rl_state *rl, long long now)
{
	if (!rl->init || now - rl->last >= LOG_RL_PERIOD_MS) {
		rl->init = true;
		rl->tokens = LOG_RL_BURST;
		rl->last = now;
	}
}

/**
 * log_rl_msg() - log one line, rate-limited per call site (log_rl())
 * @rl: the call site's state (static, zeroed)
 * @level: syslog level
 * @fmt: printf format
 */
void log_rl_msg(struct log_rl_state *rl, int level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_lvl)
		return;
	rl_refill(rl, log_clock());
	if (rl->tokens < 1) {
		rl->suppressed++;
		rl->level = level;
		rl->fmt = fmt;
		if (!rl->listed) {
			rl->listed = true;
			rl->next = rl_list;
			rl_list = rl;
		}
		return;
	}
	rl->tokens -= 1;
	rl_summary(rl);
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

/**
 * log_rl_flush() - the summaries of call sites that may log again
 *
 * Called now and then (the daemon's timer): a flood that stopped still
 * gets its "N messages suppressed" line.
 */
void log_rl_flush(void)
{
	struct log_rl_state **pp = &rl_list, *rl;
	long long now = log_clock();

	while ((rl = *pp)) {
		rl_refill(rl, now);
		if (rl->suppressed && rl->tokens < 1) {
			pp = &rl->next;
			continue;
		}
		if (rl->suppressed) {
			rl->tokens -= 1;
			rl_summary(rl);
		}
		rl->listed = false;
		*pp = rl->next;
	}
}
