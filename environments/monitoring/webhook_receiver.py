"""Webhook receiver: records every Alertmanager notification, so a probe can prove
that an alert did not only fire but reached on-call.

    python3 environments/monitoring/webhook_receiver.py --host 127.0.0.1 --port 19095 --out FILE

POST /alerts            Alertmanager webhook; the payload is kept with `received_at`
                        (Unix seconds) and appended to FILE as one JSON line.
GET  /notifications     JSON list, oldest first; filters: ?alertname=, ?status=firing|resolved
                        (both match individual alerts), ?since=<Unix seconds>.
GET  /healthz           200 while serving.

Standard library only, so it runs wherever Python does. Stops cleanly on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, TextIO
from urllib.parse import parse_qs, urlsplit

__all__ = ["MAX_BODY_BYTES", "NotificationLog", "ReceiverServer", "main"]

MAX_BODY_BYTES = 1024 * 1024
# Memory bound; the file keeps everything.
MAX_KEPT_NOTIFICATIONS = 10_000
_ALERT_STATUSES = ("firing", "resolved")
_SOCKET_TIMEOUT_S = 10.0


class NotificationLog:
    """Thread-safe record of notifications, in memory and as JSON lines in a file."""

    def __init__(self, out: TextIO, max_kept: int = MAX_KEPT_NOTIFICATIONS) -> None:
        self._out = out
        self._kept: deque[dict[str, Any]] = deque(maxlen=max_kept)
        self._lock = threading.Lock()

    def record(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        entry = {"received_at": time.time(), **payload}
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with self._lock:
            # File first: if it fails Alertmanager retries, and memory holds no duplicate.
            self._out.write(line)
            self._out.flush()
            self._kept.append(entry)
        return entry

    def select(
        self,
        alertname: str | None = None,
        status: str | None = None,
        since: float | None = None,
    ) -> list[dict[str, Any]]:
        with self._lock:
            entries = list(self._kept)
        return [
            entry
            for entry in entries
            if (since is None or entry["received_at"] >= since)
            and _has_matching_alert(entry, alertname, status)
        ]


def _has_matching_alert(
    entry: Mapping[str, Any], alertname: str | None, status: str | None
) -> bool:
    if alertname is None and status is None:
        return True
    for alert in entry.get("alerts", []):
        labels = alert.get("labels") or {}
        if alertname is not None and labels.get("alertname") != alertname:
            continue
        if status is not None and alert.get("status") != status:
            continue
        return True
    return False


class ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], log: NotificationLog) -> None:
        super().__init__(address, _Handler)
        self.log = log


class _BadRequest(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Handler(BaseHTTPRequestHandler):
    server: ReceiverServer
    protocol_version = "HTTP/1.1"  # keep-alive for Alertmanager's client
    timeout = _SOCKET_TIMEOUT_S  # a stalled client cannot hold a thread forever

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/healthz":
            self._reply(HTTPStatus.OK, {"status": "ok"})
        elif url.path == "/notifications":
            try:
                filters = _parse_filters(url.query)
            except _BadRequest as exc:
                self._reply(exc.status, {"error": exc.message})
                return
            self._reply(HTTPStatus.OK, self.server.log.select(**filters))
        else:
            self._reply(HTTPStatus.NOT_FOUND, {"error": f"no route {url.path}"})

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/alerts":
            self.close_connection = True  # the unread body must not become the next request
            self._reply(HTTPStatus.NOT_FOUND, {"error": f"no route {url.path}"})
            return
        try:
            payload = self._read_notification()
        except _BadRequest as exc:
            self.close_connection = True
            self._reply(exc.status, {"error": exc.message})
            return
        entry = self.server.log.record(payload)
        alerts = payload["alerts"]
        names = sorted({str((a.get("labels") or {}).get("alertname")) for a in alerts})
        self._log_line(
            f"notification {payload.get('status')} {','.join(names)} ({len(alerts)} alerts)"
        )
        self._reply(HTTPStatus.OK, {"recorded": True, "received_at": entry["received_at"]})

    def _read_notification(self) -> dict[str, Any]:
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            raise _BadRequest(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required")
        try:
            length = int(length_header)
        except ValueError:
            raise _BadRequest(HTTPStatus.BAD_REQUEST, "Content-Length is not a number") from None
        if length < 0:
            raise _BadRequest(HTTPStatus.BAD_REQUEST, "Content-Length is negative")
        if length > MAX_BODY_BYTES:
            raise _BadRequest(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body over {MAX_BODY_BYTES} bytes"
            )
        body = self.rfile.read(length)
        if len(body) != length:
            raise _BadRequest(HTTPStatus.BAD_REQUEST, "body shorter than Content-Length")
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise _BadRequest(HTTPStatus.BAD_REQUEST, "body is not JSON") from None
        alerts = payload.get("alerts") if isinstance(payload, dict) else None
        if not isinstance(alerts, list) or not all(isinstance(a, dict) for a in alerts):
            raise _BadRequest(
                HTTPStatus.BAD_REQUEST, "not an Alertmanager notification (no 'alerts' list)"
            )
        return payload

    def _reply(self, status: HTTPStatus, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Access lines for every health check would drown the log: failures only.
        if str(code).isdigit() and int(code) >= 400:
            self._log_line(f'"{self.requestline}" {code}')

    def log_message(self, format: str, *args: Any) -> None:
        self._log_line(format % args)

    def _log_line(self, message: str) -> None:
        sys.stderr.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} webhook-receiver {message}\n")


def _parse_filters(query: str) -> dict[str, Any]:
    params = {key: values[-1] for key, values in parse_qs(query).items()}
    unknown = set(params) - {"alertname", "status", "since"}
    if unknown:
        raise _BadRequest(
            HTTPStatus.BAD_REQUEST, f"unknown filter(s): {', '.join(sorted(unknown))}"
        )
    status = params.get("status")
    if status is not None and status not in _ALERT_STATUSES:
        raise _BadRequest(HTTPStatus.BAD_REQUEST, "status must be 'firing' or 'resolved'")
    since: float | None = None
    if "since" in params:
        try:
            since = float(params["since"])
        except ValueError:
            raise _BadRequest(HTTPStatus.BAD_REQUEST, "since must be Unix seconds") from None
    return {"alertname": params.get("alertname"), "status": status, "since": since}


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 webhook_receiver.py",
        description="Record Alertmanager webhook notifications (POST /alerts).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=19095, help="port (0 picks a free one)")
    parser.add_argument("--out", type=Path, required=True, help="JSON-lines file to append to")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        out = args.out.open("a", encoding="utf-8")
    except OSError as exc:
        print(f"webhook receiver: cannot open --out {args.out}: {exc.strerror}", file=sys.stderr)
        return 2
    with out:
        try:
            server = ReceiverServer((args.host, args.port), NotificationLog(out))
        except OSError as exc:
            print(
                f"webhook receiver: cannot listen on {args.host}:{args.port}: {exc.strerror} "
                "(choose another --port)",
                file=sys.stderr,
            )
            return 2
        _stop_on_signals(server)
        host, port = server.server_address[:2]
        print(f"webhook receiver listening on http://{host!s}:{port}", flush=True)
        try:
            server.serve_forever(poll_interval=0.2)
        finally:
            server.server_close()
    return 0


def _stop_on_signals(server: ReceiverServer) -> None:
    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever(), which runs in this very thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


if __name__ == "__main__":
    sys.exit(main())
