// SPDX-License-Identifier: GPL-2.0
/*
 * ulp_hold - keep N loopback TCP connections with the iketcp ULP attached
 * until stdin closes, then close them with a RST (so that the sockets are
 * destroyed at once). Used by module.sh to test rmmod with open
 * connections. A helper is registered in the netns first (attaching needs
 * one; a second argument "helper" is accepted for compatibility). Prints
 * "ready" when the connections are attached.
 */
#include "lib.h"

int main(int argc, char **argv)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int n = argc > 1 ? atoi(argv[1]) : 1;
	int *cli = calloc(n, sizeof(int)), *srv = calloc(n, sizeof(int));
	struct iketcp_nl nl;
	char c;

	if (helper_open(&nl)) {
		fprintf(stderr, "ulp_hold: helper: %s\n", nl.err);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (tcp_pair(AF_INET, &cli[i], &srv[i])) {
			perror("ulp_hold: tcp pair");
			return 1;
		}
		if (ulp_attach(srv[i])) {
			perror("ulp_hold: attach");
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	for (int i = 0; i < n; i++) {
		setsockopt(srv[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(srv[i]);
		close(cli[i]);
	}
	return 0;
}
