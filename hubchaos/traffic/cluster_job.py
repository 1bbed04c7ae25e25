"""A cluster flood as a batch/v1 Job: its manifest, its bounds, and what its pods measured.

N pods (parallelism = completions = N, no retry) each run `pod_flood` against a
Service of the Job's own namespace. The Job stops by itself: every pod's load is
bounded by its request budget and duration, and `activeDeadlineSeconds` (the
duration, the request timeout and a start-up margin) ends pods that would not.
The labels name the run and the flood, so the runner finds the pods and the
fault ledger's undo deletes them.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubchaos.traffic import pod_flood

__all__ = [
    "CONTAINER",
    "FLOOD_LABEL",
    "MAX_CLUSTER_FLOOD_SECONDS",
    "MAX_CONCURRENCY_PER_POD",
    "MAX_PARALLELISM",
    "RUN_LABEL",
    "START_MARGIN_S",
    "FloodJob",
    "pod_result",
    "summarise",
    "valid_service_name",
]

MAX_PARALLELISM = 20  # pods per flood: one node's worth, a typo cannot take the cluster
MAX_CONCURRENCY_PER_POD = 500  # x MAX_PARALLELISM pods = the local floods' 10,000 ceiling
MAX_CLUSTER_FLOOD_SECONDS = 600.0
START_MARGIN_S = 60.0  # scheduling, image, Python start-up, before the load's own bound
RUN_LABEL = "hubchaos.io/run"
FLOOD_LABEL = "hubchaos.io/flood"
CONTAINER = "flood"
_SERVICE_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")  # no dot: this namespace only


def valid_service_name(name: str) -> bool:
    return bool(_SERVICE_NAME.match(name))


@dataclass(frozen=True)
class FloodJob:
    """One cluster flood: where it runs, how wide, and what each pod is told."""

    name: str
    namespace: str
    image: str
    run_id: str
    parallelism: int
    pod_arguments: dict[str, Any]

    @property
    def load_seconds(self) -> float:
        """How long one pod's load may last, by its own bound."""
        args = self.pod_arguments
        return float(args["duration_seconds"]) + float(args["timeout"]) + pod_flood.SLACK_S

    @property
    def deadline_seconds(self) -> int:
        """activeDeadlineSeconds: the load's bound plus the time a pod needs to start."""
        return int(self.load_seconds + START_MARGIN_S + 0.999)

    @property
    def labels(self) -> dict[str, str]:
        return {
            "app.kubernetes.io/name": "hubchaos-flood",
            "app.kubernetes.io/part-of": "hubchaos",
            RUN_LABEL: self.run_id,
            FLOOD_LABEL: self.name,
        }

    @property
    def selector(self) -> str:
        return f"{FLOOD_LABEL}={self.name}"

    def manifest(self) -> dict[str, Any]:
        source = Path(pod_flood.__file__).read_text()
        container = {
            "name": CONTAINER,
            "image": self.image,
            "imagePullPolicy": "IfNotPresent",
            "command": ["python3", "-c", source, json.dumps(self.pod_arguments)],
            "resources": {
                "requests": {"cpu": "10m", "memory": "64Mi"},
                "limits": {"cpu": "500m", "memory": "256Mi"},
            },
        }
        return {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": self.name, "namespace": self.namespace, "labels": self.labels},
            "spec": {
                "parallelism": self.parallelism,
                "completions": self.parallelism,
                "backoffLimit": 0,  # a failed pod is a result to report, not to retry
                "activeDeadlineSeconds": self.deadline_seconds,
                # A last resort where the TTL controller runs (on by default since 1.21);
                # the fault ledger deletes the Job long before.
                "ttlSecondsAfterFinished": 600,
                "template": {
                    "metadata": {"labels": self.labels},
                    "spec": {
                        "restartPolicy": "Never",
                        "automountServiceAccountToken": False,  # the pods need no API
                        "terminationGracePeriodSeconds": 5,
                        "containers": [container],
                    },
                },
            },
        }


def pod_result(log: str) -> dict[str, Any] | None:
    """The statistics a pod printed (its last result line), or None when it printed none."""
    for line in reversed(log.splitlines()):
        if line.startswith(pod_flood.RESULT_MARK + " "):
            try:
                parsed = json.loads(line[len(pod_flood.RESULT_MARK) + 1 :])
            except ValueError:
                return None
            return parsed if isinstance(parsed, dict) else None
    return None


def summarise(pods: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals over the pods: each item {"pod", "phase", "result": stats or None}."""
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    requests = responses = 0
    rate = 0.0
    reported = [pod for pod in pods if pod.get("result")]
    for pod in reported:
        result = pod["result"]
        requests += int(result.get("requests", 0))
        responses += int(result.get("responses", 0))
        rate += float(result.get("requests_per_second", 0.0))
        statuses.update({str(k): int(v) for k, v in result.get("status_counts", {}).items()})
        errors.update({str(k): int(v) for k, v in result.get("errors_by_kind", {}).items()})
    server_errors = sum(n for status, n in statuses.items() if int(status) >= 500)
    failures = sum(errors.values())
    return {
        "pods_reported": len(reported),
        "requests": requests,
        "responses": responses,
        "status_counts": dict(sorted(statuses.items())),
        "errors_by_kind": dict(errors),
        "error_rate": round((failures + server_errors) / requests, 4) if requests else 0.0,
        "requests_per_second": round(rate, 1),
        "per_pod": [
            {
                "pod": pod["pod"],
                "phase": pod["phase"],
                "requests": (pod.get("result") or {}).get("requests"),
                "error_rate": (pod.get("result") or {}).get("error_rate"),
                "p99_ms": ((pod.get("result") or {}).get("latency_ms") or {}).get("p99"),
            }
            for pod in pods
        ],
    }
