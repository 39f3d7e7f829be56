#!/usr/bin/env python3
"""A server that accepts every connection on 127.0.0.1:PORT and holds it
open (epoll, one process) until the client closes it. On SIGUSR1 it accepts
what is queued, then prints how many connections it holds, by the peer
address each accepted socket reports:

    server: holding N connections: 127.0.0.2=N 127.0.0.3=N ...

    hold_server.py PORT        (stops by itself after 120 s)
"""
import collections
import selectors
import signal
import socket
import sys
import time

port = int(sys.argv[1])
lsock = socket.socket()
lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lsock.bind(("127.0.0.1", port))
lsock.listen(4096)
lsock.setblocking(False)
sel = selectors.DefaultSelector()
sel.register(lsock, selectors.EVENT_READ)
peers = {}  # socket -> peer address
report = False


def on_usr1(*_):
    global report
    report = True


def accept_all():
    while True:
        try:
            c, addr = lsock.accept()
        except BlockingIOError:
            return
        peers[c] = addr[0]
        sel.register(c, selectors.EVENT_READ)


signal.signal(signal.SIGUSR1, on_usr1)
print(f"server: listening on 127.0.0.1:{port}", flush=True)
end = time.monotonic() + 120
while time.monotonic() < end:
    for key, _ in sel.select(timeout=0.1):
        if key.fileobj is lsock:
            accept_all()
        else:  # readable: the client closed (or sent something; it never does)
            c = key.fileobj
            if not c.recv(4096):
                sel.unregister(c)
                c.close()
                del peers[c]
    if report:
        report = False
        accept_all()
        by = collections.Counter(peers.values())
        print(f"server: holding {len(peers)} connections:",
              " ".join(f"{a}={n}" for a, n in sorted(by.items())), flush=True)
