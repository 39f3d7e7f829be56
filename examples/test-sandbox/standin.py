#!/usr/bin/env python3
"""A stand-in service: it listens on ADDR:PORT, answers every connection
with REPLY (one line) once it has read the first line the client sends and prints one line per connection, with the peer
address its accepted socket reports:

    NAME: connection from ADDR port PORT

    standin.py NAME ADDR PORT REPLY        (stops by itself after 120 s)
"""
import socket
import sys

name, addr, port, reply = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(16)
s.settimeout(120)
print(f"{name}: listening on {addr}:{port}", flush=True)
while True:
    try:
        c, peer = s.accept()
    except socket.timeout:
        break
    print(f"{name}: connection from {peer[0]} port {peer[1]}", flush=True)
    c.settimeout(2)
    try:
        c.makefile("rb").readline()  # the request, if any: read before answering
        c.sendall(reply.encode() + b"\n")
    except OSError:
        pass
    c.close()
