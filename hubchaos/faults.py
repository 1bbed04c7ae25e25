"""This run's faults, as the probes read them: a view of the fault ledger.

Kept as an import path for probes ("since the first fault"); the record is
`hubchaos.ledger` (durable, with undo) and its in-process order is
`hubchaos.ledger.history`. `record_fault` notes a fault that needs no undo
(a component restart that completes before it returns).
"""

from __future__ import annotations

from hubchaos.ledger.history import Fault, clear, first_fault, last_fault
from hubchaos.ledger.history import note as record_fault

__all__ = ["Fault", "clear", "first_fault", "last_fault", "record_fault"]
