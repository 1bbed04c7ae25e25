"""Classroom chat: `GET|POST /rooms/{room}/messages`."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from learninghub import queries
from learninghub.context import hub_of
from learninghub.database import ConstraintViolated
from learninghub.errors import BadRequest, NotFound, Unprocessable
from learninghub.responses import HubJSONResponse

ROOM_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_BODY_CHARS = 2000
MAX_REQUEST_BYTES = 16 * 1024
MAX_ID = 2**31 - 1  # students.id is a PostgreSQL integer


def _room(request: Request) -> str:
    room: str = request.path_params["room"]
    if not ROOM_SLUG.fullmatch(room):
        raise NotFound(f"room {room!r} not found")
    return room


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(f"limit must be an integer between 1 and {MAX_LIMIT}, got {raw!r}")
    return int(raw)


async def list_messages(request: Request) -> Response:
    room = _room(request)
    limit = _limit(request)
    async with hub_of(request).database.session() as session:
        rows = await session.fetch_all(queries.ROOM_MESSAGES, {"room": room, "limit": limit})
    if not rows:
        raise NotFound(f"room {room!r} not found")
    messages = [{k: v for k, v in row.items() if k != "room"} for row in rows if row["id"]]
    return HubJSONResponse({"room": room, "messages": messages})


async def post_message(request: Request) -> Response:
    room = _room(request)
    author_id, body = _parse_message(await request.body())
    params = {"room": room, "author_id": author_id, "body": body}
    try:
        async with hub_of(request).database.session() as session:
            row = await session.fetch_one(queries.POST_MESSAGE, params)
    except ConstraintViolated as exc:
        if exc.constraint == "messages_author_id_fkey":
            raise Unprocessable(f"author_id {author_id} is not a known student") from None
        raise Unprocessable(f"message rejected by the database ({exc.constraint})") from None
    if row is None:
        raise NotFound(f"room {room!r} not found")
    return HubJSONResponse({"room": room, **row}, status_code=201)


def _parse_message(raw: bytes) -> tuple[int, str]:
    """Validate `{"author_id": int, "body": str}`: 400 when not JSON, 422 when wrong."""
    if len(raw) > MAX_REQUEST_BYTES:
        raise BadRequest(f"request body larger than {MAX_REQUEST_BYTES} bytes")
    try:
        payload: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("request body must be JSON") from None
    if not isinstance(payload, dict):
        raise BadRequest('request body must be a JSON object like {"author_id": 1, "body": "hi"}')
    author_id = payload.get("author_id")
    if (
        isinstance(author_id, bool)
        or not isinstance(author_id, int)
        or not 1 <= author_id <= MAX_ID
    ):
        raise Unprocessable("author_id must be a positive integer")
    body = payload.get("body")
    if not isinstance(body, str) or not body.strip():
        raise Unprocessable("body must be a non-empty string")
    if "\x00" in body:
        raise Unprocessable("body must not contain NUL characters")
    if len(body) > MAX_BODY_CHARS:
        raise Unprocessable(f"body must be at most {MAX_BODY_CHARS} characters, got {len(body)}")
    return author_id, body
