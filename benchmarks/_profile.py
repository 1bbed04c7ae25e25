"""Optional py-spy sampling of the proxy process while one benchmark runs.

Writes py-spy's collapsed stacks (`--format raw`, one `frame;frame;... count`
line per stack; `flamegraph.pl` or speedscope render them) and a short text
summary of where the samples fell, so a missed target comes with its hot spots.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from _loopback import LoopbackError


@contextlib.contextmanager
def py_spy(pid: int, raw_out: Path, native: bool = True) -> Iterator[None]:
    """Sample pid with py-spy while inside; write raw_out and raw_out + '.summary.txt'."""
    binary = shutil.which("py-spy")
    if binary is None:
        raise LoopbackError("--profile needs py-spy: pip install py-spy")
    command = [binary, "record", "--pid", str(pid), "--rate", "250", "--format", "raw"]
    command += ["-o", str(raw_out)]
    # Native frames show the time spent in uvloop/libuv and syscalls; they need
    # py-spy to pause the process per sample (small at 250 Hz).
    command.append("--native" if native else "--nonblocking")
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(0.5)  # attached before the load starts
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
        try:
            output, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate(timeout=5)
    if not raw_out.exists():
        raise LoopbackError(f"py-spy wrote no profile: {output.strip()[-300:]}")
    summary = raw_out.with_name(raw_out.name + ".summary.txt")
    summary.write_text(summarize(raw_out.read_text()))


IDLE_LEAVES = ("epoll_wait", "epoll_pwait")


def summarize(raw: str, top: int = 25) -> str:
    """Self and inclusive shares of the hottest frames among the busy samples.

    Samples whose innermost frame is the event loop waiting in epoll are idle
    time: counted apart, so the shares add up over work actually done.
    """
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = idle = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        if frames[-1].startswith(IDLE_LEAVES):
            idle += count
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if total == 0:
        return f"no busy samples ({idle} idle)\n"
    lines = [f"{total} busy samples, {idle} idle (waiting in epoll)", "", "self time:"]
    lines += [f"{n / total:7.1%}  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "inclusive time:"]
    lines += [f"{n / total:7.1%}  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(lines) + "\n"
