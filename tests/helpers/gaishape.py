#!/usr/bin/env python3
"""gaishape: getaddrinfo over a matrix of hints, one line per case, so that
the answer for a rewritten name can be diffed against glibc's own answer for
names in /etc/hosts holding the same addresses.

    gaishape.py NAME [NAME...]

For every combination of family (unspec, inet, inet6), socktype (0, stream,
dgram, raw), protocol (0, tcp, udp), service (none, "80", "http",
"domain", "no-such-service") and flags (0, AI_NUMERICSERV, AI_PASSIVE,
AI_CANONNAME, AI_V4MAPPED, AI_V4MAPPED|AI_ALL, AI_NUMERICHOST,
AI_ADDRCONFIG) it prints

    fam=F type=T proto=P svc=S flags=X -> ENTRY; ENTRY; ...   or   -> error EAI_...

where each ENTRY is "family/socktype/proto/address/port". With several
NAMEs, each case is their answers one after the other (the entries of the
names that answered, in order; the first name's error if none did): the
shape of one name whose lookup returns all their addresses in that order
(AI_V4MAPPED without AI_ALL: the mapped IPv4 answers only if none of the
names has an IPv6 one).
The canonical name (AI_CANONNAME) of the first entry is printed as
"canon=NAME" when it is one of the looked-up names, else as itself.
Prints "cases N" last.
"""
import itertools
import socket
import sys

S = socket
FAMILIES = [("unspec", S.AF_UNSPEC), ("inet", S.AF_INET), ("inet6", S.AF_INET6)]
TYPES = [("0", 0), ("stream", S.SOCK_STREAM), ("dgram", S.SOCK_DGRAM), ("raw", S.SOCK_RAW)]
PROTOS = [("0", 0), ("tcp", S.IPPROTO_TCP), ("udp", S.IPPROTO_UDP)]
SERVICES = [None, "80", "http", "domain", "no-such-service"]
FLAGS = [("0", 0), ("numericserv", S.AI_NUMERICSERV), ("passive", S.AI_PASSIVE),
         ("canonname", S.AI_CANONNAME), ("v4mapped", S.AI_V4MAPPED),
         ("v4mapped|all", S.AI_V4MAPPED | S.AI_ALL), ("numerichost", S.AI_NUMERICHOST),
         ("addrconfig", S.AI_ADDRCONFIG)]
EAI = {getattr(S, n): n for n in dir(S) if n.startswith("EAI_")}
FAMNAMES = {S.AF_INET: "inet", S.AF_INET6: "inet6"}
TYPENAMES = {S.SOCK_STREAM: "stream", S.SOCK_DGRAM: "dgram", S.SOCK_RAW: "raw"}


def one(name, svc, fam, typ, proto, flags):
    try:
        return S.getaddrinfo(name, svc, fam, typ, proto, flags), None
    except S.gaierror as e:
        return [], EAI.get(e.errno, str(e.errno))
    except OSError as e:  # EAI_SYSTEM
        return [], "EAI_SYSTEM " + str(e.errno)


def entry(r):
    fam, typ, proto, _canon, sa = r
    return f"{FAMNAMES.get(fam, fam)}/{TYPENAMES.get(typ, typ)}/{proto}/{sa[0]}/{sa[1]}"


def main():
    names = sys.argv[1:]
    n = 0
    for (fn, fam), (tn, typ), (pn, proto), svc, (xn, flags) in itertools.product(
            FAMILIES, TYPES, PROTOS, SERVICES, FLAGS):
        results, first_err = [], None
        for i, name in enumerate(names):
            res, err = one(name, svc, fam, typ, proto, flags)
            if err and first_err is None and i == 0:
                first_err = err
            results += res
        if len(names) > 1 and fam == S.AF_INET6 and flags & S.AI_V4MAPPED and not flags & S.AI_ALL:
            # v4-mapped answers only when the name has no IPv6 address at all
            v6 = [r for r in results if not r[4][0].startswith("::ffff:")]
            results = v6 or results
        key = f"fam={fn} type={tn} proto={pn} svc={svc or '-'} flags={xn}"
        if not results:
            print(f"{key} -> error {first_err}")
        else:
            canon = results[0][3]
            c = f" canon={'NAME' if canon in names else canon}" if canon else ""
            print(f"{key} ->{c} " + "; ".join(entry(r) for r in results))
        n += 1
    print(f"cases {n}")


main()
