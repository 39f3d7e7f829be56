#!/usr/bin/env python3
"""dnswitness: a nameserver that only says what reached it, for the tests
that a name lookup did or did not leave the program.

    dnswitness.py LOG [ADDR]

Listens on UDP and TCP port 53 of ADDR (127.0.0.1), writes one line per
query to LOG before it answers:
    query NAME type=QTYPE
(NAME as the labels came, non-printable bytes as \\xHH, "." for the root)
and answers NXDOMAIN at once, so the program's lookup fails fast. Prints
"ready" once listening. Stops by itself after 120 s.
"""
import socket
import struct
import sys
import threading

log = open(sys.argv[1], "a", buffering=1)
addr = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"


def show(b):
    return "".join(chr(c) if 0x21 <= c < 0x7f and c != 0x5c else "\\x%02x" % c for c in b)


def answer(q):
    i, labels = 12, []
    while i < len(q) and q[i]:
        n = q[i]
        labels.append(show(q[i + 1:i + 1 + n]))
        i += 1 + n
    qtype = struct.unpack(">H", q[i + 1:i + 3])[0] if i + 3 <= len(q) else 0
    log.write("query %s type=%d\n" % (".".join(labels) or ".", qtype))
    # NXDOMAIN, the question echoed
    return q[:2] + b"\x81\x83" + q[4:6] + b"\x00\x00\x00\x00\x00\x00" + q[12:i + 5]


def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    ready.set()
    while True:
        q, peer = s.recvfrom(4096)
        if len(q) > 12:
            s.sendto(answer(q), peer)


def tcp():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 53))
    s.listen(16)
    while True:
        c, _ = s.accept()
        with c:
            try:
                n = struct.unpack(">H", c.recv(2))[0]
                q = c.recv(n)
                a = answer(q)
                c.sendall(struct.pack(">H", len(a)) + a)
            except (OSError, struct.error):
                pass


ready = threading.Event()
threading.Thread(target=udp, daemon=True).start()
threading.Thread(target=tcp, daemon=True).start()
ready.wait()
print("ready", flush=True)
threading.Event().wait(120)
