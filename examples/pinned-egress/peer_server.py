#!/usr/bin/env python3
"""A web server that tells each client where it came from: the peer address
its accepted socket reports (the kernel's view), as
"you came from ADDR port PORT", and one line per connection on stdout.

    peer_server.py PORT
"""
import http.server
import signal
import sys


class Peer(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        addr, port = self.client_address[:2]
        print(f"server: connection from {addr} port {port}", flush=True)
        body = f"you came from {addr} port {port}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Peer)
print(f"server: listening on 127.0.0.1:{sys.argv[1]}", flush=True)
signal.alarm(120)  # a demo: gone after 2 minutes, whatever becomes of run.sh
srv.serve_forever()
