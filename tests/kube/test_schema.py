"""Every rendered object is valid for Kubernetes 1.28 and 1.31 (offline schemas) and
uses only API versions that 1.20 serves as well."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from hubchaos.budget.sources import overlay_case
from hubchaos.kube.kustomize import build
from tests.kube.conftest import OVERLAY_NAMES, OVERLAYS, with_autoscaling_v2

SCHEMA_VERSIONS = ("1.28.0", "1.31.0")
# (apiVersion, kind) served by Kubernetes 1.20 and still served by 1.31. Not in
# it on purpose: autoscaling/v2 (1.23+), policy/v1 and batch/v1 CronJob (1.21+),
# autoscaling/v2beta2 (gone in 1.26).
SERVED_BY_1_20_AND_1_31 = {
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("v1", "ServiceAccount"),
    ("v1", "PersistentVolumeClaim"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("batch/v1", "Job"),
    ("autoscaling/v1", "HorizontalPodAutoscaler"),
}


def rendered() -> list[tuple[str, dict[str, Any]]]:
    return [(overlay, obj) for overlay in OVERLAY_NAMES for obj in build(OVERLAYS / overlay)]


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_every_rendered_object_matches_the_strict_schema(version: str) -> None:
    failures = []
    for overlay, obj in rendered():
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            failures.append(f"{overlay} {obj['kind']}/{obj['metadata']['name']}: {exc}")
    assert failures == []


def test_the_schema_check_catches_a_misspelt_field() -> None:
    app = next(o for _, o in rendered() if o["kind"] == "Deployment")
    broken = copy.deepcopy(app)
    container = broken["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe", {})
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, SCHEMA_VERSIONS[-1], strict=True)


def test_only_api_versions_both_1_20_and_current_releases_serve() -> None:
    used = {(obj["apiVersion"], obj["kind"]) for _, obj in rendered()}
    assert used <= SERVED_BY_1_20_AND_1_31, used - SERVED_BY_1_20_AND_1_31


def test_learninghub_is_the_deployment_the_issue_names_with_probes_and_resources() -> None:
    for overlay in OVERLAY_NAMES:
        objects = build(OVERLAYS / overlay)
        app = next(
            o
            for o in objects
            if o["kind"] == "Deployment" and o["metadata"]["name"] == "learninghub"
        )
        template = app["spec"]["template"]
        assert template["metadata"]["labels"]["app.kubernetes.io/name"] == "learninghub"
        container = template["spec"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        # the autoscaler owns the count
        assert "replicas" not in app["spec"]
        hpa = next(o for o in objects if o["kind"] == "HorizontalPodAutoscaler")
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "learninghub",
        }
        # every container has requests and limits (the HPA's CPU target needs requests)
        for obj in objects:
            for each in (
                obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
            ):
                assert set(each["resources"]) == {"requests", "limits"}, obj["metadata"]["name"]


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_the_autoscaling_v2_component_is_valid_for_current_releases(
    tmp_path: Path, version: str
) -> None:
    mine = with_autoscaling_v2(tmp_path)
    hpa = next(o for o in build(mine) if o["kind"] == "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["behavior"]["scaleUp"]["policies"] == [
        {"type": "Pods", "value": 1, "periodSeconds": 30}
    ]
    kubernetes_validate.validate(hpa, version, strict=True)
    # the budget reads the v2 autoscaler's ceiling the same way
    case = overlay_case(mine)
    assert (case.resolved.replicas, case.fits) == (5, True)
