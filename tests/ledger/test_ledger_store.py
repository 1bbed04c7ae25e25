"""The ledger's files: written before the fault, atomically, removed when undone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hubchaos.ledger.owner import Owner, process_start_ticks
from hubchaos.ledger.store import FaultLedger
from hubchaos.ledger.undo import UndoFailed, undo, undo_delete_toxic
from hubchaos.stack.local.postgres import PostgresCluster
from tests.conftest import refused_port


def test_an_entry_is_a_whole_file_until_settled(tmp_path: Path) -> None:
    ledger = FaultLedger(tmp_path)
    first = ledger.record("toxic:latency", "hub_db/a", undo_delete_toxic("http://x", "hub_db", "a"))
    second = ledger.record("proxy-disabled", "hub_db", {"action": "toxiproxy.enable_proxy"})
    assert [e.id for e in ledger.entries()] == [first.id, second.id]
    assert ledger.entries()[0].undo["toxic"] == "a"
    assert ledger.entries()[0].owner == Owner.me()
    # no temporary file is left next to the entries, and only the owner may read them
    assert sorted(p.name for p in ledger.dir.iterdir()) == sorted(
        [f"{first.id}.json", f"{second.id}.json"]
    )
    assert (ledger.dir / f"{first.id}.json").stat().st_mode & 0o077 == 0
    ledger.settle(first.id)
    ledger.settle(first.id)  # settling twice is harmless
    assert [e.id for e in ledger.entries()] == [second.id]


def test_a_torn_file_is_ignored_not_fatal(tmp_path: Path) -> None:
    ledger = FaultLedger(tmp_path)
    kept = ledger.record("toxic:latency", "hub_db/a", {"action": "toxiproxy.delete_toxic"})
    (ledger.dir / "fault-00000000000000000000-1-1.json").write_text('{"id": "half')
    assert [e.id for e in ledger.entries()] == [kept.id]


def test_an_owner_is_its_pid_and_its_start_time() -> None:
    me = Owner.me()
    assert me.alive()
    assert me.start_ticks == process_start_ticks(os.getpid())
    assert not Owner(me.pid, me.start_ticks + 1).alive()  # a recycled pid is not the owner
    assert process_start_ticks(2**22 + 12345) is None


def test_a_container_start_on_a_stack_brought_down_is_already_undone(tmp_path: Path) -> None:
    # No stack.json: the docker stack is down, so no container of it is left stopped.
    # Fails by raising: UndoFailed (retried for an hour) or, before b707639, AttributeError.
    undo({"action": "container.start", "state_dir": str(tmp_path), "service": "app-2"})


def test_a_flood_whose_database_is_gone_is_already_undone() -> None:
    # Nothing listens at the observer's address: no session of the flood can be left.
    # Fails by raising UndoFailed, as it did before b707639 (the undo was retried).
    gone = f"postgresql://hubchaos:x@127.0.0.1:{refused_port()}/learninghub"
    undo({"action": "flood.process", "application_name": "flood-1", "observer_dsn": gone})


def test_a_flood_undo_that_cannot_log_in_is_retried(postgres_cluster: PostgresCluster) -> None:
    wrong = f"postgresql://nobody:wrong@127.0.0.1:{postgres_cluster.port}/postgres"
    with pytest.raises(UndoFailed, match="ending flood-1 sessions"):
        undo({"action": "flood.process", "application_name": "flood-1", "observer_dsn": wrong})
