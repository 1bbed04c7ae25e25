"""`GET /students/{id}/dashboard`: courses, recent grades and upcoming work of one student."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from learninghub import queries
from learninghub.context import hub_of
from learninghub.errors import NotFound
from learninghub.responses import HubJSONResponse


async def student_dashboard(request: Request) -> Response:
    student_id: int = request.path_params["id"]
    params = {"student_id": student_id}
    # Several sequential queries on one connection, as the real page does.
    async with hub_of(request).database.session() as session:
        student = await session.fetch_one(queries.STUDENT, params)
        if student is None:
            raise NotFound(f"student {student_id} not found")
        courses = await session.fetch_all(queries.COURSES, params)
        recent_grades = await session.fetch_all(queries.RECENT_GRADES, params)
        upcoming = await session.fetch_all(queries.UPCOMING, params)
    return HubJSONResponse(
        {
            "student": student,
            "courses": courses,
            "recent_grades": recent_grades,
            "upcoming": upcoming,
        }
    )
