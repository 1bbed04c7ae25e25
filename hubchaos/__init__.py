"""hubchaos: chaos experiments against the learning-hub stack."""

from typing import Any

__version__ = "0.1.0"


def discover(discover_system: bool = True) -> dict[str, Any]:
    """Entry point of `chaos discover hubchaos` (kept light: imports on call)."""
    from hubchaos.discovery import discover as _discover

    return _discover(__version__, discover_system)
