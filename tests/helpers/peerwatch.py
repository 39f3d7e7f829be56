#!/usr/bin/env python3
"""peerwatch: tiny loopback servers and clients for the client-side e2e tests.

They report what the KERNEL says, so a test can check the address a real
server sees, not what the shim's log claims.

  peerwatch.py serve tcp|http|udp HOST PORT [--backlog N] [--gate FILE]
      Prints "ready" once listening, then one line per accepted connection
      (or per datagram): "peer ADDR PORT" (ADDR as the server's socket reports
      it: 127.0.0.2, ::1, ::ffff:127.0.0.2). tcp: answers "hello from mock\\n"
      and closes first (so TIME_WAIT stays on the server side). http: an
      http.server answering GET with "mock-ok\\n". udp: also prints the payload.
      --gate FILE: do not accept before FILE exists (for queue-full tests).
      Runs at most 60 s.

  peerwatch.py hold KIND ADDR PORT...
      Binds one KIND (tcp or udp) socket to each ADDR:PORT, without
      SO_REUSEADDR (so the ports are busy for everyone else), prints "ready"
      and sleeps.

  peerwatch.py connect HOST PORT N [--bind IP] [--v6]
      N sequential TCP connections from one process; for each, after reading
      the server's answer to EOF, prints "local ADDR PORT" (getsockname) or
      "error ERRNAME".
"""
import errno
import http.server
import os
import signal
import socket
import sys
import time


def out(*a):
    print(*a, flush=True)


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def opt(args, name, default=None):
    if name in args:
        i = args.index(name)
        v = args[i + 1]
        del args[i:i + 2]
        return v
    return default


def flag(args, name):
    if name in args:
        args.remove(name)
        return True
    return False


def serve(args):
    backlog = int(opt(args, "--backlog", "64"))
    gate = opt(args, "--gate")
    kind, host, port = args[0], args[1], int(args[2])
    fam = family_of(host)

    if kind == "http":
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self):
                out("peer", self.client_address[0], self.client_address[1])
                body = b"mock-ok\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        class Server(http.server.HTTPServer):
            address_family = fam

        srv = Server((host, port), Handler)
        out("ready")
        srv.serve_forever()
        return

    if kind == "udp":
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind((host, port))
        out("ready")
        while True:
            data, peer = s.recvfrom(65536)
            out("peer", peer[0], peer[1], data.decode(errors="replace"))

    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(backlog)
    out("ready")
    if gate:
        while not os.path.exists(gate):
            time.sleep(0.02)
    while True:
        c, peer = s.accept()
        out("peer", peer[0], peer[1])
        try:
            c.sendall(b"hello from mock\n")
            c.shutdown(socket.SHUT_WR)
            c.settimeout(2)
            while c.recv(4096):
                pass
        except OSError:
            pass
        c.close()


def hold(args):
    kind, host, ports = args[0], args[1], args[2:]
    typ = socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM
    held = []
    for p in ports:
        s = socket.socket(family_of(host), typ)
        s.bind((host, int(p)))
        held.append(s)
    out("ready")
    time.sleep(60)


def connect(args):
    bind = opt(args, "--bind")
    v6 = flag(args, "--v6")
    host, port, n = args[0], int(args[1]), int(args[2])
    fam = socket.AF_INET6 if v6 or ":" in host else socket.AF_INET
    for _ in range(n):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            if bind:
                s.bind((bind, 0))
            s.connect((host, port))
            local = s.getsockname()
            while s.recv(4096):
                pass
            out("local", local[0], local[1])
        except OSError as e:
            out("error", errno.errorcode.get(e.errno, str(e.errno)))
        s.close()


def main():
    signal.alarm(60)
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "serve":
        serve(args)
    elif cmd == "hold":
        hold(args)
    elif cmd == "connect":
        connect(args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
