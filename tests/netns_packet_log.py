"""Log every packet that leaves a process for the network, inside a network namespace.

Run as root inside ``unshare -n`` after ``ip route add local 0.0.0.0/0 dev lo`` (and the IPv6
equivalent): every address then routes over the loopback device, so a DNS query to the host's
resolver or a connection attempt to any server appears here instead of failing unseen with
"network unreachable". An ``AF_PACKET`` socket on ``lo`` sees native code's traffic too, which
Python's audit hooks do not. Writes one JSON line per finding to ``argv[1]``: DNS queries (UDP to
port 53) and TCP connection attempts or UDP datagrams to any non-loopback address. Runs until
killed.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import struct
import sys

ETH_P_ALL = 0x0003


def _query_name(dns: bytes) -> str:
    """The first question's name of a DNS query (after the 12-byte header), best effort."""
    labels: list[str] = []
    pos = 12
    while pos < len(dns) and dns[pos] and len(labels) < 64:
        size = dns[pos]
        labels.append(dns[pos + 1 : pos + 1 + size].decode("ascii", "replace"))
        pos += 1 + size
    return ".".join(labels)


def _finding(frame: bytes) -> dict[str, object] | None:
    ethertype = struct.unpack("!H", frame[12:14])[0]
    payload = frame[14:]
    if ethertype == 0x0800 and len(payload) >= 20:
        header = (payload[0] & 0x0F) * 4
        proto = payload[9]
        dst = ipaddress.ip_address(payload[16:20])
        l4 = payload[header:]
    elif ethertype == 0x86DD and len(payload) >= 40:
        proto = payload[6]
        dst = ipaddress.ip_address(payload[24:40])
        l4 = payload[40:]
    else:
        return None
    if proto not in (6, 17) or len(l4) < 14:
        return None
    dport = struct.unpack("!H", l4[2:4])[0]
    if proto == 17 and dport == 53:
        return {"kind": "dns", "dst": str(dst), "name": _query_name(l4[8:])}
    if dst.is_loopback:
        return None
    if proto == 6 and not l4[13] & 0x02:  # only the SYN of a TCP connection attempt
        return None
    return {"kind": "tcp" if proto == 6 else "udp", "dst": str(dst), "port": dport}


def main() -> None:
    sniffer = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sniffer.bind(("lo", 0))
    with open(sys.argv[1], "a", encoding="utf-8") as log:  # noqa: PTH123
        print("ready", file=log, flush=True)
        while True:
            frame, meta = sniffer.recvfrom(65535)
            if meta[2] == socket.PACKET_OUTGOING:
                continue  # each looped packet is seen twice; count it once, on the way in
            finding = _finding(frame)
            if finding is not None:
                log.write(json.dumps(finding) + "\n")
                log.flush()


if __name__ == "__main__":
    main()
