"""Every route answers with the right data, errors are one JSON line, metrics and logs follow."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import psycopg
import pytest

from tests.hub.conftest import AppLauncher, HubApp, HubDatabase


@pytest.fixture(scope="module")
def app(hub_db: HubDatabase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubApp]:
    """One app shared by the module: these tests only read or add chat messages."""
    launcher = AppLauncher(hub_db, tmp_path_factory.mktemp("routes"))
    try:
        yield launcher.start(pool_min=1, pool_max=4, pool_timeout=2)
    finally:
        launcher.stop_all()


def query(hub_db: HubDatabase, sql: str, *params: object) -> list[tuple[object, ...]]:
    with psycopg.connect(hub_db.admin_dsn) as conn:
        return conn.execute(sql, params).fetchall()


def test_dashboard_shows_the_students_courses_grades_and_upcoming_work(
    app: HubApp, hub_db: HubDatabase
) -> None:
    response = app.get("/students/42/dashboard")
    assert response.status_code == 200
    page = response.json()

    assert page["student"]["id"] == 42
    assert page["student"]["email"] == "student42@learninghub.test"
    enrolled = query(
        hub_db,
        "SELECT c.code FROM enrolments e JOIN courses c ON c.id = e.course_id "
        "WHERE e.student_id = 42 ORDER BY c.code",
    )
    assert [c["code"] for c in page["courses"]] == [row[0] for row in enrolled]
    assert 4 <= len(page["courses"]) <= 8
    assert all(0 <= c["average_percent"] <= 100 for c in page["courses"])

    grades = page["recent_grades"]
    assert 1 <= len(grades) <= 10
    graded = [g["graded_at"] for g in grades]
    assert graded == sorted(graded, reverse=True)
    assert {g["course_code"] for g in grades} <= {row[0] for row in enrolled}

    upcoming = page["upcoming"]
    assert upcoming, "the seed keeps assignments due for months"
    due = [datetime.fromisoformat(u["due_at"]) for u in upcoming]
    assert due == sorted(due)
    now = query(hub_db, "SELECT now()")[0][0]
    assert isinstance(now, datetime)
    assert all(d >= now for d in due)


def test_unknown_student_is_404_with_one_json_line(app: HubApp) -> None:
    response = app.get("/students/987654/dashboard")
    assert response.status_code == 404
    assert response.json() == {"error": "student 987654 not found"}
    assert app.get("/students/abc/dashboard").status_code == 404
    assert app.get("/no/such/route").json() == {"error": "no such route"}


def test_messages_list_latest_first_with_limit(app: HubApp) -> None:
    response = app.get("/rooms/math-101/messages?limit=5")
    assert response.status_code == 200
    body = response.json()
    assert body["room"] == "math-101"
    ids = [m["id"] for m in body["messages"]]
    assert len(ids) == 5 and ids == sorted(ids, reverse=True)
    assert set(body["messages"][0]) == {"id", "author_id", "author_name", "body", "created_at"}
    assert len(app.get("/rooms/general/messages").json()["messages"]) == 50  # default limit


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/rooms/general/messages?limit=0", 400),
        ("/rooms/general/messages?limit=201", 400),
        ("/rooms/general/messages?limit=abc", 400),
        ("/rooms/no-such-room/messages", 404),
        ("/rooms/Bad_Room/messages", 404),
    ],
)
def test_messages_list_rejects_bad_input(app: HubApp, path: str, status: int) -> None:
    response = app.get(path)
    assert response.status_code == status
    assert list(response.json()) == ["error"]


def test_posted_message_is_listed_first(app: HubApp) -> None:
    response = app.post(
        "/rooms/study-hall/messages", json={"author_id": 12, "body": "see you at 6"}
    )
    assert response.status_code == 201
    posted = response.json()
    assert posted["author_id"] == 12 and posted["body"] == "see you at 6"
    latest = app.get("/rooms/study-hall/messages?limit=1").json()["messages"][0]
    assert latest["id"] == posted["id"] and latest["body"] == "see you at 6"


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        (b"not json", 400, "request body must be JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (b'{"body": "hi"}', 422, "author_id must be a positive integer"),
        (b'{"author_id": true, "body": "hi"}', 422, "author_id"),
        (b'{"author_id": 999999, "body": "hi"}', 422, "author_id 999999 is not a known student"),
        (b'{"author_id": 1, "body": "   "}', 422, "body must be a non-empty string"),
        (b'{"author_id": 1, "body": "' + b"x" * 2001 + b'"}', 422, "at most 2000"),
    ],
)
def test_post_validation_is_one_line(
    app: HubApp, payload: bytes, status: int, message: str
) -> None:
    response = app.post("/rooms/general/messages", content=payload)
    assert response.status_code == status
    error = response.json()["error"]
    assert message in error and "\n" not in error


def test_post_to_unknown_room_is_404(app: HubApp) -> None:
    response = app.post("/rooms/nowhere/messages", json={"author_id": 1, "body": "hello?"})
    assert response.status_code == 404


def test_health_and_readiness(app: HubApp) -> None:
    assert app.get("/healthz").json() == {"status": "alive"}
    assert app.get("/readyz").json() == {"status": "ready"}
    assert app.metric("learninghub_db_up") == 1


def test_metrics_have_the_contract_names_and_labels(app: HubApp) -> None:
    assert app.get("/students/3/dashboard").status_code == 200
    assert (
        app.post("/rooms/general/messages", json={"author_id": 3, "body": "m"}).status_code == 201
    )
    response = app.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    samples = app.metrics()

    def labels_of(name: str) -> list[dict[str, str]]:
        return [dict(labels) for (sample, labels) in samples if sample == name]

    pool = app.pool_name
    assert {tuple(sorted(lbl.items())) for lbl in labels_of("db_client_connection_count")} == {
        (("pool", pool), ("state", "idle")),
        (("pool", pool), ("state", "used")),
    }
    for gauge in (
        "db_client_connection_max",
        "db_client_connection_pending_requests",
        "db_client_connection_timeouts_total",
        "learninghub_db_up",
    ):
        assert labels_of(gauge) == [{"pool": pool}], gauge
    assert app.metric("db_client_connection_max") == 4
    assert labels_of("db_client_connection_wait_time_seconds_count") == [{"pool": pool}]
    operations = {
        lbl["db_operation_name"] for lbl in labels_of("db_client_operation_duration_seconds_count")
    }
    assert {"SELECT", "INSERT"} <= operations
    assert app.metric("db_client_operation_duration_seconds_count", db_operation_name="INSERT") >= 1
    routes = labels_of("http_server_request_duration_seconds_count")
    assert {
        "http_route": "/students/{id}/dashboard",
        "http_request_method": "GET",
        "http_response_status_code": "200",
        "pool": pool,
    } in routes
    assert {
        "http_route": "/rooms/{room}/messages",
        "http_request_method": "POST",
        "http_response_status_code": "201",
        "pool": pool,
    } in routes
    assert not any("/students/3/" in lbl["http_route"] for lbl in routes), "raw paths leak"
    buckets = {
        float(dict(labels)["le"])
        for (name, labels) in samples
        if name == "http_server_request_duration_seconds_bucket"
    }
    assert {0.005, 0.05, 0.5, 5.0, 30.0} <= buckets


def test_logs_are_json_lines_tagged_with_the_pool(app: HubApp) -> None:
    app.get("/students/5/dashboard")
    lines = app.log_lines()  # raises if any line is not JSON
    assert all(line["pool"] == app.pool_name for line in lines)
    access = [line for line in lines if line["logger"] == "learninghub.access"]
    assert any(
        line["path"] == "/students/5/dashboard"
        and line["route"] == "/students/{id}/dashboard"
        and line["status"] == 200
        for line in access
    )
    assert any(line["msg"] == "pool opened" for line in lines)
