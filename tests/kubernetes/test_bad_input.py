"""`hubchaos up --env kubernetes` on bad input: one line, exit 2 or 4, nothing written.

No cluster is needed: each case must be refused before anything is sent.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.conftest import refused_port
from tests.stack.conftest import run_cli

REPO = Path(__file__).resolve().parents[2]


def _kubeconfig(path: Path, server: str, context: str = "somewhere") -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": {"token": "not-a-real-token"}}],
        "contexts": [{"name": context, "context": {"cluster": "c", "user": "u"}}],
        "current-context": context,
    }
    path.write_text(yaml.safe_dump(config))
    return path


def _one_line_error(stderr: str, *fragments: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_a_missing_kubeconfig_is_a_usage_error(tmp_path: Path) -> None:
    done = run_cli("up", "--env", "kubernetes", "--kubeconfig", str(tmp_path / "none"),
                   "--state-dir", str(tmp_path / "state"), cwd=REPO, timeout=60)  # fmt: skip
    assert done.returncode == 2
    _one_line_error(done.stderr, "kubeconfig", "not found", "--kubeconfig")
    assert not (tmp_path / "state").exists()


def test_an_unknown_context_names_the_known_ones(tmp_path: Path) -> None:
    config = _kubeconfig(tmp_path / "config", "https://127.0.0.1:1")
    state = str(tmp_path / "state")
    done = run_cli("up", "--env", "kubernetes", "--kubeconfig", str(config), "--context",
                   "nope", "--state-dir", state, cwd=REPO, timeout=60)  # fmt: skip
    assert done.returncode == 2
    _one_line_error(done.stderr, "'nope'", "somewhere")
    assert not (tmp_path / "state").exists()


def test_an_unreachable_cluster_could_not_run_and_nothing_is_written(tmp_path: Path) -> None:
    server = f"https://127.0.0.1:{refused_port()}"
    config = _kubeconfig(tmp_path / "config", server)
    done = run_cli("up", "--env", "kubernetes", "--kubeconfig", str(config),
                   "--state-dir", str(tmp_path / "state"), cwd=REPO, timeout=90)  # fmt: skip
    assert done.returncode == 4
    _one_line_error(done.stderr, "cannot reach", server, "hubchaos cluster status")
    assert not (tmp_path / "state" / "kubernetes.json").exists()
    assert not (tmp_path / "state" / "stack.json").exists()


def test_kubernetes_options_are_refused_for_other_environments(tmp_path: Path) -> None:
    done = run_cli("up", "--env", "local", "--namespace", "x", "--state-dir",
                   str(tmp_path / "state"), cwd=REPO, timeout=60)  # fmt: skip
    assert done.returncode == 2
    _one_line_error(done.stderr, "--env kubernetes")
