"""Images of the local cluster: no registry is reachable, so every image a pod uses is
imported into the cluster's containerd beforehand (the pause image made here, the hub's
offline images exported from Docker)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

from hubchaos.cluster.build import source_tree
from hubchaos.cluster.errors import ClusterError
from hubchaos.cluster.layout import ClusterLayout
from hubchaos.cluster.pause import build_pause_archive
from hubchaos.cluster.runtime import PAUSE_IMAGE

__all__ = ["HUB_IMAGES", "imported_images", "load_hub_images", "load_pause_image"]

# What the *-offline overlays reference (environments/kubernetes/components/offline).
HUB_IMAGES = ("hubchaos/runtime:offline", "hubchaos/services:offline")
_NAMESPACE = "k8s.io"


def _ctr(layout: ClusterLayout) -> list[str]:
    return ["ctr", "--address", str(layout.containerd_socket), "--namespace", _NAMESPACE]


def imported_images(layout: ClusterLayout) -> set[str]:
    done = subprocess.run(
        [*_ctr(layout), "images", "list", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return set(done.stdout.split())


def _import(
    layout: ClusterLayout, archive: Path | None, stdin: subprocess.Popen[bytes] | None, what: str
) -> None:
    argv = [
        *_ctr(layout),
        "images",
        "import",
        "--snapshotter",
        "overlayfs",
        str(archive) if archive else "-",
    ]
    done = subprocess.run(
        argv,
        stdin=stdin.stdout if stdin else None,
        capture_output=True,
        check=False,
        timeout=900,
    )
    if stdin is not None:
        stdin.wait(timeout=60)
        if stdin.stdout is not None:
            stdin.stdout.close()
    if stdin is not None and stdin.returncode != 0:  # its failure explains ctr's better
        raise ClusterError(f"`docker save {what}` failed: is dockerd up? (scripts/docker-setup)")
    if done.returncode != 0:
        raise ClusterError(
            f"importing {what} into containerd failed: "
            f"{done.stderr.decode(errors='replace').strip()[-300:]}"
        )


def load_pause_image(layout: ClusterLayout) -> bool:
    """Compile pause.c and import it, unless the image is already there. True if imported."""
    if _qualified(PAUSE_IMAGE) in imported_images(layout):
        return False
    pause_c = source_tree(layout) / "build" / "pause" / "linux" / "pause.c"
    archive = build_pause_archive(pause_c, PAUSE_IMAGE, layout.state / "pause.tar")
    _import(layout, archive, None, PAUSE_IMAGE)
    archive.unlink()
    return True


def load_hub_images(
    layout: ClusterLayout, progress: Callable[[str], None], images: Iterable[str] = HUB_IMAGES
) -> list[str]:
    """`docker save` each image the cluster lacks into containerd; the names imported."""
    have = imported_images(layout)
    wanted = [image for image in images if _qualified(image) not in have]
    if not wanted:
        return []
    if shutil.which("docker") is None:
        raise ClusterError(f"docker is needed to export {', '.join(wanted)} (scripts/docker-setup)")
    for image in wanted:
        progress(f"loading {image} from Docker into the cluster's containerd")
        save = subprocess.Popen(
            ["docker", "save", image], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        _import(layout, None, save, image)
    return wanted


def _qualified(image: str) -> str:
    """containerd's full name of a short docker reference (docker.io/library/...)."""
    name = image
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    return name
