"""The images of the docker stack: built when their inputs changed, pulled when missing.

Every service with a `build` section is built through the Docker API; the
image carries a label with a hash of its inputs, so an unchanged image is not
built again (a warm `up` builds nothing). The runtime image (environments/hub/
Dockerfile) is built from wheels made on this machine: the build context is
a cache directory holding wheels/deps and wheels/project, so no package index
is needed inside the build. Images without a build section are pulled when
missing; with --offline every image is built (compose.offline.yaml) and
nothing is pulled.

`python3 -m hubchaos.stack.docker.prepare` builds them ahead of time.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from hubchaos.errors import StackError, UserError
from hubchaos.stack.docker.compose import ServiceSpec, compose_dir
from hubchaos.stack.environments import environments_dir

BASE_IMAGE = "hubchaos/debian:bookworm"
SOURCE_LABEL = "org.hubchaos.inputs"
PIP_TIMEOUT_S = 900.0
PULL_TIMEOUT_S = 600

# What goes into the hubchaos and learninghub wheels.
_PROJECT_FILES = ("pyproject.toml", "README.md")
_PROJECT_DIRS = ("hubchaos", "actions", "probes")
_HUB = Path("environments") / "hub"

Progress = Callable[[str], None]


def default_runtime_context() -> Path:
    """Where the runtime image's build context (wheels) is prepared (build/: ignored by git)."""
    return compose_dir() / "build" / "runtime"


def _repo() -> Path:
    """The hubchaos checkout the runtime image's wheels are built from."""
    return environments_dir().parent


def _runtime_dockerfile() -> Path:
    return _repo() / _HUB / "Dockerfile"


def ensure_images(
    client: object, specs: Iterable[ServiceSpec], offline: bool, progress: Progress
) -> list[str]:
    """Build or pull what `specs` need; returns the images that were built."""
    built: list[str] = []
    seen: set[str] = set()
    # Builds first: a service may run an image another service builds.
    for spec in sorted(specs, key=lambda spec: spec.build is None):
        if spec.image in seen:
            continue
        seen.add(spec.image)
        if spec.build is not None:
            if _build_if_stale(client, spec, progress):
                built.append(spec.image)
        elif not _present(client, spec.image):
            if offline:
                raise UserError(
                    f"image {spec.image} of service {spec.name} is missing and --offline "
                    "builds only what compose.offline.yaml describes"
                )
            _pull(client, spec.image, progress)
    return built


def _present(client: object, image: str) -> bool:
    import docker.errors

    try:
        client.images.get(image)  # type: ignore[attr-defined]
    except docker.errors.ImageNotFound:
        return False
    return True


def _pull(client: object, image: str, progress: Progress) -> None:
    import docker.errors

    progress(f"pulling {image} ...")
    repository, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "")
    try:
        client.images.pull(repository, tag=tag or "latest")  # type: ignore[attr-defined]
    except docker.errors.APIError as exc:
        raise UserError(
            f"cannot pull {image} ({str(exc.explanation or exc)[:160]}): no container registry "
            "reachable? use `hubchaos up --env docker --offline`"
        ) from None


def _build_if_stale(client: object, spec: ServiceSpec, progress: Progress) -> bool:
    import docker.errors

    assert spec.build is not None
    build = spec.build
    runtime = build.context == default_runtime_context().resolve()
    if not runtime and not (build.context / build.dockerfile).is_file():
        raise UserError(f"service {spec.name}: {build.context / build.dockerfile} is missing")
    base = build.args.get("BASE_IMAGE")
    if base == BASE_IMAGE and not _present(client, BASE_IMAGE):
        raise UserError(
            f"the offline base image {BASE_IMAGE} is missing: build it with "
            "environments/docker/build-offline.sh (as root; needs debootstrap)"
        )
    if base and base != BASE_IMAGE and not _present(client, base):
        _pull(client, base, progress)  # up front: a registry that cannot be reached says so
    inputs = _inputs_hash(build.args, runtime, build.context, build.dockerfile)
    previous: str | None = None
    try:
        current = client.images.get(spec.image)  # type: ignore[attr-defined]
        if (current.labels or {}).get(SOURCE_LABEL) == inputs:
            return False
        previous = current.id
    except docker.errors.ImageNotFound:
        pass
    started = time.monotonic()
    if runtime:
        prepare_runtime_context(build.context, progress)
    progress(f"building {spec.image} ...")
    try:
        client.images.build(  # type: ignore[attr-defined]
            path=str(build.context),
            dockerfile=build.dockerfile,
            tag=spec.image,
            buildargs=build.args,
            labels={SOURCE_LABEL: inputs},
            rm=True,
            forcerm=True,
        )
    except docker.errors.BuildError as exc:
        lines = [str(item.get("stream") or item.get("error") or "") for item in exc.build_log]
        last = " ".join("".join(lines).split())[-300:]
        raise StackError(f"image {spec.image}", f"build failed: {exc.msg}: {last}") from None
    except docker.errors.APIError as exc:
        raise StackError(f"image {spec.image}", f"build failed: {exc}") from None
    progress(f"building {spec.image} ... done in {time.monotonic() - started:.1f}s")
    if previous is not None:
        # The superseded build would linger untagged; a container still using it keeps it.
        with contextlib.suppress(docker.errors.APIError):
            client.images.remove(previous)  # type: ignore[attr-defined]
    return True


