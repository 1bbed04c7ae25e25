"""The rule for one host: loopback, the allow-list, and every address a name resolves to."""

from __future__ import annotations

import socket

import pytest

from hubchaos.reach import hosts
from hubchaos.reach.hosts import allowed_hosts, host_refusal

OUTSIDE = (
    "refusing to target host '{host}'{detail}: it is outside the blast radius (loopback only "
    "by default); to allow it, add it to the configuration key 'hubchaos_allowed_hosts'"
)


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.9.9.9", "::1", "[::1]", "localhost", "/var/run/postgresql", "@abs"]
)
def test_loopback_and_local_sockets_pass(host: str) -> None:
    assert host_refusal(host, []) is None


@pytest.mark.parametrize("host", ["10.0.0.1", "db.example.com", "::2", "169.254.169.254"])
def test_other_hosts_are_refused_with_the_way_to_allow_them(host: str) -> None:
    assert host_refusal(host, []) == OUTSIDE.format(host=host, detail="")


def test_localhost_is_resolved_and_passes_because_every_address_is_loopback() -> None:
    addresses = hosts.resolve("localhost")  # the real resolver (/etc/hosts)
    assert addresses and all(a.startswith("127.") or a == "::1" for a in addresses)
    assert host_refusal("localhost", []) is None


def test_a_name_resolving_to_loopback_passes_when_the_list_holds_networks() -> None:
    name = socket.gethostname()
    if any(not (a.startswith("127.") or a == "::1") for a in hosts.resolve(name)):
        pytest.skip(f"{name} resolves off loopback here")
    assert host_refusal(name, ["10.0.0.0/8"]) is None  # resolved: it stays on this machine


def test_an_unresolvable_name_is_refused_saying_so() -> None:
    refusal = host_refusal("no-such-host.invalid", ["10.0.0.0/8"])
    assert refusal is not None
    assert refusal.startswith("refusing to target host 'no-such-host.invalid' (it does not resolve")


def test_localhost_pointed_off_the_machine_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # /etc/hosts is shared on this machine, so the resolver's answer is substituted here;
    # the real resolver is exercised by the tests above.
    monkeypatch.setattr(hosts, "resolve", lambda name: ["127.0.0.1", "10.1.2.3"])
    assert host_refusal("localhost", []) == OUTSIDE.format(
        host="localhost", detail=" (it resolves to 10.1.2.3)"
    )
    assert host_refusal("localhost", ["10.1.2.0/24"]) is None


@pytest.mark.parametrize(
    ("allowed", "host"),
    [
        (["10.0.0.1"], "10.0.0.1"),
        (["db.internal"], "DB.internal"),
        (["10.0.0.0/24"], "10.0.0.77"),
        (["fd00::/8"], "[fd00::5]"),
    ],
)
def test_listed_hosts_addresses_and_networks_pass(allowed: list[str], host: str) -> None:
    assert host_refusal(host, allowed) is None


def test_allowed_hosts_come_from_configuration_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUBCHAOS_ALLOWED_HOSTS", "a.example, 10.0.0.0/8")
    assert allowed_hosts(None) == ["a.example", "10.0.0.0/8"]
    assert allowed_hosts({"hubchaos_allowed_hosts": ["B.example"]}) == ["b.example"]
