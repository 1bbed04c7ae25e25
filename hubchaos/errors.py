"""The runner's exception tree; foreign errors are translated into these at the boundary."""


class HubchaosError(Exception):
    """Base of every error hubchaos raises on purpose."""


class UserError(HubchaosError):
    """A mistake the user can fix (bad flag, unknown profile, port in use).

    The CLI prints it as one line and exits 2, never with a traceback.
    """


class StackError(HubchaosError):
    """A part of the hub stack failed to start, stop or become healthy."""

    def __init__(self, part: str, reason: str, log_file: str | None = None) -> None:
        self.part = part
        self.reason = reason
        self.log_file = log_file
        where = f" (log: {log_file})" if log_file else ""
        super().__init__(f"{part}: {reason}{where}")
