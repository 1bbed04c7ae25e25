"""Where the environment definitions live: profiles, alert rules, compose files.

One setting decides it: $HUBCHAOS_ENVIRONMENTS, the `environments/` directory
of a hubchaos checkout. Unset, the checkout this package was installed from
(editable install) is used, else `./environments` under the working directory.
A non-editable install therefore needs the setting (or a run from a checkout).
"""

from __future__ import annotations

import os
from pathlib import Path

from hubchaos.errors import UserError

__all__ = ["ENVIRONMENTS_ENV", "environment_path", "environments_dir"]

ENVIRONMENTS_ENV = "HUBCHAOS_ENVIRONMENTS"
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # the hubchaos package directory


def environments_dir() -> Path:
    """The environments directory, or UserError saying how to point hubchaos at one."""
    configured = os.environ.get(ENVIRONMENTS_ENV)
    if configured:
        path = Path(configured).expanduser().resolve()
        if not path.is_dir():
            raise UserError(f"{ENVIRONMENTS_ENV}={configured} is not a directory")
        return path
    for candidate in (_PACKAGE_ROOT.parent / "environments", Path.cwd() / "environments"):
        if (candidate / "local").is_dir():
            return candidate.resolve()
    raise UserError(
        "hubchaos environments (profiles, alert rules, compose files) not found: set "
        f"{ENVIRONMENTS_ENV} to the environments/ directory of a hubchaos checkout"
    )


def environment_path(*parts: str) -> Path:
    """A path inside the environments directory, e.g. environment_path("docker", "compose.yaml")."""
    return environments_dir().joinpath(*parts)
