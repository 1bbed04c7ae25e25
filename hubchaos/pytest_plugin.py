"""pytest plugin: Chaos Toolkit experiments as test items, for CI's usual pytest and JUnit plumbing.

    pytest experiments/                        every experiment directly in experiments/
    pytest experiments/incident-replay.yaml    just that one
    pytest experiments/ --hubchaos-profile incident --junitxml=chaos.xml

What is collected: a YAML or JSON file that parses to a mapping with
`title` and `method` (a Chaos Toolkit experiment), and only when you point
pytest at it: the file itself, or the directory it sits in directly, is an
argument on the command line. `pytest` alone (testpaths), `pytest .` or
`pytest tests` never run experiments, so the plugin cannot slow down or
break a project's own test suite; fixture experiments deeper in a tree
(tests/**/data/*.yaml) are not picked up by accident.

How an item runs: the experiment is validated, the stack is made ready
(the running one, switched to --hubchaos-profile if given; else one is
started for the session and stopped at its end), and the experiment runs
in-process with hubchaos's runner, which judges it from its journal. The
run happens in the item's setup, so pytest reports:

- passed   the steady state held;
- FAILED   it deviated; the message lists each probe that deviated with its
           value and tolerance (JUnit <failure>);
- ERROR    the experiment could not run: invalid, steady state not met
           before the method, an activity that could not run, the stack not
           available, or interrupted (JUnit <error>). An interruption stops
           the session, as `hubchaos run` does.

Every item carries the `hubchaos_experiment` marker (`-m hubchaos_experiment`
selects them) and the experiment's tags as keywords (`-k flood`); its JUnit
testcase gets `verdict`, `exit_code` and `journal` properties.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from hubchaos.errors import HubchaosError
from hubchaos.verdict import ExitCode

if TYPE_CHECKING:  # chaoslib and the stack driver load only when an experiment runs
    from hubchaos.runner import ExperimentRun
    from hubchaos.stack.session import StackSession

__all__ = ["ExperimentFile", "ExperimentItem", "looks_like_experiment"]

MARKER = "hubchaos_experiment"
SUFFIXES = (".yaml", ".yml", ".json")
SESSION_KEY = pytest.StashKey["StackSession"]()
RUN_DIR_KEY = pytest.StashKey[Path]()


# --------------------------------------------------------------------------- options


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hubchaos", "hubchaos chaos experiments")
    group.addoption(
        "--hubchaos-env",
        choices=["local", "docker"],
        default="local",
        help="where the hub stack runs: local processes (default) or Docker containers, as "
        "`hubchaos up --env`; a running stack must match.",
    )
    group.addoption(
        "--hubchaos-profile",
        choices=["fixed", "incident"],
        default=None,
        help="run the experiments on this profile: a running stack is switched to it (and back "
        "afterwards), a stack started for the session uses it. Default: the running stack's "
        "profile, or fixed when one has to be started.",
    )
    group.addoption(
        "--hubchaos-state-dir",
        default=".hubchaos",
        metavar="DIR",
        help="where the stack's state (stack.json) lives (default: .hubchaos).",
    )
    group.addoption(
        "--hubchaos-report-dir",
        default=None,
        metavar="DIR",
        help="write journals and reports (Markdown + HTML) here; default: journals only, "
        "in STATE_DIR/runs/<timestamp>/.",
    )
    group.addoption(
        "--hubchaos-no-start",
        action="store_true",
        default=False,
        help="error instead of starting the stack when none is running.",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}: a Chaos Toolkit experiment run by hubchaos (set on every collected "
        "experiment; select them with -m hubchaos_experiment)",
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(SESSION_KEY, None)
    if session is not None:
        del config.stash[SESSION_KEY]
        session.close()


# --------------------------------------------------------------------------- collection


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ExperimentFile | None:
    if file_path.suffix not in SUFFIXES or not _pointed_at(file_path, parent.config):
        return None
    if not looks_like_experiment(file_path):
        return None
    collected: ExperimentFile = ExperimentFile.from_parent(parent, path=file_path)
    return collected


def _pointed_at(file_path: Path, config: pytest.Config) -> bool:
    """True when the file, or the directory holding it, is an argument on the command line."""
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        return False  # testpaths or the current directory: never run experiments unasked
    base = config.invocation_params.dir
    file_path = file_path.resolve()
    for arg in config.args:
        given = (base / arg.split("::")[0]).resolve()
        if given == file_path or given == file_path.parent:
            return True
    return False


def looks_like_experiment(path: Path) -> bool:
    """A mapping with `title` and `method`: what makes a file a Chaos Toolkit experiment."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))  # JSON is YAML too
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and "title" in data and "method" in data


