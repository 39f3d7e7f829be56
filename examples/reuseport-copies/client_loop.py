#!/usr/bin/env python3
"""A client that keeps asking: one HTTP request after another to
127.0.0.1:PORT until STOPFILE exists (at most 10 s), then one summary line:

    client: N requests: N answered, N refused, N failed otherwise
    answered by: PID=N PID=N ...

    client_loop.py PORT STOPFILE
"""
import collections
import errno
import os
import socket
import sys
import time

port, stopfile = int(sys.argv[1]), sys.argv[2]
answered = collections.Counter()
refused = other = 0
end = time.monotonic() + 10
while not os.path.exists(stopfile) and time.monotonic() < end:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            reply = b""
            while chunk := s.recv(4096):
                reply += chunk
        pid = reply.rsplit(b"pid ", 1)[-1].strip().decode()
        if reply.startswith(b"HTTP/1.0 200") and pid.isdigit():
            answered[pid] += 1
        else:
            other += 1
    except OSError as e:
        if e.errno == errno.ECONNREFUSED:
            refused += 1
        else:
            other += 1
n = sum(answered.values()) + refused + other
print(f"client: {n} requests: {sum(answered.values())} answered, {refused} refused, {other} failed otherwise")
print("answered by:", " ".join(f"{p}={c}" for p, c in sorted(answered.items())))
