#!/usr/bin/env python3
"""sinkphase: a client that logs many decisions in two phases, for the log
sink tests.

  sinkphase.py PORT N1 READY GO N2 [DELAY]

Makes N1 blocking TCP connects to 127.0.0.1:PORT, creates the file READY,
waits (at most 8 s) until the file GO exists, then makes N2 more connects,
DELAY seconds apart (default 0; when given, half a second more before it
exits). Between the phases the test changes the
sink (a stalled reader starts reading, a full disk gets room), so the lines
of the second phase show whether the sink took lines again and what was
reported about the ones it lost. Prints what the kernel said:
  connect ok=N fail=N
  local IP=N ...      (getsockname after each connect)
  go=yes|timeout
"""
import os
import socket
import sys
import time

port, n1, ready, go, n2 = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
delay = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
ok = fail = 0
local = {}


def one():
    global ok, fail
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.connect(("127.0.0.1", port))
        ok += 1
        ip = s.getsockname()[0]
        local[ip] = local.get(ip, 0) + 1
    except OSError:
        fail += 1
    finally:
        s.close()


for _ in range(n1):
    one()
open(ready, "w").close()
deadline = time.monotonic() + 8
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.02)
went = os.path.exists(go)
for _ in range(n2):
    one()
    if delay:
        time.sleep(delay)
if delay:
    # a pause before exit: a sink that lost the last lines has time to drain,
    # so that the count written at exit finds room
    time.sleep(0.5)
print("connect ok=%d fail=%d" % (ok, fail))
print("local " + " ".join("%s=%d" % kv for kv in sorted(local.items())))
print("go=" + ("yes" if went else "timeout"))
