"""The driver interface: one factory, the recorded environment, the session's guard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hubchaos.errors import UserError
from hubchaos.stack.base import BaseStack
from hubchaos.stack.docker import DockerStack
from hubchaos.stack.drivers import DRIVERS, driver_for, open_service_faults, open_stack
from hubchaos.stack.local import LocalStack
from hubchaos.stack.session import StackSession


def test_every_registered_driver_is_a_base_stack_named_by_its_env(tmp_path: Path) -> None:
    for env in DRIVERS:
        driver = driver_for(env, tmp_path / env, port_offset=0, progress=lambda line: None)
        assert isinstance(driver, BaseStack)
        assert driver.env == env
        assert driver.state_dir == (tmp_path / env).absolute()


def test_an_unknown_environment_is_refused_naming_the_choices(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"unknown stack environment 'moon': choose one of local"):
        driver_for("moon", tmp_path)


def test_open_stack_picks_the_driver_the_state_directory_records(tmp_path: Path) -> None:
    assert isinstance(open_stack(tmp_path / "empty"), LocalStack)
    assert open_service_faults(tmp_path / "empty") is None  # no container faults there
    docker_dir = tmp_path / "docker"
    docker_dir.mkdir()
    (docker_dir / "docker.json").write_text(json.dumps({"project": "hubchaos-x"}))
    assert isinstance(open_stack(docker_dir), DockerStack)
    assert isinstance(open_service_faults(docker_dir), DockerStack)
    recorded = tmp_path / "recorded"
    recorded.mkdir()
    (recorded / "stack.json").write_text(json.dumps({"env": "docker"}))  # incomplete: unreadable
    assert isinstance(open_stack(recorded), LocalStack)  # the local driver cleans it up


def test_a_session_refuses_a_state_directory_of_another_environment(tmp_path: Path) -> None:
    (tmp_path / "docker.json").write_text("{}")
    session = StackSession(tmp_path, env="local")
    with pytest.raises(UserError, match="runs with env docker, not local"):
        session.open()
    with pytest.raises(UserError, match="runs with env docker, not local"):
        session.open()  # the failure repeats as it is, nothing is retried


def test_a_session_without_start_names_the_missing_stack(tmp_path: Path) -> None:
    session = StackSession(tmp_path / "none", start=False)
    with pytest.raises(UserError, match=r"no healthy stack in .*: start it with `hubchaos up`"):
        session.open()
    session.close()
    assert session.notes == []
