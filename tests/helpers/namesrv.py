#!/usr/bin/env python3
"""namesrv: an HTTP server that says who asked for what, for the tests of
name rewrites: a client that reached it by a name shows that name in its
Host header, and the peer address is the kernel's (the accepted socket).

    namesrv.py ADDR PORT

Prints "ready" once listening, then one line per request:
    request PATH host=HOST-HEADER peer=ADDR
and answers 200 "served PATH". Stops by itself after 60 s.
"""
import http.server
import socket
import sys
import threading

addr, port = sys.argv[1], int(sys.argv[2])


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        print(f"request {self.path} host={self.headers.get('Host', '-')} peer={self.client_address[0]}", flush=True)
        body = f"served {self.path}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    daemon_threads = True


srv = Server((addr, port), Handler)
print("ready", flush=True)
threading.Timer(60, srv.shutdown).start()
srv.serve_forever()
