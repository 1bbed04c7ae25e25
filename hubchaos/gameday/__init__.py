"""Game-day mode: a facilitated session of briefings, experiments and questions.

`hubchaos gameday PLAN.yaml` (cli) loads and validates a plan (plan), talks
with the room (facilitation), runs the steps against the stack (conduct,
quiet; the stack through hubchaos.stack.session), records everything with
timestamps (record) and writes one combined report (report, report_content);
`--dry-run` prints the session instead (rehearsal), and recap shows results
in the terminal.
"""
