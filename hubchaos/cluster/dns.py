"""The local cluster's DNS: Service names of the apiserver answered on the pod bridge.

No CoreDNS image can be had here, and a pod cannot reach the apiserver (it listens
on the host's loopback only), so the host answers instead: this small server binds
the bridge's gateway address (IP_FREEBIND: before the bridge exists) and answers
A queries for `<service>.<namespace>.svc.cluster.local` with the Service's cluster
IP (a headless Service: one A record per ready endpoint, as CoreDNS does, so
Prometheus' DNS discovery finds every learninghub pod), read from the apiserver
with the admin certificate. Every other name is
NXDOMAIN: the sandbox has no outside world to forward to.

Run as `python -m hubchaos.cluster.dns KUBECONFIG_DIR APISERVER_PORT ADDRESS`.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import struct
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

__all__ = ["CLUSTER_DOMAIN", "Addresses", "answer", "parse_question", "serve"]

CLUSTER_DOMAIN = "svc.cluster.local"
_IP_FREEBIND = 15
_TTL_S = 5
_CACHE_S = 2.0


def parse_question(packet: bytes) -> tuple[int, int, str, int, int]:
    """(id, flags, name, qtype, end of the question) of a query with one question."""
    query_id, flags, qdcount = struct.unpack("!HHH", packet[:6])
    if qdcount != 1:
        raise ValueError("one question expected")
    labels, offset = [], 12
    while packet[offset]:
        length = packet[offset]
        labels.append(packet[offset + 1 : offset + 1 + length].decode("ascii"))
        offset += 1 + length
    qtype, _ = struct.unpack("!HH", packet[offset + 1 : offset + 5])
    return query_id, flags, ".".join(labels).lower(), qtype, offset + 5


Addresses = str | list[str]  # a cluster IP, or a headless Service's ready endpoints


def answer(packet: bytes, services: dict[tuple[str, str], Addresses]) -> bytes:
    """The reply to `packet`: A records for a known Service, else NXDOMAIN/empty."""
    query_id, flags, name, qtype, end = parse_question(packet)
    found: Addresses | None = None
    if name.endswith("." + CLUSTER_DOMAIN):
        parts = name[: -len(CLUSTER_DOMAIN) - 1].split(".")
        if len(parts) == 2:
            found = services.get((parts[1], parts[0]))
    recursion = flags & 0x0100
    if not found:
        header = struct.pack("!HHHHHH", query_id, 0x8083 | recursion, 1, 0, 0, 0)
        return header + packet[12:end]
    addresses = [found] if isinstance(found, str) else found
    if qtype != 1:  # AAAA and the rest: the name exists, no record of that type
        addresses = []
    records = b"".join(
        struct.pack("!HHHIH", 0xC00C, 1, 1, _TTL_S, 4) + ipaddress.IPv4Address(ip).packed
        for ip in addresses
    )
    header = struct.pack("!HHHHHH", query_id, 0x8080 | recursion, 1, len(addresses), 0, 0)
    return header + packet[12:end] + records


class _Services:
    """(namespace, name) -> addresses, refreshed from the apiserver at most every 2 s."""

    def __init__(self, pki: Path, apiserver_port: int) -> None:
        self._context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        self._context.load_cert_chain(pki / "admin.crt", pki / "admin.key")
        self._url = f"https://127.0.0.1:{apiserver_port}/api/v1/services"
        self._table: dict[tuple[str, str], Addresses] = {}
        self._fetched = 0.0

    def table(self) -> dict[tuple[str, str], Addresses]:
        if time.monotonic() - self._fetched > _CACHE_S:
            try:
                table: dict[tuple[str, str], Addresses] = {
                    (i["metadata"]["namespace"], i["metadata"]["name"]): i["spec"]["clusterIP"]
                    for i in self._items("services")
                    if i["spec"].get("clusterIP") not in (None, "", "None")
                }
                # A headless Service: every ready address of its endpoints (UDP's
                # 512 bytes hold 29 records; a hub has far fewer pods).
                for item in self._items("endpoints"):
                    key = (item["metadata"]["namespace"], item["metadata"]["name"])
                    addresses = [a["ip"] for s in item.get("subsets") or []
                                 for a in s.get("addresses") or []]  # fmt: skip
                    if key not in table and addresses:
                        table[key] = addresses[:29]
                self._table = table
                self._fetched = time.monotonic()
            except (OSError, ValueError, KeyError):
                pass  # keep answering from the last table
        return self._table

    def _items(self, resource: str) -> list[dict[str, Any]]:
        url = self._url.replace("/services", f"/{resource}")
        with urllib.request.urlopen(url, timeout=2, context=self._context) as response:
            return list(json.loads(response.read())["items"])


def serve(pki: Path, apiserver_port: int, address: str, port: int = 53) -> None:
    services = _Services(pki, apiserver_port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.setsockopt(socket.SOL_IP, _IP_FREEBIND, 1)
        server.bind((address, port))
        while True:
            packet, peer = server.recvfrom(512)
            try:
                server.sendto(answer(packet, services.table()), peer)
            except (ValueError, IndexError, UnicodeDecodeError, struct.error):
                continue  # not a query we understand: no answer, the client retries


if __name__ == "__main__":
    serve(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
