#!/usr/bin/env python3
"""One copy of a small web server. It listens on 127.0.0.1:PORT and answers
every request with its pid. It sets neither SO_REUSEADDR nor SO_REUSEPORT
(socketserver.TCPServer's default), so on its own a second copy cannot
bind the same port. On SIGTERM it finishes the request in hand, closes its
listening socket and exits, as servers usually stop.

    copy_server.py PORT
"""
import os
import signal
import socket
import socketserver
import sys


class Pid(socketserver.StreamRequestHandler):
    def handle(self):
        while self.rfile.readline().strip():  # the request, up to the blank line
            pass
        body = b"pid %d\n" % os.getpid()
        self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


port = int(sys.argv[1])
try:
    srv = socketserver.TCPServer(("127.0.0.1", port), Pid)
except OSError as e:
    print(f"copy: cannot start on 127.0.0.1:{port}: {e.strerror}", flush=True)
    sys.exit(1)
# the kernel's answer (sockshim does not intercept getsockopt)
rp = srv.socket.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)
print(f"copy: pid {os.getpid()} listening on 127.0.0.1:{port} (SO_REUSEPORT={rp})", flush=True)

stopping = False


def stop(*_):
    global stopping
    stopping = True


signal.signal(signal.SIGTERM, stop)
signal.alarm(120)  # a demo: gone after 2 minutes, whatever becomes of run.sh
srv.timeout = 0.1
while not stopping:
    srv.handle_request()
srv.server_close()
