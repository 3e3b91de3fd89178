/*
 * Listen addresses: "host:port" and "[v6]:port" split into their parts, and
 * whether an address is loopback (plain HTTP is allowed only there).
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

/* port_parse - 1 to 5 decimal digits, 0..65535. */
static int
port_parse(const char *s, unsigned *port)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 5 || s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (unsigned)(s[i] - '0');
	}
	if (i == 0 || n > 65535)
		return -1;
	*port = n;
	return 0;
}

/* host_name_valid - a DNS name or IPv4 address: [A-Za-z0-9.-]+. */
static int
host_name_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

int
config_split_listen(const char *listen, char *host, size_t hostlen,
    unsigned *port)
{
	char addr[INET6_ADDRSTRLEN + 64];
	struct in6_addr in6;
	const char *h, *colon, *end;
	unsigned p;
	size_t hlen;

	if (listen == NULL)
		return -1;
	if (listen[0] == '[') {
		/* RFC 3986 §3.2.2: an IPv6 literal in brackets. */
		if ((end = strchr(listen, ']')) == NULL || end[1] != ':')
			return -1;
		h = listen + 1;
		hlen = (size_t)(end - h);
		if (hlen == 0 || hlen >= sizeof(addr))
			return -1;
		memcpy(addr, h, hlen);
		addr[hlen] = '\0';
		if (inet_pton(AF_INET6, addr, &in6) != 1)
			return -1;
		colon = end + 1;
	} else {
		if ((colon = strrchr(listen, ':')) == NULL)
			return -1;
		h = listen;
		hlen = (size_t)(colon - h);
		/* A bare IPv6 address would be ambiguous: it needs brackets. */
		if (memchr(h, ':', hlen) != NULL || !host_name_valid(h, hlen))
			return -1;
	}
	if (port_parse(colon + 1, &p) == -1)
		return -1;
	if (host != NULL) {
		if (hlen >= hostlen)
			return -1;
		memcpy(host, h, hlen);
		host[hlen] = '\0';
	}
	if (port != NULL)
		*port = p;
	return 0;
}

int
config_listen_is_loopback(const char *listen)
{
	char host[300];
	struct in6_addr in6;
	struct in_addr in4;
	unsigned port;

	if (config_split_listen(listen, host, sizeof(host), &port) == -1)
		return 0;
	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (listen[0] == '[')
		return inet_pton(AF_INET6, host, &in6) == 1 &&
		    IN6_IS_ADDR_LOOPBACK(&in6);
	/* inet_pton takes only dotted quads: no "127.1" or octal forms. */
	if (inet_pton(AF_INET, host, &in4) == 1)
		return (ntohl(in4.s_addr) >> 24) == 127;
	return 0;
}
