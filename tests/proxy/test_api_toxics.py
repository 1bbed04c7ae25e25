"""Conformance: the /proxies/{proxy}/toxics endpoints, as upstream Toxiproxy 2.x answers them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.proxy.helpers import EchoServer, api_error, create_proxy

# Every attribute upstream reports for each toxic type (absent ones come back as 0).
ATTRIBUTES: dict[str, set[str]] = {
    "latency": {"latency", "jitter"},
    "bandwidth": {"rate"},
    "slow_close": {"delay"},
    "timeout": {"timeout"},
    "reset_peer": {"timeout"},
    "slicer": {"average_size", "size_variation", "delay"},
    "limit_data": {"bytes"},
}
# Sane values for every attribute; upstream's slicer cannot split data with a zero
# average_size, so hubchaos may demand one (the out-of-range extension).
SANE_VALUES: dict[str, dict[str, int]] = {
    "latency": {"latency": 120, "jitter": 7},
    "bandwidth": {"rate": 64},
    "slow_close": {"delay": 250},
    "timeout": {"timeout": 900},
    "reset_peer": {"timeout": 30},
    "slicer": {"average_size": 64, "size_variation": 8, "delay": 3},
    "limit_data": {"bytes": 2048},
}
TOXIC_FIELDS = {"name", "type", "stream", "toxicity", "attributes"}


@pytest.fixture
def proxy(api: httpx.Client) -> Iterator[str]:
    """A proxy named `web` in front of an echo server; yields the toxics URL."""
    with EchoServer() as echo:
        create_proxy(api, "web", echo.address)
        yield "/proxies/web/toxics"


def add(api: httpx.Client, url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(url, json=body)
    assert response.status_code == 200, response.text
    toxic: dict[str, Any] = response.json()
    return toxic


def test_toxics_index_is_an_empty_list(api: httpx.Client, proxy: str) -> None:
    response = api.get(proxy)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == []


def test_add_answers_200_with_upstream_defaults(api: httpx.Client, proxy: str) -> None:
    response = api.post(proxy, json={"type": "latency", "attributes": {"latency": 100}})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    toxic = response.json()
    assert set(toxic) == TOXIC_FIELDS
    assert toxic["name"] == "latency_downstream"
    assert toxic["type"] == "latency"
    assert toxic["stream"] == "downstream"
    assert toxic["toxicity"] == 1.0
    assert toxic["attributes"] == {"latency": 100, "jitter": 0}


@pytest.mark.parametrize("toxic_type", sorted(ATTRIBUTES))
def test_every_type_reports_absent_attributes_as_zero(
    api: httpx.Client, proxy: str, toxic_type: str
) -> None:
    given = {"average_size": 64} if toxic_type == "slicer" else {}
    toxic = add(api, proxy, {"type": toxic_type, "attributes": given})
    assert toxic["name"] == f"{toxic_type}_downstream"
    assert toxic["attributes"] == dict.fromkeys(ATTRIBUTES[toxic_type], 0) | given
    shown = api.get(f"{proxy}/{toxic['name']}").json()
    assert shown == toxic


@pytest.mark.parametrize("toxic_type", sorted(ATTRIBUTES))
def test_every_type_keeps_given_attributes(api: httpx.Client, proxy: str, toxic_type: str) -> None:
    attributes = SANE_VALUES[toxic_type]
    assert set(attributes) == ATTRIBUTES[toxic_type]
    toxic = add(api, proxy, {"type": toxic_type, "stream": "upstream", "attributes": attributes})
    assert toxic["name"] == f"{toxic_type}_upstream"
    assert toxic["stream"] == "upstream"
    assert toxic["attributes"] == attributes


def test_explicit_name_stream_and_toxicity_are_kept(api: httpx.Client, proxy: str) -> None:
    toxic = add(
        api,
        proxy,
        {
            "name": "slow_db",
            "type": "latency",
            "stream": "upstream",
            "toxicity": 0.5,
            "attributes": {"latency": 10, "jitter": 2},
        },
    )
    assert toxic == {
        "name": "slow_db",
        "type": "latency",
        "stream": "upstream",
        "toxicity": 0.5,
        "attributes": {"latency": 10, "jitter": 2},
    }


def test_toxicity_zero_is_kept_not_defaulted(api: httpx.Client, proxy: str) -> None:
    assert add(api, proxy, {"type": "timeout", "toxicity": 0})["toxicity"] == 0


def test_index_lists_toxics_of_both_streams(api: httpx.Client, proxy: str) -> None:
    add(api, proxy, {"type": "latency"})
    add(api, proxy, {"type": "latency", "stream": "upstream"})
    add(api, proxy, {"type": "bandwidth", "attributes": {"rate": 100}})
    toxics = api.get(proxy).json()
    assert isinstance(toxics, list)
    assert sorted(toxic["name"] for toxic in toxics) == [
        "bandwidth_downstream",
        "latency_downstream",
        "latency_upstream",
    ]
    for toxic in toxics:
        assert set(toxic) == TOXIC_FIELDS


def test_duplicate_name_is_409_even_across_streams(api: httpx.Client, proxy: str) -> None:
    add(api, proxy, {"name": "lag", "type": "latency", "attributes": {"latency": 1}})
    for body in (
        {"name": "lag", "type": "latency"},
        {"name": "lag", "type": "timeout", "stream": "upstream"},
    ):
        response = api.post(proxy, json=body)
        assert response.status_code == 409
        assert api_error(response) == "toxic already exists"
    toxics = api.get(proxy).json()
    assert [(t["name"], t["type"], t["attributes"]["latency"]) for t in toxics] == [
        ("lag", "latency", 1)
    ]


def test_duplicate_default_name_is_409(api: httpx.Client, proxy: str) -> None:
    add(api, proxy, {"type": "latency"})
    response = api.post(proxy, json={"type": "latency", "stream": "downstream"})
    assert response.status_code == 409
    assert api_error(response) == "toxic already exists"


@pytest.mark.parametrize("body", [{"type": "latancy"}, {"type": ""}, {"attributes": {}}])
def test_invalid_toxic_type_is_400(api: httpx.Client, proxy: str, body: dict[str, Any]) -> None:
    response = api.post(proxy, json=body)
    assert response.status_code == 400
    assert api_error(response) == "invalid toxic type"
    assert api.get(proxy).json() == []


@pytest.mark.parametrize("stream", ["sideways", ""])
def test_invalid_stream_is_400(api: httpx.Client, proxy: str, stream: str) -> None:
    response = api.post(proxy, json={"type": "latency", "stream": stream})
    assert response.status_code == 400
    assert api_error(response) == "stream was invalid, can be either upstream or downstream"
    assert api.get(proxy).json() == []


@pytest.mark.parametrize(
    "content",
    [
        b"{nope",
        b"[]",
        b'{"type": 3}',
        b'{"type": "latency", "toxicity": "high"}',
        b'{"type": "latency", "attributes": {"latency": "slow"}}',
        b'{"type": "latency", "attributes": {"latency": 1.5}}',
        b'{"type": "latency", "attributes": {"latency": 1180591620717411303424}}',
        b'{"type": "latency", "attributes": [1, 2]}',
    ],
)
def test_bad_toxic_body_is_400(api: httpx.Client, proxy: str, content: bytes) -> None:
    response = api.post(proxy, content=content)
    assert response.status_code == 400
    assert api_error(response)
    assert api.get(proxy).json() == []


def test_show_unknown_toxic_is_404(api: httpx.Client, proxy: str) -> None:
    response = api.get(f"{proxy}/nothing")
    assert response.status_code == 404
    assert api_error(response) == "toxic not found"


def test_patch_merges_attributes_and_keeps_the_rest(api: httpx.Client, proxy: str) -> None:
    add(
        api,
        proxy,
        {"type": "latency", "toxicity": 0.5, "attributes": {"latency": 100, "jitter": 10}},
    )
    response = api.patch(f"{proxy}/latency_downstream", json={"attributes": {"latency": 250}})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "name": "latency_downstream",
        "type": "latency",
        "stream": "downstream",
        "toxicity": 0.5,
        "attributes": {"latency": 250, "jitter": 10},
    }
    assert api.get(f"{proxy}/latency_downstream").json() == response.json()


def test_patch_changes_toxicity_only(api: httpx.Client, proxy: str) -> None:
    add(api, proxy, {"type": "bandwidth", "attributes": {"rate": 64}})
    response = api.patch(f"{proxy}/bandwidth_downstream", json={"toxicity": 0.25})
    assert response.status_code == 200, response.text
    assert response.json()["toxicity"] == 0.25
    assert response.json()["attributes"] == {"rate": 64}


def test_legacy_post_update_behaves_like_patch(api: httpx.Client, proxy: str) -> None:
    add(api, proxy, {"type": "slicer", "attributes": {"average_size": 64}})
    response = api.post(f"{proxy}/slicer_downstream", json={"attributes": {"delay": 5}})
    assert response.status_code == 200, response.text
    assert response.json()["attributes"] == {"average_size": 64, "size_variation": 0, "delay": 5}


@pytest.mark.parametrize("method", ["PATCH", "POST"])
def test_update_unknown_toxic_is_404(api: httpx.Client, proxy: str, method: str) -> None:
    response = api.request(method, f"{proxy}/nothing", json={"toxicity": 0.5})
    assert response.status_code == 404
    assert api_error(response) == "toxic not found"


@pytest.mark.parametrize(
    "content", [b"{nope", b'{"toxicity": "x"}', b'{"attributes": {"latency": "x"}}']
)
def test_bad_update_body_is_400_and_changes_nothing(
    api: httpx.Client, proxy: str, content: bytes
) -> None:
    before = add(api, proxy, {"type": "latency", "attributes": {"latency": 7}})
    response = api.patch(f"{proxy}/latency_downstream", content=content)
    assert response.status_code == 400
    assert api_error(response)
    assert api.get(f"{proxy}/latency_downstream").json() == before


def test_delete_answers_204_with_no_body(api: httpx.Client, proxy: str) -> None:
    add(api, proxy, {"type": "latency"})
    response = api.delete(f"{proxy}/latency_downstream")
    assert response.status_code == 204
    assert response.content == b""
    assert api.get(proxy).json() == []
    again = api.delete(f"{proxy}/latency_downstream")
    assert again.status_code == 404
    assert api_error(again) == "toxic not found"


def test_a_removed_name_can_be_added_again(api: httpx.Client, proxy: str) -> None:
    add(api, proxy, {"type": "latency", "attributes": {"latency": 1}})
    assert api.delete(f"{proxy}/latency_downstream").status_code == 204
    toxic = add(api, proxy, {"type": "latency", "attributes": {"latency": 2}})
    assert toxic["attributes"]["latency"] == 2


def test_update_accepts_the_toxic_echoed_back(api: httpx.Client, proxy: str) -> None:
    # Clients often GET a toxic, change a field and send the whole object back.
    toxic = add(api, proxy, {"type": "latency", "attributes": {"latency": 5}})
    toxic["attributes"]["latency"] = 50
    toxic["toxicity"] = 0.5
    response = api.patch(f"{proxy}/latency_downstream", json=toxic)
    assert response.status_code == 200, response.text
    assert response.json() == toxic


@pytest.mark.parametrize("field", ["name", "stream", "toxicity", "attributes"])
def test_null_on_create_means_absent(api: httpx.Client, proxy: str, field: str) -> None:
    # Upstream decodes JSON null as "leave the default"; chaostoolkit-toxiproxy
    # itself sends "attributes": null when none are given.
    toxic = add(api, proxy, {"type": "latency", field: None})
    assert toxic == {
        "name": "latency_downstream",
        "type": "latency",
        "stream": "downstream",
        "toxicity": 1.0,
        "attributes": {"latency": 0, "jitter": 0},
    }


@pytest.mark.parametrize("field", ["toxicity", "attributes"])
def test_null_on_update_means_unchanged(api: httpx.Client, proxy: str, field: str) -> None:
    before = add(api, proxy, {"type": "latency", "toxicity": 0.5, "attributes": {"latency": 3}})
    response = api.patch(f"{proxy}/latency_downstream", json={field: None})
    assert response.status_code == 200, response.text
    assert response.json() == before
