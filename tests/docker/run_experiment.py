"""Run one experiment against the docker stack of a state directory, like `hubchaos run`.

`python3 -m tests.docker.run_experiment STATE_DIR EXPERIMENT OUT_DIR`: exports
the stack's experiment environment (stack.json, as `hubchaos run` does), runs
the experiment through hubchaos.runner and exits with the verdict's code.
Used until `hubchaos run` picks the driver by stack.json (hubchaos.stack.drivers).
"""

from __future__ import annotations

import sys
from pathlib import Path

from hubchaos.runner import export_stack_environment, run_experiment_file
from hubchaos.stack.docker_env import DockerStack
from hubchaos.stack_session import experiment_environment


def main(argv: list[str]) -> int:
    state_dir, experiment, out_dir = Path(argv[0]), argv[1], Path(argv[2])
    stack = DockerStack(state_dir, progress=lambda line: None)
    state = stack.state()
    if state is None:
        print(f"no docker stack in {state_dir}", file=sys.stderr)
        return 2
    export_stack_environment(experiment_environment(stack, state))
    run = run_experiment_file(experiment, out_dir)
    print(f"{experiment}: {run.verdict.summary_line}", file=sys.stderr)
    print(f"journal: {run.journal_path}", file=sys.stderr)
    return int(run.verdict.code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
