"""The one-time build of the Kubernetes server binaries from Debian's source package.

No registry here serves Kubernetes server binaries, but Debian bookworm's source
package `kubernetes` is the complete upstream tree with vendor/. It is fetched with
an apt configuration private to the cache (the machine's sources stay untouched),
the vendored reflect2 v1.0.1 (broken at run time on Go >= 1.18) is replaced by
Debian's v1.0.2, and upstream `make` builds the five server programs at nice 19.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from hubchaos.cluster.errors import ClusterError
from hubchaos.cluster.layout import BINARIES, ClusterLayout

__all__ = ["BUILD_PACKAGES", "binaries_present", "ensure_binaries", "source_tree"]

BUILD_PACKAGES = ("golang-go", "rsync", "golang-github-modern-go-reflect2-dev", "dpkg-dev")
_REFLECT2 = Path("/usr/share/gocode/src/github.com/modern-go/reflect2")
_SOURCES = "deb-src http://deb.debian.org/debian bookworm main\n"

Progress = Callable[[str], None]


def binaries_present(layout: ClusterLayout) -> bool:
    return all(os.access(layout.binary(name), os.X_OK) for name in BINARIES)


def source_tree(layout: ClusterLayout) -> Path:
    return layout.cache / "build" / f"kubernetes-{layout.version}"


def ensure_binaries(layout: ClusterLayout, progress: Progress) -> None:
    """Build the binaries into the cache unless they are already there."""
    if binaries_present(layout):
        return
    if not shutil.which("go") or not shutil.which("rsync") or not _REFLECT2.is_dir():
        raise ClusterError(
            "building Kubernetes needs "
            + ", ".join(BUILD_PACKAGES)
            + " (apt-get install them, or run `hubchaos cluster up` as root)"
        )
    tree = source_tree(layout)
    if _wait_for_running_build(layout, tree, progress):
        return
    if not (tree / "Makefile").exists():
        _fetch_source(layout, tree, progress)
    _build(layout, tree, progress)


def _builders(tree: Path) -> list[int]:
    """Pids of processes working in `tree` (a build another command started)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cwd = (proc / "cwd").resolve(strict=True)
            except OSError:
                continue
            if cwd == tree or tree in cwd.parents:
                found.append(int(proc.name))
    return found


def _wait_for_running_build(layout: ClusterLayout, tree: Path, progress: Progress) -> bool:
    """Never start a second build: wait for one already running. True if it produced them."""
    if not tree.exists() or not _builders(tree.resolve()):
        return False
    started = time.monotonic()
    progress(f"a build is already running in {tree}: waiting for it")
    while _builders(tree.resolve()):
        if binaries_present(layout):
            break
        time.sleep(30)
        progress(f"  still building ({time.monotonic() - started:.0f} s)")
    time.sleep(2)  # its last copy into the cache
    if not binaries_present(layout):
        raise ClusterError(
            f"the build running in {tree} ended without the binaries "
            f"in {layout.bin_dir}; see {layout.cache / 'build.log'}"
        )
    return True


def _fetch_source(layout: ClusterLayout, tree: Path, progress: Progress) -> None:
    apt = layout.cache / "k8s-src" / "apt"
    for sub in ("etc", "lists/partial", "cache/archives/partial"):
        (apt / sub).mkdir(parents=True, exist_ok=True)
    (apt / "etc" / "sources.list").write_text(_SOURCES)
    options = [
        f"-oDir::Etc::SourceList={apt / 'etc' / 'sources.list'}",
        "-oDir::Etc::SourceParts=/nonexistent",
        f"-oDir::State::Lists={apt / 'lists'}",
        f"-oDir::Cache={apt / 'cache'}",
    ]
    download = layout.cache / "k8s-src"
    progress("fetching the source package index (private apt configuration)")
    _run(["apt-get", *options, "update"], cwd=download, what="apt-get update")
    progress("downloading Debian's kubernetes source package (~34 MB)")
    _run(
        ["apt-get", *options, "source", "--download-only", "kubernetes"],
        cwd=download,
        what="apt-get source",
    )
    dsc = sorted(download.glob("kubernetes_*.dsc"))
    if not dsc:
        raise ClusterError(f"no kubernetes_*.dsc in {download} after apt-get source")
    progress(f"unpacking {dsc[-1].name}")
    unpacked = layout.cache / "build" / "unpacked"
    shutil.rmtree(unpacked, ignore_errors=True)
    unpacked.parent.mkdir(parents=True, exist_ok=True)  # dpkg-source copies the tarballs there
    _run(
        ["dpkg-source", "--no-check", "-x", str(dsc[-1]), str(unpacked)],
        cwd=download,
        what="dpkg-source -x",
    )
    tree.parent.mkdir(parents=True, exist_ok=True)
    unpacked.rename(tree)
    vendored = tree / "vendor" / "github.com" / "modern-go" / "reflect2"
    progress("replacing vendored reflect2 v1.0.1 by Debian's v1.0.2")
    shutil.rmtree(vendored, ignore_errors=True)
    shutil.copytree(_REFLECT2, vendored, ignore=shutil.ignore_patterns("*_test.go"))


def _build(layout: ClusterLayout, tree: Path, progress: Progress) -> None:
    env = dict(os.environ)
    env.update(
        KUBE_GIT_VERSION=f"v{layout.version}",
        KUBE_GIT_TREE_STATE="clean",
        KUBE_GIT_MAJOR=layout.version.split(".")[0],
        KUBE_GIT_MINOR=layout.version.split(".")[1],
        GOFLAGS="",
        GOCACHE=str(layout.cache / "gocache"),
    )
    what = " ".join(f"cmd/{name}" for name in BINARIES)
    log = layout.cache / "build.log"
    progress(f"building {', '.join(BINARIES)} (one time, ~12 min on 2 cores; log {log})")
    started = time.monotonic()
    with log.open("ab") as out:
        make = subprocess.Popen(
            ["nice", "-n", "19", "make", f"WHAT={what}", "GOLDFLAGS=-s -w"],
            cwd=tree,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        while make.poll() is None:
            time.sleep(30)
            progress(f"  still building ({time.monotonic() - started:.0f} s)")
    if make.returncode != 0:
        raise ClusterError(f"the Kubernetes build failed (exit {make.returncode}); see {log}")
    layout.bin_dir.mkdir(parents=True, exist_ok=True)
    for name in BINARIES:
        shutil.copy2(tree / "_output" / "bin" / name, layout.binary(name))
    progress(f"built in {time.monotonic() - started:.0f} s into {layout.bin_dir}")


def _run(argv: list[str], cwd: Path, what: str) -> None:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ClusterError(f"{what} failed: {done.stderr.strip()[-300:]}")
