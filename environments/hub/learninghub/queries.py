"""Every SQL statement the routes run, named, with its operation for the metrics label."""

from __future__ import annotations

from dataclasses import dataclass
from typing import LiteralString


@dataclass(frozen=True)
class Query:
    name: str  # shown in logs, e.g. "dashboard.courses"
    sql: LiteralString

    @property
    def operation(self) -> str:
        """SQL verb, the low-cardinality `db_operation_name` label (SELECT, INSERT)."""
        return self.sql.lstrip().split(None, 1)[0].upper()


PING = Query("ping", "SELECT 1")

STUDENT = Query(
    "dashboard.student",
    "SELECT id, full_name, email, joined_on FROM students WHERE id = %(student_id)s",
)

COURSES = Query(
    "dashboard.courses",
    """
    SELECT c.id, c.code, c.title, c.teacher,
           round(avg(g.points / a.max_points) * 100, 1)::float8 AS average_percent,
           count(g.points) AS graded_assignments
    FROM enrolments e
    JOIN courses c ON c.id = e.course_id
    LEFT JOIN assignments a ON a.course_id = c.id
    LEFT JOIN grades g ON g.assignment_id = a.id AND g.student_id = e.student_id
    WHERE e.student_id = %(student_id)s
    GROUP BY c.id
    ORDER BY c.code
    """,
)

RECENT_GRADES = Query(
    "dashboard.recent_grades",
    """
    SELECT a.id AS assignment_id, a.title, c.code AS course_code,
           g.points::float8 AS points, a.max_points, g.graded_at
    FROM grades g
    JOIN assignments a ON a.id = g.assignment_id
    JOIN courses c ON c.id = a.course_id
    WHERE g.student_id = %(student_id)s
    ORDER BY g.graded_at DESC, a.id
    LIMIT 10
    """,
)

UPCOMING = Query(
    "dashboard.upcoming",
    """
    SELECT a.id AS assignment_id, a.title, c.code AS course_code, a.due_at, a.max_points
    FROM enrolments e
    JOIN assignments a ON a.course_id = e.course_id AND a.due_at >= now()
    JOIN courses c ON c.id = e.course_id
    WHERE e.student_id = %(student_id)s
    ORDER BY a.due_at, a.id
    LIMIT 10
    """,
)

# One row per room; the lateral join yields NULL message columns for an empty room,
# so "no row" alone means the room does not exist.
ROOM_MESSAGES = Query(
    "chat.list",
    """
    SELECT r.slug AS room, m.id, m.author_id, m.author_name, m.body, m.created_at
    FROM rooms r
    LEFT JOIN LATERAL (
        SELECT m.id, m.author_id, s.full_name AS author_name, m.body, m.created_at
        FROM messages m
        JOIN students s ON s.id = m.author_id
        WHERE m.room_id = r.id
        ORDER BY m.id DESC
        LIMIT %(limit)s
    ) m ON true
    WHERE r.slug = %(room)s
    ORDER BY m.id DESC
    """,
)

POST_MESSAGE = Query(
    "chat.post",
    """
    INSERT INTO messages (room_id, author_id, body)
    SELECT r.id, %(author_id)s, %(body)s FROM rooms r WHERE r.slug = %(room)s
    RETURNING id, author_id, body, created_at
    """,
)
