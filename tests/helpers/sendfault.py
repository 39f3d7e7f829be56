#!/usr/bin/env python3
"""sendfault: UDP sends naming a destination, from an unmapped data buffer
(sendto and sendmsg), on a fresh IPv4 socket each, through libc (ctypes);
prints "CASE rc=R errno=E bound=yes|no" (bound: whether the kernel gave the
socket a port, as getsockname reports after the call).

  sendfault.py PORT   PORT: where the 127.0.0.1 cases send
"""
import ctypes
import errno
import socket
import struct
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
libc.sendto.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_void_p, ctypes.c_uint]
libc.sendto.restype = ctypes.c_ssize_t
libc.sendmsg.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.sendmsg.restype = ctypes.c_ssize_t
PORT = int(sys.argv[1])

hole = libc.mmap(None, 8192, 3, 0x22, -1, 0)  # PROT_READ|WRITE, MAP_PRIVATE|ANONYMOUS
libc.munmap(hole, 8192)

def sin(ip, port):
    return ctypes.create_string_buffer(struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) + socket.inet_aton(ip) + b"\0" * 8, 16)

class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
class msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint), ("iov", ctypes.c_void_p), ("iovlen", ctypes.c_size_t),
                ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t), ("flags", ctypes.c_int)]

def case(name, ip, port, use_msg):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    a = sin(ip, port)
    ctypes.set_errno(0)
    if use_msg:
        iov = iovec(hole, 100)
        m = msghdr(ctypes.addressof(a), 16, ctypes.addressof(iov), 1, None, 0, 0)
        rc = libc.sendmsg(s.fileno(), ctypes.byref(m), 0)
    else:
        rc = libc.sendto(s.fileno(), hole, 100, 0, a, 16)
    err = ctypes.get_errno() if rc < 0 else 0
    bound = "yes" if s.getsockname()[1] else "no"
    print(f"{name} rc={rc} errno={errno.errorcode.get(err, err)} bound={bound}", flush=True)
    s.close()

case("sendto-unreachable", "10.99.0.1", PORT, False)
case("sendmsg-unreachable", "10.99.0.1", PORT, True)
case("sendto-loopback", "127.0.0.1", PORT, False)
case("sendmsg-loopback", "127.0.0.1", PORT, True)
