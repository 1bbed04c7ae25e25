"""The pod sandbox ("pause") image, made here: no registry can be reached.

pause.c from the Kubernetes source tree is compiled statically and packed as a
docker-archive tarball (manifest.json, image config, one layer) that
`ctr images import` understands.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

from hubchaos.cluster.errors import ClusterError

__all__ = ["build_pause_archive"]


def build_pause_archive(pause_c: Path, reference: str, out: Path) -> Path:
    """Compile `pause_c` and write an image tarball tagged `reference` to `out`."""
    if not pause_c.exists():
        raise ClusterError(f"{pause_c} not found: the Kubernetes source tree is incomplete")
    with tempfile.TemporaryDirectory(prefix="hubchaos-pause-") as tmp:
        binary = Path(tmp) / "pause"
        tag = reference.rpartition(":")[2]
        command = ["gcc", "-Os", "-static", "-Wall", f'-DVERSION="{tag}"', "-o", str(binary)]
        done = subprocess.run([*command, str(pause_c)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ClusterError(f"compiling {pause_c} failed: {done.stderr.strip()[-300:]}")
        subprocess.run(["strip", str(binary)], check=False)
        layer = _layer_tar(binary.read_bytes())
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Entrypoint": ["/pause"], "User": "65535:65535"},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "hubchaos cluster: gcc -static pause.c"}],
    }
    config_bytes = json.dumps(config).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    layer_name = diff_id.removeprefix("sha256:") + "/layer.tar"
    manifest = [{"Config": config_name, "RepoTags": [reference], "Layers": [layer_name]}]
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, "w") as archive:
        _add(archive, config_name, config_bytes)
        _add(archive, layer_name, layer)
        _add(archive, "manifest.json", json.dumps(manifest).encode())
    return out


def _layer_tar(binary: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as layer:
        info = tarfile.TarInfo("pause")
        info.size, info.mode = len(binary), 0o755
        layer.addfile(info, io.BytesIO(binary))
    return buffer.getvalue()


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    archive.addfile(info, io.BytesIO(data))
