#!/usr/bin/env python3
"""A legacy server, as you might find one: it listens on the port it is
given (127.0.0.1:PORT) and never sets SO_REUSEADDR (socketserver.TCPServer's
default). Every answer names the process that served it. The server closes
each connection first, so every request it served leaves a TIME_WAIT entry
on its port for a minute. SIGTERM stops it.

    legacy_server.py PORT
"""
import os
import signal
import socket
import socketserver
import sys


class Hello(socketserver.StreamRequestHandler):
    def handle(self):
        while self.rfile.readline().strip():  # the request, up to the blank line
            pass
        # HTTP/1.0 without Content-Length: the body ends when the server closes
        self.wfile.write(b"HTTP/1.0 200 OK\r\n\r\nhello from pid %d\n" % os.getpid())


port = int(sys.argv[1])
try:
    srv = socketserver.TCPServer(("127.0.0.1", port), Hello)
except OSError as e:
    print(f"legacy server: cannot start on 127.0.0.1:{port}: {e.strerror}", flush=True)
    sys.exit(1)
# what the kernel says about the listener (sockshim never answers getsockopt itself)
reuse = srv.socket.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
print(f"legacy server: pid {os.getpid()} listening on 127.0.0.1:{port} (SO_REUSEADDR={reuse})", flush=True)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
signal.alarm(120)  # a demo: gone after 2 minutes, whatever becomes of run.sh
srv.serve_forever()
