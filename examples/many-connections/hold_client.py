#!/usr/bin/env python3
"""One process that opens TCP connections to 127.0.0.1:PORT one after
another and holds them all, until a connect fails (or CAP, or 60 s). It
prints how far it got and where its connections come from (getsockname),
then keeps them open until it is killed (60 s at most):

    client: N connections held, then connect failed: ERRNO (message)
    client: source addresses (getsockname): 127.0.0.1=N

    hold_client.py PORT CAP
"""
import collections
import errno
import socket
import struct
import sys
import time

port, cap = int(sys.argv[1]), int(sys.argv[2])
held, why = [], f"stopped at {cap}"
end = time.monotonic() + 60
while len(held) < cap:
    if time.monotonic() > end:
        why = "stopped after 60 s"
        break
    s = socket.socket()
    # a blocking connect that gives up after 5 s
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", 5, 0))
    try:
        s.connect(("127.0.0.1", port))
    except OSError as e:
        s.close()
        why = f"connect failed: {errno.errorcode.get(e.errno, e.errno)} ({e.strerror})"
        break
    held.append(s)
by = collections.Counter(s.getsockname()[0] for s in held)
print(f"client: {len(held)} connections held, then {why}")
print("client: source addresses (getsockname):", " ".join(f"{a}={n}" for a, n in sorted(by.items())), flush=True)
time.sleep(60)
