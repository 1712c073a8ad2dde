/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log.h - iketcpd logging: levels, to stderr (foreground) or syslog.
 */
#ifndef IKETCP_LOG_H
#define IKETCP_LOG_H

#include <stdbool.h>
#include <stdio.h>
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

/**
 * struct log_rl_state - the rate limit of one log_rl() call site
 * @tokens: lines it may still log in this period (refilled each period)
 * @last: start of this period (ms)
 * @suppressed: messages not logged since the last one logged
 * @level: their level (for the summary)
 * @fmt: the call site's format (for the summary)
 * @next: call sites with suppressed messages (log_rl_flush)
 * @listed: on that list
 * @init: @tokens was set
 */
struct log_rl_state {
	int tokens;
	long long last;
	unsigned int suppressed;
	int level;
	const char *fmt;
	struct log_rl_state *next;
	bool listed;
	bool init;
};

#define LOG_RL_BURST	10	/* messages at once per call site ... */
#define LOG_RL_PERIOD_MS 5000	/* ... refilled over this time */

void log_rl_msg(struct log_rl_state *rl, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_rl_flush(void);
void log_set_output(FILE *f);
void log_set_clock(long long (*clock_ms)(void));

/*
 * log_rl() - log a line caused by a remote event: at most LOG_RL_BURST
 * lines per period of LOG_RL_PERIOD_MS from one call site; what is
 * suppressed is summed up in one line "N messages suppressed" when the
 * next period begins (at its next line, or log_rl_flush()).
 */
#define log_rl(level, ...) do {						\
		static struct log_rl_state log_rl_site_;			\
		log_rl_msg(&log_rl_site_, level, __VA_ARGS__);		\
	} while (0)

#endif /* IKETCP_LOG_H */
