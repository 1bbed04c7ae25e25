"""Loading and validating experiment files before anything runs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from chaoslib.exceptions import ChaosException
from chaoslib.experiment import ensure_experiment_is_valid
from chaoslib.loader import load_experiment

from hubchaos.blast_radius.validate import BlastRadiusError, check_experiment
from hubchaos.errors import UserError

__all__ = ["load_valid_experiment"]


def load_valid_experiment(path: str) -> dict[str, Any]:
    """The parsed experiment, or a UserError naming the file and the rule it breaks."""
    if not Path(path).is_file():
        raise UserError(f"{path}: no such experiment file")
    # chaoslib logs every validation problem at ERROR before raising; the
    # exception carries the same text, which we print once.
    chaos_logger = logging.getLogger("chaostoolkit")
    previous = chaos_logger.level
    chaos_logger.setLevel(logging.CRITICAL)
    try:
        experiment: dict[str, Any] = load_experiment(path)
        ensure_experiment_is_valid(experiment)
    except ChaosException as exc:
        message = " ".join(str(exc).split())
        raise UserError(f"{path}: invalid experiment: {message}") from exc
    except Exception as exc:  # YAML/JSON syntax errors come as various types
        message = " ".join(str(exc).split())[:300]
        raise UserError(f"{path}: cannot read experiment: {message}") from exc
    finally:
        chaos_logger.setLevel(previous)
    try:  # every target and flood size, before the first activity (issue 11)
        check_experiment(experiment)
    except (BlastRadiusError, ChaosException) as exc:
        raise UserError(f"{path}: {' '.join(str(exc).split())}") from None
    return experiment
