#!/usr/bin/env python3
"""dryprobe: one IPv4 socket per case, the call made, and what the kernel
reports after it printed as "CASE rc=R errno=E local=IP:PORT reuseaddr=N
keepalive=N" (PORT as "auto" when the kernel picked it). Run bare and under
a policy, the lines must be identical when the policy changes nothing.
"""
import errno
import socket

def report(name, s, rc, err, fixed_port):
    try:
        ip, port = s.getsockname()
    except OSError:
        ip, port = "?", 0
    if port and not fixed_port:
        port = "auto"
    ra = s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
    ka = s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
    print(f"{name} rc={rc} errno={errno.errorcode.get(err, err)} local={ip}:{port} reuseaddr={ra} keepalive={ka}", flush=True)

def case(name, kind, call, port, fixed_port=False):
    s = socket.socket(socket.AF_INET, kind)
    s.settimeout(2)
    rc, err = 0, 0
    try:
        call(s, port)
    except OSError as e:
        rc, err = -1, e.errno or 0
    report(name, s, rc, err, fixed_port)
    s.close()

conn = lambda s, p: s.connect(("127.0.0.1", p))
send = lambda s, p: s.sendto(b"x", ("127.0.0.1", p))
bind = lambda s, p: s.bind(("127.0.0.1", p))
case("connect-rewrite-v6", socket.SOCK_STREAM, conn, 9721)
case("send-rewrite-v6", socket.SOCK_DGRAM, send, 9722)
case("connect-source-v6", socket.SOCK_STREAM, conn, 9723)
case("connect-source-port", socket.SOCK_STREAM, conn, 9724)
case("connect-deny", socket.SOCK_STREAM, conn, 9725)
case("send-deny", socket.SOCK_DGRAM, send, 9726)
case("send-source", socket.SOCK_DGRAM, send, 9727)
case("bind-rewrite-v6", socket.SOCK_STREAM, bind, 9728, True)
case("bind-rewrite", socket.SOCK_STREAM, bind, 9729, True)
case("bind-deny", socket.SOCK_STREAM, bind, 9730, True)
case("bind-reuse-sockopt", socket.SOCK_STREAM, bind, 9731, True)
case("connect-sockopt", socket.SOCK_STREAM, conn, 9732)