class ExperimentFile(pytest.File):
    def collect(self) -> Iterator[ExperimentItem]:
        data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        item: ExperimentItem = ExperimentItem.from_parent(
            self, name=self.path.stem, title=str(data.get("title", self.path.stem))
        )
        tags = data.get("tags") or []
        item.extra_keyword_matches.update(str(tag) for tag in tags if isinstance(tag, str))
        yield item


# --------------------------------------------------------------------------- running


class ExperimentItem(pytest.Item):
    def __init__(self, *, title: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title = title
        self.experiment_run: ExperimentRun | None = None
        self.add_marker(MARKER)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"hubchaos experiment: {self.title}"

    def setup(self) -> None:
        """Run the experiment; anything that kept it from running is an error, not a failure."""
        if self.config.getoption("setupplan"):
            return
        from hubchaos.runner import run_experiment_file
        from hubchaos.view.progress import ProgressLines

        problem = self._why_it_cannot_run()
        if problem:  # failed out here, the report is one line without an exception chain
            pytest.fail(problem, pytrace=False)
        # The verdict must not depend on the test runner's warning filters
        # (filterwarnings = error would turn a library's DeprecationWarning
        # into a failed probe); warnings are still recorded and shown.
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            run = self.experiment_run = run_experiment_file(
                str(self.path), _run_dir(self.config), event_handlers=[ProgressLines()]
            )
        self.user_properties += [
            ("verdict", run.verdict.status_word),
            ("exit_code", run.verdict.code),
            ("journal", str(run.journal_path)),
        ]
        self._write_report(run)
        if run.verdict.code == ExitCode.INTERRUPTED:
            self.session.shouldstop = f"hubchaos: {self.name} was interrupted"
        if run.verdict.code not in (ExitCode.PASSED, ExitCode.DEVIATED):
            pytest.fail(self._explain(run), pytrace=False)

    def _why_it_cannot_run(self) -> str:
        from hubchaos.experiments import load_valid_experiment

        try:
            load_valid_experiment(str(self.path))  # before the stack: a typo costs nothing
        except HubchaosError as exc:
            return str(exc)
        try:
            _stack_session(self.config).open()
        except HubchaosError as exc:
            return f"the stack is not available: {exc}"
        return ""

    def runtest(self) -> None:
        run = self.experiment_run
        if run is not None and run.verdict.code == ExitCode.DEVIATED:
            pytest.fail(self._explain(run), pytrace=False)

    def _explain(self, run: ExperimentRun) -> str:
        return f"{run.verdict.details()}\njournal: {run.journal_path}"

    def _write_report(self, run: ExperimentRun) -> None:
        report_dir = self.config.getoption("hubchaos_report_dir")
        if not report_dir:
            return
        from hubchaos.report.writer import write_report

        out_dir = self.config.invocation_params.dir / report_dir
        written = write_report(run.outcome, out_dir, stem=self.path.stem)
        self.user_properties += [("report", str(path)) for path in written]


def _stack_session(config: pytest.Config) -> StackSession:
    from hubchaos.stack.session import StackSession

    session = config.stash.get(SESSION_KEY, None)
    if session is None:
        base = config.invocation_params.dir
        session = StackSession(
            base / config.getoption("hubchaos_state_dir"),
            profile=config.getoption("hubchaos_profile"),
            start=not config.getoption("hubchaos_no_start"),
            progress=_say,
            env=config.getoption("hubchaos_env"),
        )
        config.stash[SESSION_KEY] = session
    return session


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _run_dir(config: pytest.Config) -> Path:
    """Where journals go: the report dir, else one timestamped dir per session."""
    report_dir = config.getoption("hubchaos_report_dir")
    if report_dir:
        return config.invocation_params.dir / report_dir
    if RUN_DIR_KEY not in config.stash:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        state_dir = config.invocation_params.dir / config.getoption("hubchaos_state_dir")
        config.stash[RUN_DIR_KEY] = state_dir / "runs" / stamp
    return config.stash[RUN_DIR_KEY]
