"""Finding the environment driver of the stack a run targets.

The driver is the one recorded in the state directory (the local stack, or the
docker stack of `hubchaos up --env docker`; see `hubchaos.stack.drivers`). The
state directory comes from configuration key `hubchaos_state_dir` (else env
HUBCHAOS_STATE_DIR, which `hubchaos run` exports, else `.hubchaos`), the port
offset from `hubchaos_port_offset` (else HUBCHAOS_PORT_OFFSET, else 0).
"""

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration

from hubchaos.activity.settings import STATE_DIR_KEY, setting, target_state_dir
from hubchaos.errors import HubchaosError
from hubchaos.stack.driver import StackDriver
from hubchaos.stack.drivers import open_stack
from hubchaos.stack.state import StackState

PORT_OFFSET_KEY = "hubchaos_port_offset"


def stack_driver(configuration: Configuration | None) -> StackDriver:
    """The driver of the stack this run targets (its progress lines are dropped)."""
    state_dir = target_state_dir(configuration)
    raw_offset = setting(PORT_OFFSET_KEY, configuration, "0")
    try:
        offset = int(raw_offset)
    except ValueError:
        raise ActivityFailed(
            f"{PORT_OFFSET_KEY} (env {PORT_OFFSET_KEY.upper()}) must be an integer, "
            f"got {raw_offset!r}"
        ) from None
    return open_stack(state_dir, port_offset=offset, progress=lambda line: None)


def running_state(driver: StackDriver) -> StackState:
    """stack.json of the running stack, or ActivityFailed naming the state directory."""
    try:
        state = driver.state()
    except HubchaosError as exc:
        raise ActivityFailed(f"stack in {driver.state_dir}: {exc}") from None
    if state is None:
        raise ActivityFailed(
            f"stack in {driver.state_dir}: no stack is running there "
            f"(set {STATE_DIR_KEY} or env {STATE_DIR_KEY.upper()} to its state directory)"
        )
    return state
