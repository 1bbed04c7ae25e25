"""Diagnosis: the likely root cause of what a run did to the stack, with the evidence.

It reads evidence only, never which experiment runs or which profile is up:
the per-second timeline samples (pools per replica, PostgreSQL connections and
who holds them, logins refused by SQLSTATE, latency, errors, alerts in firing
order) and the actions the run injected (toxics, floods, kills, with their
outputs). One rule per cause weighs that evidence; findings are ranked, most
likely first, with the vocabulary of DESIGN §4.

- `causes`: the vocabulary, runbook links, `Finding`.
- `readings`: the extra Prometheus readings the timeline samples carry.
- `evidence`: what a rule may look at, built from a journal or a live run.
- `rules_database`, `rules_app`: one function per cause.
- `diagnose`: ranking, the time a finding became known, the journal entry.
- `live`: the running diagnosis for the live panel and the plain status lines.
- `report`: the report's "Likely root cause" section.
"""

from hubchaos.diagnosis.causes import CAUSES, Finding
from hubchaos.diagnosis.diagnose import diagnose, diagnosis_for_journal

__all__ = ["CAUSES", "Finding", "diagnose", "diagnosis_for_journal"]