def _inputs_hash(args: dict[str, str], runtime: bool, context: Path, dockerfile: str) -> str:
    digest = hashlib.sha256(repr(sorted(args.items())).encode())
    if runtime:
        files = [_runtime_dockerfile(), *(_project_files())]
        root = _repo()
    else:
        files = [context / dockerfile, *_copied_files(context / dockerfile)]
        root = context
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def _copied_files(dockerfile: Path) -> list[Path]:
    """The context files a Dockerfile's COPY lines name (the rest of the context is unused)."""
    files: list[Path] = []
    for line in dockerfile.read_text().splitlines():
        words = line.split()
        if words and words[0].upper() in ("COPY", "ADD") and len(words) >= 3:
            for source in (word for word in words[1:-1] if not word.startswith("--")):
                path = dockerfile.parent / source
                files += (
                    sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
                )
    return files


def _project_files() -> list[Path]:
    files = [_repo() / name for name in _PROJECT_FILES]
    files += [_repo() / _HUB / "pyproject.toml", _repo() / _HUB / "README.md"]
    for directory in [*(_repo() / name for name in _PROJECT_DIRS), _repo() / _HUB / "learninghub"]:
        files += [
            path
            for path in directory.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
        ]
    return sorted(path for path in files if path.exists())


def prepare_runtime_context(context: Path, progress: Progress) -> None:
    """Wheels of hubchaos, learninghub and their dependencies, plus the Dockerfile."""
    progress("building wheels for the runtime image ...")
    started = time.monotonic()
    context.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_runtime_dockerfile(), context / "Dockerfile")
    deps, project = context / "wheels" / "deps", context / "wheels" / "project"
    with tempfile.TemporaryDirectory(prefix="hubchaos-wheels-") as tmp:
        # Build from a copy: building in the checkout would leave build/ behind.
        source = Path(tmp) / "src"
        _copy_sources(source)
        out = Path(tmp) / "wheels"
        _pip(["wheel", "--no-build-isolation", "--wheel-dir", str(out),
              str(source), str(source / _HUB)], context)  # fmt: skip
        shutil.rmtree(deps, ignore_errors=True)
        shutil.rmtree(project, ignore_errors=True)
        deps.mkdir(parents=True)
        project.mkdir(parents=True)
        for wheel in out.glob("*.whl"):
            mine = wheel.name.startswith(("hubchaos-", "learninghub-"))
            shutil.move(str(wheel), str((project if mine else deps) / wheel.name))
    progress(f"building wheels for the runtime image ... done in {time.monotonic() - started:.1f}s")


def _copy_sources(source: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    source.mkdir(parents=True)
    for name in _PROJECT_FILES:
        shutil.copy2(_repo() / name, source / name)
    for name in _PROJECT_DIRS:
        shutil.copytree(_repo() / name, source / name, ignore=ignore)
    shutil.copytree(_repo() / _HUB, source / _HUB, ignore=ignore)


def _pip(args: list[str], context: Path) -> None:
    log = context / "pip.log"
    with log.open("wb") as out:
        try:
            result = subprocess.run(
                [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                timeout=PIP_TIMEOUT_S, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise StackError(
                "runtime image", f"pip wheel took over {PIP_TIMEOUT_S:g}s", str(log)
            ) from None
    if result.returncode != 0:
        tail = " ".join(log.read_text(errors="replace").split())[-300:]
        raise StackError("runtime image", f"pip wheel failed: {tail}", str(log))
