"""Run a game day: every step in order, everything recorded as it happens.

Experiments run in-process through the same runner as `hubchaos run`, with its
live view (or plain lines off a terminal); each gets its own journal and
report in a `step-NN-<name>/` directory of the game day's report directory.

Ctrl-C (or SIGTERM) stops the game day cleanly: during an experiment chaoslib
stops the method and the rollbacks and the safety control clean the faults up;
at a prompt the answer typed so far is kept. Either way the record says where
it stopped, and the caller still writes the (partial) report.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import FrameType

from chaoslib.exceptions import ActivityFailed

from hubchaos.activity.settings import setting
from hubchaos.errors import HubchaosError, UserError
from hubchaos.gameday.facilitation import NO_ANSWER, TYPED, Facilitation, indented, wrapped
from hubchaos.gameday.plan import Plan, Step
from hubchaos.gameday.quiet import wait_for_quiet
from hubchaos.gameday.recap import alerts_in_order, counted, recap_lines, seconds_text
from hubchaos.gameday.record import (
    ExperimentResult,
    GameDayRecord,
    Observation,
    StepRecord,
    experiment_result,
    now,
)
from hubchaos.runner import run_experiment_file
from hubchaos.stack.session import StackSession
from hubchaos.verdict import ExitCode
from hubchaos.view.display import run_display, wants_live_view

__all__ = ["RECORD_FILE", "conduct", "step_directory"]

RECORD_FILE = "gameday.json"
Progress = Callable[[str], None]


def _stderr(text: str) -> None:
    sys.stderr.write(f"hubchaos: {text}\n")
    sys.stderr.flush()


def step_directory(out_dir: Path, step: Step) -> Path:
    name = Path(step.experiment).stem if step.experiment else step.kind
    return out_dir / f"step-{step.number:02d}-{name}"


def conduct(
    plan: Plan,
    facilitation: Facilitation,
    stack: StackSession,
    out_dir: Path,
    live: bool | None = None,
    progress: Progress = _stderr,
) -> GameDayRecord:
    """Run `plan`; returns the record whatever happened (interrupted, failed or done)."""
    record = GameDayRecord(plan, facilitation.mode)
    run = _GameDay(plan, facilitation, stack, out_dir, live, progress, record)
    with _sigterm_as_interrupt():
        try:
            run.all_steps()
        except KeyboardInterrupt:
            record.interrupted = run.where("interrupted")
        except HubchaosError as exc:
            record.failure = f"{run.where('stopped')}: {exc}"
            # a stack the user must fix first (e.g. running with other settings) is a usage error
            record.failure_code = int(
                ExitCode.INVALID if isinstance(exc, UserError) else ExitCode.ERROR
            )
        finally:
            run.finish()
    return record


class _GameDay:
    def __init__(
        self,
        plan: Plan,
        facilitation: Facilitation,
        stack: StackSession,
        out_dir: Path,
        live: bool | None,
        progress: Progress,
        record: GameDayRecord,
    ) -> None:
        self.plan = plan
        self.room = facilitation
        self.stack = stack
        self.out_dir = out_dir
        self.live = live
        self.progress = progress
        self.record = record
        self.current: StepRecord | None = None

    # ------------------------------------------------------------------ flow

    def all_steps(self) -> None:
        plan = self.plan
        self.room.say(f"Game day: {plan.title}")
        steps, experiments = len(plan.steps), len(plan.experiments)
        self.room.say(
            f"  {counted(steps, 'step')}, {counted(experiments, 'experiment')}, "
            f"{self.record.mode}; report in {self.out_dir}"
        )
        if plan.description:
            self.room.say(wrapped(plan.description))
        self.save()
        if plan.experiments:
            self.stack.open()
        for step in plan.steps:
            self.current = StepRecord(step, now())
            self.record.steps.append(self.current)
            self.room.say(
                f"\n[{step.number}/{len(plan.steps)}] {step.kind.capitalize()}: {step.title}"
            )
            self.current.outcome = self.run_step(step)
            self.current.ended = now()
            self.save()
            if self.record.interrupted is not None:
                return

    def where(self, what: str) -> str:
        """'interrupted at step 3/9 (question)', for the record."""
        step = self.current.step if self.current else None
        if step is None:
            return f"{what} before the first step"
        return f"{what} at step {step.number}/{len(self.plan.steps)} ({step.kind}: {step.title})"

    def finish(self) -> None:
        if self.current is not None and self.current.ended is None:
            self.current.ended = now()
            self.current.outcome = self.current.outcome or (
                "interrupted" if self.record.interrupted else "stopped"
            )
        try:
            self.stack.close()
        except (HubchaosError, KeyboardInterrupt) as exc:
            self.stack.notes.append(f"could not restore the stack: {exc or 'interrupted'}")
        self.record.stack_notes = list(self.stack.notes)
        self.record.ended = now()
        self.save()

    def save(self) -> None:
        self.record.save(self.out_dir / RECORD_FILE)

    # ----------------------------------------------------------------- steps

    def run_step(self, step: Step) -> str:
        if step.kind == "experiment":
            return self.experiment(step)
        if step.kind == "question":
            return self.questions(step)
        self.room.say(indented(step.text))
        if step.kind == "recap":
            for text in recap_lines(self.record.experiments):
                self.room.say(text)
            return f"showed {len(self.record.experiments)} experiment results"
        if step.kind == "note":
            return "noted"
        self.room.wait("Press Enter to continue")
        return "shown" if step.kind == "briefing" else "continued"

    def questions(self, step: Step) -> str:
        typed = 0
        for question in step.questions:
            answered = False
            for text, source in self.room.answers(question):
                self.record.observations.append(
                    Observation(now(), step.index, question, text, source)
                )
                typed += source in TYPED
                answered = True
                self.save()  # what people typed is saved line by line
            if not answered:  # an empty line at once: asked, but nobody answered
                self.record.observations.append(
                    Observation(now(), step.index, question, NO_ANSWER, "none")
                )
        return f"{counted(typed, 'observation')} typed"

    def experiment(self, step: Step) -> str:
        assert step.experiment_path is not None
        env = self.stack.use(step.profile)
        profile = self.stack.profile or "?"
        prometheus_url = env.get("HUBCHAOS_PROMETHEUS_URL") or setting("hubchaos_prometheus_url")
        stale = self.quiet(prometheus_url)
        self.room.say(f"  running {step.experiment} on profile {profile}")
        directory = step_directory(self.out_dir, step)
        with run_display(
            wants_live_view(self.live),
            prometheus_url,
            title=step.experiment_title,
            position=f"step {step.number}/{len(self.plan.steps)}",
        ) as handlers:
            run = run_experiment_file(str(step.experiment_path), directory, handlers)
        result = experiment_result(step, profile, run.outcome, run.seconds, run.journal_path)
        result = self.write_report(result, directory)
        self.record.experiments.append(result)
        if run.verdict.code == ExitCode.INTERRUPTED:
            self.record.interrupted = self.where("interrupted")
            self.room.say(f"  {run.verdict.summary_line}")
        else:
            self.show_result(result)
        return stale + run.verdict.summary_line

    def quiet(self, prometheus_url: str) -> str:
        """Wait for earlier alerts to clear; the words for the record if some did not."""
        try:
            active = wait_for_quiet(prometheus_url, progress=self.progress)
        except ActivityFailed as exc:
            self.progress(f"could not ask Prometheus which alerts are active: {exc}")
            return "active alerts unknown at the start (Prometheus did not answer); "
        if not active:
            return ""
        self.progress(f"starting anyway; still active: {', '.join(active)}")
        return f"alerts still active at the start: {', '.join(active)}; "

    def show_result(self, result: ExperimentResult) -> None:
        if self.record.mode == "interactive":
            # the room is about to be asked what it saw: the answer waits for a recap step
            self.room.say(
                f"  finished in {result.seconds:.0f} s; the results wait for a recap step "
                "and the report"
            )
            return
        self.room.say(f"  {result.verdict.summary_line}")
        score = f"{result.score.value}/100" if result.score else "n/a"
        self.room.say(
            f"  score {score}; time to detect {seconds_text(result.seconds_to_detect)}; "
            f"time to recover {seconds_text(result.seconds_to_recover)}; "
            f"alerts: {alerts_in_order(result)}"
        )

    def write_report(self, result: ExperimentResult, directory: Path) -> ExperimentResult:
        """The experiment's own report; a report that fails must not end the game day."""
        if result.outcome is None:
            return result
        from hubchaos.report.writer import write_report  # matplotlib: only when needed

        try:
            files = write_report(result.outcome, directory, stem=Path(result.path).stem)
        except Exception as exc:  # the run itself is recorded; its report can be redone
            self.progress(f"could not write the report of {result.path}: {exc}")
            return result
        return replace(result, report_files=tuple(files))


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops a game day like Ctrl-C (chaoslib takes it over during an experiment)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt("SIGTERM")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
