#!/usr/bin/env python3
"""kahttp: a keep-alive HTTP/1.1 server for the window tests.

  kahttp.py HOST PORT PEERFILE [SECONDS]
      Answers every GET with "ok\\n" (Content-Length, keep-alive), so the
      client closes first and TIME_WAIT stays on the client's side, as with
      most HTTP clients and servers. Appends "ADDR PORT" of each accepted
      connection (as the server's socket reports it) to PEERFILE. Prints
      "ready" once listening; exits after SECONDS (default 120).
"""
import http.server
import socketserver
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        with open(sys.argv[3], "a") as f:
            f.write("%s %d\n" % self.client_address[:2])

    def do_GET(self):
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = Server((sys.argv[1], int(sys.argv[2])), Handler)
threading.Timer(float(sys.argv[4]) if len(sys.argv) > 4 else 120, srv.shutdown).start()
print("ready", flush=True)
srv.serve_forever()
