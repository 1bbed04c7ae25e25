"""GET /metrics: Prometheus text exposition of every proxy's traffic and toxics.

Byte counters keep upstream Toxiproxy's names and labels
(`toxiproxy_proxy_{received,sent}_bytes_total{direction,proxy,listener,upstream}`);
connection and toxic series are hubchaos additions under the same prefix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from hubchaos.proxy.proxy import Proxy

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


# (name, type, help, value of one proxy); one series per proxy.
_PER_PROXY: list[tuple[str, str, str, Callable[[Proxy], float]]] = [
    (
        "toxiproxy_proxy_connections_total",
        "counter",
        "Client connections accepted.",
        lambda proxy: proxy.counters.connections,
    ),
    (
        "toxiproxy_proxy_connections_active",
        "gauge",
        "Client connections open now.",
        lambda proxy: len(proxy.links),
    ),
    (
        "toxiproxy_proxy_upstream_errors_total",
        "counter",
        "Connections closed because the upstream could not be reached.",
        lambda proxy: proxy.counters.upstream_failures,
    ),
    (
        "toxiproxy_proxy_enabled",
        "gauge",
        "1 while the proxy accepts connections.",
        lambda proxy: int(proxy.enabled),
    ),
    (
        "toxiproxy_proxy_toxics_active",
        "gauge",
        "Toxics configured on the proxy.",
        lambda proxy: len(proxy.toxics),
    ),
]


def render(proxies: Iterable[Proxy]) -> bytes:
    proxies = list(proxies)
    out: list[str] = []
    totals = {proxy.name: _bytes(proxy) for proxy in proxies}
    for index, name in enumerate(("received", "sent")):
        metric = f"toxiproxy_proxy_{name}_bytes_total"
        _family(out, metric, "counter", f"Bytes {name} by the proxy, per direction.")
        for proxy in proxies:
            for direction, value in totals[proxy.name][index].items():
                out.append(_sample(metric, _labels(proxy, direction), value))
    for metric, kind, help_text, value_of in _PER_PROXY:
        _family(out, metric, kind, help_text)
        out.extend(_sample(metric, _labels(proxy), value_of(proxy)) for proxy in proxies)
    metric = "toxiproxy_proxy_toxic"
    _family(out, metric, "gauge", "One series per active toxic; the value is its toxicity.")
    for proxy in proxies:
        for toxic in proxy.toxics.values():
            labels = {
                "proxy": proxy.name,
                "toxic": toxic.name,
                "type": toxic.kind.name,
                "stream": toxic.stream,
            }
            out.append(_sample(metric, labels, toxic.toxicity))
    return ("\n".join(out) + "\n").encode()


def _family(out: list[str], name: str, kind: str, help_text: str) -> None:
    out.append(f"# HELP {name} {help_text}")
    out.append(f"# TYPE {name} {kind}")


def _bytes(proxy: Proxy) -> tuple[dict[str, int], dict[str, int]]:
    received = dict(proxy.counters.bytes_received)
    sent = dict(proxy.counters.bytes_sent)
    for link in proxy.links:
        for endpoint in (link.client, link.server):
            received[endpoint.stream] += endpoint.received
            sent[endpoint.stream] += endpoint.sent
    return received, sent


def _labels(proxy: Proxy, direction: str | None = None) -> dict[str, str]:
    labels = {"proxy": proxy.name, "listener": proxy.listen, "upstream": proxy.upstream}
    if direction is not None:
        labels = {"direction": direction, **labels}
    return labels


def _sample(name: str, labels: dict[str, str], value: float) -> str:
    text = ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items())
    return f"{name}{{{text}}} {value}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
