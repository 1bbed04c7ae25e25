"""Deterministic seed data of a realistic size, generated set-based in the database.

Every value derives from generate_series indexes by modular arithmetic (no
random()), so two seeds are identical apart from the anchor: the day of the
seed, which keeps "upcoming work" in the future for months afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import LiteralString


@dataclass(frozen=True)
class SeedSize:
    students: int = 5000
    courses: int = 300  # 10 subjects x 30 levels: course codes stay unique up to 1000
    messages: int = 50_000
    assignments_per_course: int = 16  # 4 already graded, 12 upcoming over ~8 months


FIRST_NAMES: LiteralString = """ARRAY['Ada','Ben','Chloe','Dev','Elena','Farid','Grace','Hugo',
'Ines','Jonas','Kemi','Liam','Maya','Noah','Olga','Pavel','Quinn','Rosa','Sami','Tara','Umar',
'Vera','Wen','Xavi','Yara','Zane','Amir','Bea','Carlos','Dana','Emil','Fatima','Gabe','Hana',
'Ivan','Julia','Kai','Lena','Marco','Nadia']"""  # 40

LAST_NAMES: LiteralString = """ARRAY['Smith','Okafor','Garcia','Chen','Novak','Haddad',
'Kowalski','Silva','Nguyen','Murphy','Rossi','Schmidt','Tanaka','Ali','Johansson','Dubois','Kim',
'Patel','Moreau','Costa','Fischer','Ivanova','Mensah','Larsen','Santos','Weber','Yilmaz','Kaur',
'Brown','Lopez','Nowak','Sato','Hansen','Popescu','Evans','Bianchi','Horvat','Jensen','Kruger',
'Li','Mwangi','Oliveira','Petrov','Quispe','Rahman','Suzuki','Torres','Varga','Walsh',
'Zhang']"""  # 50

# (label, statement); parameters: anchor (timestamptz), students, courses, messages, per_course
STEPS: list[tuple[str, LiteralString]] = [
    (
        "students",
        "INSERT INTO students (id, full_name, email, joined_on) "
        "SELECT i, "
        f"({FIRST_NAMES})[1 + mod(i * 7, 40)] || ' ' || ({LAST_NAMES})[1 + mod(i * 13, 50)], "
        "'student' || i || '@learninghub.test', "
        "(%(anchor)s - make_interval(days => 30 + mod(i * 37, 1200)))::date "
        "FROM generate_series(1, %(students)s::int) AS i",
    ),
    (
        "courses",
        "INSERT INTO courses (id, code, title, teacher) "
        "SELECT c, "
        "(ARRAY['MATH','PHYS','CHEM','BIO','HIST','LIT','CS','ECON','ART','MUS'])"
        "[1 + mod(c - 1, 10)] || '-' || (101 + (c - 1) / 10), "
        "(ARRAY['Mathematics','Physics','Chemistry','Biology','History','Literature',"
        "'Computer Science','Economics','Art','Music'])[1 + mod(c - 1, 10)] || ': ' || "
        "(ARRAY['Foundations','Methods','Applications','Seminar','Workshop','Theory',"
        "'Practice','Projects','Advanced Topics','Survey','Lab','Studio','Research',"
        "'Case Studies','Fieldwork','Review','Colloquium','Tutorial','Intensive','Capstone'])"
        "[1 + mod(c * 7, 20)], "
        f"'Prof. ' || ({LAST_NAMES})[1 + mod(c * 11, 50)] "
        "FROM generate_series(1, %(courses)s::int) AS c",
    ),
    (
        "enrolments",
        # 4 to 8 distinct courses per student: 53 is coprime with the course count.
        "INSERT INTO enrolments (student_id, course_id, enrolled_on) "
        "SELECT s, 1 + mod(s * 37 + k * 53, %(courses)s::int), "
        "(%(anchor)s - make_interval(days => 90 + mod(s, 30)))::date "
        "FROM generate_series(1, %(students)s::int) AS s, generate_series(0, 7) AS k "
        "WHERE k < 4 + mod(s, 5)",
    ),
    (
        "assignments",
        # One every three weeks from 12 weeks before the anchor on.
        "INSERT INTO assignments (id, course_id, title, due_at, max_points) "
        "SELECT (c - 1) * %(per_course)s::int + a + 1, c, "
        "(ARRAY['Problem set','Lab report','Essay','Quiz','Project milestone',"
        "'Reading response'])[1 + mod(c + a, 6)] || ' ' || (a + 1), "
        "%(anchor)s + make_interval(days => a * 21 - 84 + mod(c, 7), hours => 23, mins => 59), "
        "(ARRAY[10, 20, 50, 100])[1 + mod(a, 4)] "
        "FROM generate_series(1, %(courses)s::int) AS c, "
        "generate_series(0, %(per_course)s::int - 1) AS a",
    ),
    (
        "grades",
        "INSERT INTO grades (student_id, assignment_id, points, graded_at) "
        "SELECT e.student_id, a.id, "
        "round(a.max_points * (40 + mod(e.student_id * 31 + a.id * 17, 61)) / 100.0, 1), "
        "a.due_at + make_interval(days => 2 + mod(e.student_id + a.id, 5)) "
        "FROM enrolments e JOIN assignments a ON a.course_id = e.course_id "
        "WHERE a.due_at < %(anchor)s",
    ),
    (
        "rooms",
        "INSERT INTO rooms (id, slug, title, course_id) "
        "SELECT id, slug, title, NULL FROM (VALUES (1, 'general', 'General'), "
        "(2, 'help-desk', 'Help desk'), (3, 'study-hall', 'Study hall'), "
        "(4, 'announcements', 'Announcements')) AS v (id, slug, title) "
        "UNION ALL SELECT 4 + c.id, lower(c.code), c.code || ' classroom', c.id FROM courses c",
    ),
    (
        "messages",
        # Every fifth message goes to a general room, the others cycle through all
        # course rooms (i - i / 5 numbers them 1, 2, 3...), one every 90 s up to the
        # anchor; ORDER BY keeps identity ids in time order.
        "INSERT INTO messages (room_id, author_id, body, created_at) "
        "SELECT CASE WHEN mod(i, 5) = 0 THEN 1 + mod(i / 5, 4) "
        "ELSE 5 + mod((i - i / 5) * 7, %(courses)s::int) END, "
        "1 + mod(i * 131, %(students)s::int), "
        "(ARRAY['Has anyone started','Quick question about','Sharing my notes on',"
        "'Reminder: we meet to discuss','Can someone explain','I finally understood',"
        "'Study group tonight for','Found a great video on','Stuck on','Thanks for the help with',"
        "'Is the deadline extended for','Slides are up for'])[1 + mod(i, 12)] || ' ' || "
        "(ARRAY['the problem set','chapter 4','the lab report','the midterm','recursion',"
        "'the essay outline','integrals','the group project','the reading list',"
        "'question 3','the quiz','the case study','the final review','vectors',"
        "'the field trip'])[1 + mod(i * 3, 15)] || "
        "(ARRAY['?','!','.',' :)',' - any tips?',', see you there.'])[1 + mod(i * 7, 6)], "
        "%(anchor)s - make_interval(secs => (%(messages)s::int - i) * 90) "
        "FROM generate_series(1, %(messages)s::int) AS i ORDER BY i",
    ),
]
