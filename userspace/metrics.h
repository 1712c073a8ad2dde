/* SPDX-License-Identifier: GPL-2.0 */
/*
 * metrics.h - iketcpctl metrics: iketcpd's status (its JSON answer) and
 * the module's counters in the Prometheus text exposition format 0.0.4
 * (for node_exporter's textfile collector).
 */
#ifndef IKETCP_METRICS_H
#define IKETCP_METRICS_H

#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

#include "nl.h"

/**
 * struct metrics_label - one label of a sample
 * @name: its name (a valid label name: the caller's constant)
 * @value: its value (any string: escaped on output)
 */
struct metrics_label {
	const char *name;
	const char *value;
};

/**
 * struct metrics_writer - writes metric families, each once
 * @f: where to
 * @family: the family samples go to now, NULL: none (samples refused)
 * @seen: the names of the families written so far
 * @nseen: how many
 * @cap: room in @seen
 * @errors: families refused (bad name, written before) and samples refused
 */
struct metrics_writer {
	FILE *f;
	const char *family;
	char **seen;
	int nseen;
	int cap;
	int errors;
};

/**
 * struct metrics_input - what is exposed
 * @status: iketcpd's "status-json" answer, NULL: iketcpd not reachable
 * @ns: the module's netns counters, NULL: the module does not answer
 * @conns: the module's connections (dump entries)
 * @nconns: how many
 * @now: the current time (Unix seconds): ages become timestamps
 */
struct metrics_input {
	json_object *status;
	const struct iketcp_netns_info *ns;
	const struct iketcp_event *conns;
	int nconns;
	long long now;
};

bool metrics_name_ok(const char *name);
void metrics_put_label_value(FILE *f, const char *v);
void metrics_put_help(FILE *f, const char *v);
bool metrics_family(struct metrics_writer *w, const char *name,
		    const char *type, const char *help);
void metrics_sample(struct metrics_writer *w,
		    const struct metrics_label *labels, int nlabels,
		    unsigned long long value);
void metrics_writer_free(struct metrics_writer *w);
int metrics_write(FILE *f, const struct metrics_input *in);

#endif /* IKETCP_METRICS_H */
