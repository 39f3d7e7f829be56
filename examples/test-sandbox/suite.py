#!/usr/bin/env python3
"""A small test suite, as a CI job would run it.

The code under test is an app with an HTTP API. Its configuration names
the production database (db.prod.example.com:5432) and a payment provider's
API (api.payments.example.com:443), and it sends telemetry to an address
written into the code (192.0.2.1:443). The suite starts the app's API server on its usual port,
127.0.0.1:8080, and talks to it at the address the server reports
(server_address, from getsockname), as test fixtures usually do. Then:

  test_api        GET /health from the API server
  test_db         the app's "SELECT 1" against its configured database
  test_payments   the app asks the payment provider for its status; it
                  must carry on if it cannot
  test_telemetry  the app sends one event; it must carry on if it cannot

One line per step, prefixed with [run NAME] (SUITE_RUN). If SUITE_GATE is
set, the suite waits (10 s at most) for that file once its server is up, so
that two runs can be shown side by side.
"""
import errno
import http.client
import http.server
import os
import socket
import socketserver
import sys
import threading
import time

DB = ("db.prod.example.com", 5432)
PAYMENTS = ("api.payments.example.com", 443)
TELEMETRY = ("192.0.2.1", 443)
run = os.environ.get("SUITE_RUN", "?")


def say(msg):
    print(f"[run {run}] {msg}", flush=True)


EAI = {getattr(socket, n): n for n in ("EAI_NONAME", "EAI_AGAIN", "EAI_FAIL", "EAI_NODATA") if hasattr(socket, n)}


def errname(e):
    if isinstance(e, socket.gaierror):  # the lookup failed: its EAI_ code
        return EAI.get(e.errno, f"EAI {e.errno}")
    return errno.errorcode.get(e.errno, str(e.errno)) if e.errno else type(e).__name__


class Api(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class ApiServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


# ---- fixture: the app's API server on its usual port ----
try:
    srv = ApiServer(("127.0.0.1", 8080), Api)
except OSError as e:
    say(f"server: cannot listen on 127.0.0.1:8080: {e.strerror}")
    sys.exit(1)
host, port = srv.server_address  # getsockname: where the kernel put it
say(f"server: asked for 127.0.0.1:8080, listening on {host}:{port}")
threading.Thread(target=srv.serve_forever, daemon=True).start()

gate = os.environ.get("SUITE_GATE")
if gate:
    end = time.monotonic() + 10
    while not os.path.exists(gate) and time.monotonic() < end:
        time.sleep(0.02)

# ---- test_api ----
try:
    c = http.client.HTTPConnection(host, port, timeout=2)
    c.request("GET", "/health")
    r = c.getresponse()
    say(f"test_api: GET http://{host}:{port}/health -> {r.status} {r.read().decode().strip()}")
except OSError as e:
    say(f"test_api: {errname(e)}")

# ---- test_db ----
try:
    with socket.create_connection(DB, timeout=2) as s:
        peer = s.getpeername()  # the kernel's answer: where this socket is connected
        s.sendall(b"SELECT 1\n")
        answer = s.makefile().readline().strip()
    say(f"test_db: connect {DB[0]}:{DB[1]} -> getpeername {peer[0]}:{peer[1]}, answer: {answer}")
except OSError as e:
    say(f"test_db: connect {DB[0]}:{DB[1]} -> {errname(e)}")

# ---- test_payments ----
t0 = time.monotonic()
try:
    with socket.create_connection(PAYMENTS, timeout=2) as s:
        s.sendall(b"GET /status\n")
        result = f"connected, answer: {s.makefile().readline().strip()}"
except OSError as e:
    result = errname(e)
ms = (time.monotonic() - t0) * 1000
say(f"test_payments: connect {PAYMENTS[0]}:{PAYMENTS[1]} -> {result} after {ms:.1f} ms; the app carries on")

# ---- test_telemetry ----
t0 = time.monotonic()
try:
    with socket.create_connection(TELEMETRY, timeout=2) as s:
        s.sendall(b"event: suite ran\n")
    result = "connected, event sent"
except OSError as e:
    result = errname(e)
ms = (time.monotonic() - t0) * 1000
say(f"test_telemetry: connect {TELEMETRY[0]}:{TELEMETRY[1]} -> {result} after {ms:.1f} ms; the app carries on")
srv.shutdown()
