#!/usr/bin/env python3
"""badcalls: make bad socket calls through libc (ctypes, so the preloaded
shim's hooks are the ones called) and print "CASE rc=R errno=NAME" for each,
or "CASE killed by SIGNAL" when the call crashed the process. Each case runs in
a forked child, so one crash does not hide the others.

  badcalls.py PORT [CASE...]    PORT: a listening TCP server on 127.0.0.1
"""
import ctypes
import errno
import os
import signal
import socket
import struct
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.connect.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint]
libc.sendto.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_void_p, ctypes.c_uint]
libc.sendto.restype = ctypes.c_ssize_t
libc.sendmsg.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.sendmsg.restype = ctypes.c_ssize_t
libc.sendmmsg.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int]
PORT = int(sys.argv[1])

def sin(ip, port):
    return ctypes.create_string_buffer(struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) + socket.inet_aton(ip) + b"\0" * 8, 16)
def sin6(ip, port):
    return ctypes.create_string_buffer(struct.pack("=H", socket.AF_INET6) + struct.pack("!HI", port, 0) + socket.inet_pton(socket.AF_INET6, ip) + b"\0" * 4, 28)

def tcp(): return socket.socket().detach()
def udp(): return socket.socket(socket.AF_INET, socket.SOCK_DGRAM).detach()
def closed(kind):
    fd = kind(); os.close(fd); return fd

X = ctypes.create_string_buffer(b"x")
SRV = sin("127.0.0.1", PORT)

class msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint), ("iov", ctypes.c_void_p),
                ("iovlen", ctypes.c_size_t), ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
class mmsghdr(ctypes.Structure):
    _fields_ = [("hdr", msghdr), ("len", ctypes.c_uint)]

def c_connect(fd, a, l): return libc.connect(fd, a, l)
def isconn():
    fd = tcp(); libc.connect(fd, SRV, 16); return libc.connect(fd, SRV, 16)
def sendmsg_null_iov():
    m = msghdr(ctypes.cast(SRV, ctypes.c_void_p), 16, None, 1, None, 0, 0)
    return libc.sendmsg(udp(), ctypes.byref(m), 0)
def sendmsg_bad_namelen():
    io = iovec(ctypes.cast(X, ctypes.c_void_p), 1)
    m = msghdr(ctypes.cast(SRV, ctypes.c_void_p), 8, ctypes.cast(ctypes.pointer(io), ctypes.c_void_p), 1, None, 0, 0)
    return libc.sendmsg(udp(), ctypes.byref(m), 0)
def sendmmsg(fd, name, namelen):
    io = iovec(ctypes.cast(X, ctypes.c_void_p), 1)
    v = (mmsghdr * 1)()
    v[0].hdr = msghdr(name, namelen, ctypes.cast(ctypes.pointer(io), ctypes.c_void_p), 1, None, 0, 0)
    return libc.sendmmsg(fd, v, 1, 0)

CASES = {
    "connect-closed-fd": lambda: c_connect(closed(tcp), SRV, 16),
    "connect-not-a-socket": lambda: c_connect(os.open("/dev/null", os.O_RDONLY), SRV, 16),
    "connect-null-addr": lambda: c_connect(tcp(), None, 16),
    "connect-bad-pointer": lambda: c_connect(tcp(), 8, 16),
    "connect-short-len": lambda: c_connect(tcp(), SRV, 8),
    "connect-len-0": lambda: c_connect(tcp(), SRV, 0),
    "connect-len-huge": lambda: c_connect(tcp(), SRV, 4096),
    "connect-v6-addr-on-v4": lambda: c_connect(tcp(), sin6("::1", PORT), 28),
    "connect-refused": lambda: c_connect(tcp(), sin("127.0.0.1", 9), 16),
    "connect-isconn": isconn,
    "sendto-closed-fd": lambda: libc.sendto(closed(udp), X, 1, 0, SRV, 16),
    "sendto-null-buf": lambda: libc.sendto(udp(), None, 1, 0, SRV, 16),
    "sendto-short-len": lambda: libc.sendto(udp(), X, 1, 0, SRV, 8),
    "sendto-bad-pointer": lambda: libc.sendto(udp(), X, 1, 0, 8, 16),
    "sendto-v6-addr-on-v4": lambda: libc.sendto(udp(), X, 1, 0, sin6("::1", PORT), 28),
    "sendto-tcp-unconnected": lambda: libc.sendto(tcp(), X, 1, 0, SRV, 16),
    "sendmsg-null-iov": sendmsg_null_iov,
    "sendmsg-short-namelen": sendmsg_bad_namelen,
    "sendmmsg-closed-fd": lambda: sendmmsg(closed(udp), ctypes.cast(SRV, ctypes.c_void_p), 16),
    "sendmmsg-bad-pointer": lambda: sendmmsg(udp(), 8, 16),
}

signal.alarm(20)
names = sys.argv[2:] or list(CASES)
for name in names:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        ctypes.set_errno(0)
        rc = CASES[name]()
        e = ctypes.get_errno()
        os.write(w, ("rc=%d errno=%s" % (rc, errno.errorcode.get(e, "0") if rc < 0 else "0")).encode())
        os._exit(0)
    os.close(w)
    res = os.read(r, 200).decode()
    os.close(r)
    _, st = os.waitpid(pid, 0)
    if os.WIFSIGNALED(st):
        res = "killed by " + signal.Signals(os.WTERMSIG(st)).name
    print(name, res, flush=True)
