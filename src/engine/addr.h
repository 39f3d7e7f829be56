/*
 * addr: one representation of an IP endpoint for the whole engine, and the
 * conversions between it, struct sockaddr, and text.
 *
 * IPv4 is kept as IPv4 (family 4, ip[0..3]); an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) keeps family 6 so the shim can hand the same form back
 * to the kernel, and ss_addr_v4_view() says which IPv4 address it carries.
 */
#ifndef SOCKSHIM_ADDR_H
#define SOCKSHIM_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "fmt.h"

struct ss_addr {
	uint8_t family;     /* 4 or 6 */
	uint8_t ip[16];     /* network byte order; IPv4 in ip[0..3] */
	uint16_t port;      /* host byte order */
	uint32_t scope_id;  /* IPv6 only */
	uint32_t flowinfo;  /* IPv6 only, kept so a rewrite changes nothing else */
};

/*
 * Read an AF_INET/AF_INET6 sockaddr as the kernel would: false when sa is
 * NULL, len is too short for its family, or the family is neither.
 */
bool ss_addr_from_sockaddr(struct ss_addr *a, const struct sockaddr *sa, socklen_t len);

/* Fill storage with a sockaddr for a; returns its length. */
socklen_t ss_addr_to_sockaddr(const struct ss_addr *a, struct sockaddr_storage *ss);

/* true and *v4 (host order) when a is IPv4 or IPv4-mapped IPv6. */
bool ss_addr_v4_view(const struct ss_addr *a, uint32_t *v4);

/* Convert a to the form a socket of family (4 or 6) takes: IPv4 becomes
 * IPv4-mapped for an IPv6 socket. false when it cannot (IPv6 on IPv4). */
bool ss_addr_for_family(struct ss_addr *a, int family);

/* true for 0.0.0.0 and :: (port not considered). */
bool ss_addr_is_any(const struct ss_addr *a);

/* Parse an address without port ("10.0.0.1", "::1"). */
bool ss_addr_parse_ip(struct ss_addr *a, const char *s);

/*
 * Parse a rewrite target: "ADDR", "ADDR:PORT", "[V6]:PORT", "[V6]", ":PORT".
 * *has_ip / *has_port say which parts were given.
 */
bool ss_addr_parse_endpoint(struct ss_addr *a, bool *has_ip, bool *has_port, const char *s);

/* "1.2.3.4" or "2001:db8::1" */
void fmt_ip(struct fmt *f, const struct ss_addr *a);
/* "1.2.3.4:80" or "[2001:db8::1]:80" */
void fmt_endpoint(struct fmt *f, const struct ss_addr *a);

#endif
