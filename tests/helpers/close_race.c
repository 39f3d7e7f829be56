/*
 * close_race: a socket the program closes right after a call the shim
 * decided must be gone at once, as it is bare: nothing else may hold it.
 * Three cases, N rounds each (default 200), on 127.0.0.1:
 *   fin     connect to our listener, send a byte, close: the accepted
 *           socket reads the byte and then end-of-file at once (MSG_DONTWAIT)
 *   bind    bind to a port, close, bind a new socket (no SO_REUSEADDR) to
 *           the same port: it is free at once
 *   listen  bind and listen, close, connect to the port: refused at once
 * Prints "fin=K bind=K listen=K of N": the rounds where the socket outlived
 * its close (0 each, bare).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in at(int port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int fail(const char *what)
{
	perror(what);
	exit(2);
}

/* connect, send, close; then the server's end: 1 when no EOF yet */
static int fin_round(int lfd, struct sockaddr_in *la)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)la, sizeof(*la)) < 0)
		fail("fin: connect");
	if (send(c, "x", 1, 0) != 1)
		fail("fin: send");
	close(c);
	int s = accept(lfd, NULL, NULL);
	if (s < 0)
		fail("fin: accept");
	char b[4];
	ssize_t n = recv(s, b, sizeof(b), MSG_DONTWAIT);
	ssize_t eof = n == 1 ? recv(s, b, sizeof(b), MSG_DONTWAIT) : -1;
	close(s);
	return eof != 0;
}

static int bind_round(int port)
{
	struct sockaddr_in a = at(port);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		fail("bind: first bind");
	close(s);
	s = socket(AF_INET, SOCK_STREAM, 0);
	int busy = bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 && errno == EADDRINUSE;
	close(s);
	return busy;
}

static int listen_round(int port)
{
	struct sockaddr_in a = at(port);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int on = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 4) < 0)
		fail("listen: listen");
	close(s);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	int late = !(connect(c, (struct sockaddr *)&a, sizeof(a)) < 0 && errno == ECONNREFUSED);
	close(c);
	return late;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200;
	int base = argc > 2 ? atoi(argv[2]) : 21000;
	struct sockaddr_in la = at(base);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int on = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(lfd, (struct sockaddr *)&la, sizeof(la)) < 0 || listen(lfd, 64) < 0)
		fail("listener");
	int fin = 0, bnd = 0, lst = 0;
	for (int i = 0; i < n; i++) {
		fin += fin_round(lfd, &la);
		bnd += bind_round(base + 1 + i % 50);
		lst += listen_round(base + 100 + i % 50);
	}
	printf("fin=%d bind=%d listen=%d of %d\n", fin, bnd, lst, n);
	return 0;
}
