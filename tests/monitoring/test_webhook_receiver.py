"""The webhook receiver as a real subprocess: what a probe relies on to prove an
alert reached on-call."""

from __future__ import annotations

import copy
import json
import runpy
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from hubchaos.stack.monitoring import webhook_receiver_program
from tests.conftest import free_port
from tests.monitoring.conftest import Service

# The receiver is a script of the monitoring environment, not a module of the runner.
MAX_BODY_BYTES = runpy.run_path(str(webhook_receiver_program()))["MAX_BODY_BYTES"]

# The shape Alertmanager 0.25 posts (webhook payload version 4).
FIRING: dict[str, Any] = {
    "receiver": "hub-webhook",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "HubDBPoolRequestsWaiting",
                "cause": "queue",
                "pool": "app-1",
                "severity": "warning",
            },
            "annotations": {
                "summary": "3 requests waiting for a DB connection on app-1",
                "runbook_url": "environments/monitoring/RUNBOOK.md#hubdbpoolrequestswaiting",
            },
            "startsAt": "2024-01-15T09:12:03.000Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://127.0.0.1:19090/graph",
            "fingerprint": "8c1f4a9d2e7b3c60",
        }
    ],
    "groupLabels": {"alertname": "HubDBPoolRequestsWaiting"},
    "commonLabels": {"alertname": "HubDBPoolRequestsWaiting", "pool": "app-1"},
    "commonAnnotations": {},
    "externalURL": "http://127.0.0.1:19093",
    "version": "4",
    "groupKey": '{}:{alertname="HubDBPoolRequestsWaiting"}',
    "truncatedAlerts": 0,
}


def notification(alertname: str, status: str) -> dict[str, Any]:
    payload = copy.deepcopy(FIRING)
    payload["status"] = status
    payload["alerts"][0]["status"] = status
    payload["alerts"][0]["labels"]["alertname"] = alertname
    payload["groupLabels"] = {"alertname": alertname}
    return payload


def post(url: str, payload: object) -> httpx.Response:
    return httpx.post(f"{url}/alerts", json=payload, timeout=5.0)


def listed(url: str, **filters: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{url}/notifications", params=filters, timeout=5.0)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


def test_records_each_notification_with_its_receive_time(receiver: tuple[Service, Path]) -> None:
    service, out = receiver
    before = time.time()
    response = post(service.url, FIRING)
    after = time.time()
    assert response.status_code == 200

    entries = listed(service.url)
    assert len(entries) == 1
    entry = entries[0]
    assert before <= entry["received_at"] <= after
    assert {key: value for key, value in entry.items() if key != "received_at"} == FIRING
    # The file holds the same record, one JSON object per line.
    assert [json.loads(line) for line in out.read_text().splitlines()] == entries

    post(service.url, notification("HubDBPoolRequestsWaiting", "resolved"))
    assert [e["status"] for e in listed(service.url)] == ["firing", "resolved"]
    assert len(out.read_text().splitlines()) == 2


def test_filters_by_alert_name_status_and_time(receiver: tuple[Service, Path]) -> None:
    url = receiver[0].url
    post(url, notification("HubDBPoolSaturated", "firing"))
    post(url, notification("HubDBPoolRequestsWaiting", "firing"))
    midpoint = time.time()
    time.sleep(0.01)
    post(url, notification("HubDBPoolRequestsWaiting", "resolved"))

    waiting = listed(url, alertname="HubDBPoolRequestsWaiting")
    assert [e["status"] for e in waiting] == ["firing", "resolved"]
    resolved = listed(url, alertname="HubDBPoolRequestsWaiting", status="resolved")
    assert [e["alerts"][0]["status"] for e in resolved] == ["resolved"]
    assert [e["groupLabels"]["alertname"] for e in listed(url, status="firing")] == [
        "HubDBPoolSaturated",
        "HubDBPoolRequestsWaiting",
    ]
    assert [e["status"] for e in listed(url, since=str(midpoint))] == ["resolved"]
    assert listed(url, alertname="HubDatabaseDown") == []


def test_matches_individual_alerts_in_a_grouped_notification(
    receiver: tuple[Service, Path],
) -> None:
    url = receiver[0].url
    grouped = notification("HubDBPoolSaturated", "firing")
    second = copy.deepcopy(grouped["alerts"][0])
    second["status"] = "resolved"
    second["labels"]["pool"] = "app-2"
    grouped["alerts"].append(second)
    post(url, grouped)

    # The group still fires (app-1), but app-2's alert in it has resolved.
    assert len(listed(url, alertname="HubDBPoolSaturated", status="resolved")) == 1
    assert len(listed(url, alertname="HubDBPoolSaturated", status="firing")) == 1


def test_rejects_what_is_not_a_notification_and_records_nothing(
    receiver: tuple[Service, Path],
) -> None:
    service, out = receiver
    url = service.url
    not_json = httpx.post(f"{url}/alerts", content=b"{not json", timeout=5.0)
    assert not_json.status_code == 400
    assert "not JSON" in not_json.json()["error"]
    assert post(url, ["a", "list"]).status_code == 400
    assert post(url, {"alerts": "not a list"}).status_code == 400
    assert post(url, {"alerts": ["not an object"]}).status_code == 400
    assert httpx.post(f"{url}/elsewhere", json=FIRING, timeout=5.0).status_code == 404
    assert httpx.get(f"{url}/nothing-here", timeout=5.0).status_code == 404
    bad_filter = httpx.get(f"{url}/notifications", params={"status": "maybe"}, timeout=5.0)
    assert bad_filter.status_code == 400
    assert httpx.get(f"{url}/notifications?since=yesterday", timeout=5.0).status_code == 400
    assert httpx.get(f"{url}/notifications?colour=red", timeout=5.0).status_code == 400

    assert listed(url) == []
    assert out.read_text() == ""


def test_refuses_an_oversized_body_without_reading_it(receiver: tuple[Service, Path]) -> None:
    service, _ = receiver
    port = int(service.url.rsplit(":", 1)[1])
    request = (
        "POST /alerts HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=5.0) as sock:
        sock.sendall(request.encode())
        status_line = sock.recv(1024).split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large"
    assert httpx.get(f"{service.url}/healthz", timeout=5.0).status_code == 200
    assert listed(service.url) == []


def test_sigterm_stops_it_cleanly_and_frees_the_port(receiver: tuple[Service, Path]) -> None:
    service, _ = receiver
    post(service.url, FIRING)
    service.process.send_signal(signal.SIGTERM)
    assert service.process.wait(timeout=5.0) == 0
    port = int(service.url.rsplit(":", 1)[1])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # raises if anything still listens


def test_a_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", free_port()))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                str(webhook_receiver_program()),
                "--port",
                str(port),
                "--out",
                str(tmp_path / "n.jsonl"),
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"webhook receiver: cannot listen on 127.0.0.1:{port}: Address already in use "
        "(choose another --port)"
    ]
