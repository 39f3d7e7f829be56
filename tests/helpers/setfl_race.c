/*
 * setfl_race: while thread A makes a blocking connect to IP:PORT, thread B
 * sets O_APPEND on the same fd (F_SETFL, after a varying spin), N times.
 * Afterwards the flag must be there: no one else may undo a program's own
 * F_SETFL.
 *
 *   setfl_race N IP PORT
 *
 * Prints "n=N ok=K lost=L" (L: sockets whose O_APPEND was gone after both
 * threads were done).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static atomic_int go;
static int fd, spin;

static void *setter(void *arg)
{
	(void)arg;
	while (!atomic_load(&go)) {
	}
	for (volatile int i = 0; i < spin; i++) {
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_APPEND);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	int n = atoi(argv[1]), ok = 0, lost = 0;
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1)
		return 2;
	for (int i = 0; i < n; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			return 1;
		atomic_store(&go, 0);
		spin = (i * 37) % 20000;
		pthread_t t;
		if (pthread_create(&t, NULL, setter, NULL) != 0)
			return 1;
		atomic_store(&go, 1);
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			ok++;
		pthread_join(t, NULL);
		if (!(fcntl(fd, F_GETFL) & O_APPEND))
			lost++;
		close(fd);
	}
	printf("n=%d ok=%d lost=%d\n", n, ok, lost);
	return 0;
}
