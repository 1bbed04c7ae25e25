"""Finding the docker stack a run's container faults target.

The stack is the one in the state directory of configuration key
`hubchaos_state_dir` (else env HUBCHAOS_STATE_DIR, which `hubchaos run`
exports, else `.hubchaos`); it must have been started with
`hubchaos up --env docker`. Errors become ActivityFailed naming the state
directory, so the journal says which stack could not be reached.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration

from hubchaos.activity.settings import STATE_DIR_KEY, target_state_dir
from hubchaos.errors import HubchaosError
from hubchaos.stack.driver import ServiceFaults
from hubchaos.stack.drivers import open_service_faults

T = TypeVar("T")


def docker_stack(configuration: Configuration | None) -> ServiceFaults:
    """The docker stack this run targets (its progress lines are dropped)."""
    state_dir = target_state_dir(configuration)
    stack = open_service_faults(state_dir, progress=lambda line: None)
    if stack is None:
        raise ActivityFailed(
            f"docker stack in {state_dir.absolute()}: none is running there (container faults "
            f"need `hubchaos up --env docker`; set {STATE_DIR_KEY} or env "
            f"{STATE_DIR_KEY.upper()} to its state directory)"
        )
    return stack


def on_stack(stack: ServiceFaults, what: str, call: Callable[[], T]) -> T:
    """Run one driver call; its errors become an ActivityFailed naming the stack and the step."""
    try:
        return call()
    except (HubchaosError, OSError) as exc:
        raise ActivityFailed(f"docker stack in {stack.state_dir}: {what}: {exc}") from None
    except Exception as exc:  # the Docker SDK's APIError and requests' errors
        text = " ".join(str(exc).split())[:240] or type(exc).__name__
        raise ActivityFailed(f"docker stack in {stack.state_dir}: {what}: {text}") from None


def replica_service(stack: ServiceFaults, replica: Any) -> str:
    """`app-K` for replica K (1-based); 0 means the last replica."""
    state = on_stack(stack, "read stack.json", stack.state)
    if state is None:
        raise ActivityFailed(f"docker stack in {stack.state_dir}: no stack.json")
    try:
        index = int(replica)
    except (TypeError, ValueError):
        raise ActivityFailed(f"argument replica must be an integer, got {replica!r}") from None
    if not 0 <= index <= state.replicas:
        raise ActivityFailed(
            f"argument replica must be between 0 (the last) and {state.replicas}, got {index}"
        )
    return f"app-{index or state.replicas}"
