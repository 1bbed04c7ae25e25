"""The load generators' transport errors in words: one line for the live panel."""

from __future__ import annotations

from rich.text import Text

from hubchaos.traffic.transport_errors import TransportErrorCount
from hubchaos.view.readings import rate

__all__ = ["transport_error_text"]

_KINDS_SHOWN = 3


def transport_error_text(count: TransportErrorCount) -> Text:
    """'8840 (connection_refused 8840) · 52.4/s', red while errors keep coming."""
    if count.total == 0:
        return Text("none (refused, reset or timed-out requests of the load)", style="dim")
    kinds = sorted(count.by_kind.items(), key=lambda item: -item[1])
    shown = ", ".join(f"{kind} {n}" for kind, n in kinds[:_KINDS_SHOWN])
    more = ", ..." if len(kinds) > _KINDS_SHOWN else ""
    style = "bold red" if count.per_second > 0 else "yellow"
    return Text.assemble(
        (f"{count.total}", style),
        f" ({shown}{more})",
        ("   ", ""),
        (f"{rate(count.per_second)}/s", style),
    )
