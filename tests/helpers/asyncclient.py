#!/usr/bin/env python3
"""asyncclient: a python3 asyncio TCP client for the real-program tests.

  asyncclient.py HOST PORT [N]

N sequential connections (default 1) made by asyncio's event loop (a
non-blocking connect); for each, after reading the server's answer to EOF,
prints "local ADDR PORT" (getsockname, as the kernel reports it) or
"error ERRNAME". Each connection gives up after 5 s.
"""
import asyncio
import errno
import sys


async def one(host, port):
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
    except OSError as e:
        return "error " + errno.errorcode.get(e.errno, str(e.errno))
    except asyncio.TimeoutError:
        return "error timeout"
    local = w.get_extra_info("sockname")
    try:
        await asyncio.wait_for(r.read(), 5)
    except asyncio.TimeoutError:
        pass
    w.close()
    return "local %s %d" % (local[0], local[1])


async def main():
    host, port = sys.argv[1], int(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    for _ in range(n):
        print(await one(host, port), flush=True)


asyncio.run(main())
