/*
 * names: socket option and errno name tables (see names.h).
 */
#include "names.h"

#include "fmt.h"

#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static const struct ss_optname options[] = {
	{ "SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, SS_OPT_INT, SS_SCOPE_ANY },
	{ "SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR, SS_OPT_INT, SS_SCOPE_ANY },
	{ "SO_REUSEPORT", SOL_SOCKET, SO_REUSEPORT, SS_OPT_INT, SS_SCOPE_ANY },
	{ "SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, SS_OPT_INT, SS_SCOPE_ANY },
	{ "SO_SNDBUF", SOL_SOCKET, SO_SNDBUF, SS_OPT_INT, SS_SCOPE_ANY },
	{ "SO_RCVLOWAT", SOL_SOCKET, SO_RCVLOWAT, SS_OPT_INT, SS_SCOPE_ANY },
	{ "SO_MARK", SOL_SOCKET, SO_MARK, SS_OPT_INT, SS_SCOPE_ANY },
	{ "SO_PRIORITY", SOL_SOCKET, SO_PRIORITY, SS_OPT_INT, SS_SCOPE_ANY },
	{ "SO_BROADCAST", SOL_SOCKET, SO_BROADCAST, SS_OPT_INT, SS_SCOPE_ANY },
	{ "SO_OOBINLINE", SOL_SOCKET, SO_OOBINLINE, SS_OPT_INT, SS_SCOPE_ANY },
	{ "SO_BINDTODEVICE", SOL_SOCKET, SO_BINDTODEVICE, SS_OPT_STRING, SS_SCOPE_ANY },
	{ "SO_LINGER", SOL_SOCKET, SO_LINGER, SS_OPT_LINGER, SS_SCOPE_ANY },
	{ "TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY, SS_OPT_INT, SS_SCOPE_TCP },
	{ "TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE, SS_OPT_INT, SS_SCOPE_TCP },
	{ "TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL, SS_OPT_INT, SS_SCOPE_TCP },
	{ "TCP_KEEPCNT", IPPROTO_TCP, TCP_KEEPCNT, SS_OPT_INT, SS_SCOPE_TCP },
	{ "TCP_USER_TIMEOUT", IPPROTO_TCP, TCP_USER_TIMEOUT, SS_OPT_INT, SS_SCOPE_TCP },
	{ "TCP_MAXSEG", IPPROTO_TCP, TCP_MAXSEG, SS_OPT_INT, SS_SCOPE_TCP },
	{ "TCP_QUICKACK", IPPROTO_TCP, TCP_QUICKACK, SS_OPT_INT, SS_SCOPE_TCP },
	{ "TCP_FASTOPEN_CONNECT", IPPROTO_TCP, TCP_FASTOPEN_CONNECT, SS_OPT_INT, SS_SCOPE_TCP },
	{ "TCP_SYNCNT", IPPROTO_TCP, TCP_SYNCNT, SS_OPT_INT, SS_SCOPE_TCP },
	{ "IP_TOS", IPPROTO_IP, IP_TOS, SS_OPT_INT, SS_SCOPE_IPV4 },
	{ "IP_TTL", IPPROTO_IP, IP_TTL, SS_OPT_INT, SS_SCOPE_IPV4 },
	{ "IP_FREEBIND", IPPROTO_IP, IP_FREEBIND, SS_OPT_INT, SS_SCOPE_ANY },
	{ "IP_TRANSPARENT", IPPROTO_IP, IP_TRANSPARENT, SS_OPT_INT, SS_SCOPE_ANY },
	{ "IP_BIND_ADDRESS_NO_PORT", IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, SS_OPT_INT, SS_SCOPE_ANY },
	{ "IPV6_V6ONLY", IPPROTO_IPV6, IPV6_V6ONLY, SS_OPT_INT, SS_SCOPE_IPV6 },
	{ "IPV6_TCLASS", IPPROTO_IPV6, IPV6_TCLASS, SS_OPT_INT, SS_SCOPE_IPV6 },
	{ "IPV6_UNICAST_HOPS", IPPROTO_IPV6, IPV6_UNICAST_HOPS, SS_OPT_INT, SS_SCOPE_IPV6 },
};

const struct ss_optname *ss_optname_find(const char *name)
{
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (strcmp(options[i].name, name) == 0)
			return &options[i];
	return NULL;
}

void ss_optname_format(struct fmt *f, int level, int optname)
{
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (options[i].level == level && options[i].optname == optname) {
			fmt_str(f, options[i].name);
			return;
		}
	fmt_i64(f, level);
	fmt_char(f, ':');
	fmt_i64(f, optname);
}

int ss_errno_from_name(const char *name)
{
	if (name[0] != 'E')
		return 0;
	for (int e = 1; e < 4096; e++) {
		const char *n = strerrorname_np(e);
		if (n && strcmp(n, name) == 0)
			return e;
	}
	return 0;
}

const char *ss_errno_name(int err)
{
	const char *n = strerrorname_np(err);
	return n ? n : "E?";
}
