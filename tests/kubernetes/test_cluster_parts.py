"""Parts of the local cluster that run without the binaries: the DNS answers, the
certificates, the pause image archive, the containerd configuration."""

from __future__ import annotations

import json
import socket
import struct
import tarfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from hubchaos.cluster.dns import answer
from hubchaos.cluster.layout import ClusterLayout
from hubchaos.cluster.pause import build_pause_archive
from hubchaos.cluster.pki import CLIENTS, ensure_pki
from hubchaos.cluster.runtime import write_containerd_config

SERVICES = {("hubchaos", "postgres"): "10.0.0.23"}


def _query(name: str, qtype: int = 1) -> bytes:
    labels = b"".join(bytes([len(part)]) + part.encode() for part in name.split("."))
    return (
        struct.pack("!HHHHHH", 7, 0x0100, 1, 0, 0, 0)
        + labels
        + b"\0"
        + struct.pack("!HH", qtype, 1)
    )


def test_a_service_name_resolves_to_its_cluster_ip() -> None:
    reply = answer(_query("postgres.hubchaos.svc.cluster.local"), SERVICES)
    query_id, flags, _, answers = struct.unpack("!HHHH", reply[:8])
    assert (query_id, flags & 0x000F, answers) == (7, 0, 1)
    assert socket.inet_ntoa(reply[-4:]) == "10.0.0.23"


def test_a_headless_service_answers_every_ready_endpoint() -> None:
    pods = ["10.213.0.5", "10.213.0.6", "10.213.0.9"]
    reply = answer(_query("learninghub-pods.hubchaos.svc.cluster.local"),
                   {("hubchaos", "learninghub-pods"): pods})  # fmt: skip
    query_id, flags, _, answers = struct.unpack("!HHHH", reply[:8])
    assert (query_id, flags & 0x000F, answers) == (7, 0, 3)
    records = reply[-16 * 3 :]
    assert [socket.inet_ntoa(records[i * 16 + 12 : i * 16 + 16]) for i in range(3)] == pods


def test_an_unknown_name_is_nxdomain_and_aaaa_of_a_known_one_is_empty() -> None:
    unknown = answer(_query("mysql.hubchaos.svc.cluster.local"), SERVICES)
    assert struct.unpack("!HHHH", unknown[:8])[1] & 0x000F == 3
    other_namespace = answer(_query("postgres.default.svc.cluster.local"), SERVICES)
    assert struct.unpack("!HHHH", other_namespace[:8])[1] & 0x000F == 3
    aaaa = answer(_query("postgres.hubchaos.svc.cluster.local", qtype=28), SERVICES)
    _, flags, _, answers = struct.unpack("!HHHH", aaaa[:8])
    assert (flags & 0x000F, answers) == (0, 0)


def test_every_certificate_is_signed_by_the_cluster_ca(tmp_path: Path) -> None:
    ensure_pki(tmp_path)
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.crt").read_bytes())
    public_key = ca.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    for stem in ("apiserver", *CLIENTS):
        cert = x509.load_pem_x509_certificate((tmp_path / f"{stem}.crt").read_bytes())
        cert.verify_directly_issued_by(ca)
    kubelet = x509.load_pem_x509_certificate((tmp_path / "kubelet.crt").read_bytes())
    assert "CN=system:node:localhost" in kubelet.subject.rfc4514_string()
    first = (tmp_path / "apiserver.crt").read_bytes()
    ensure_pki(tmp_path)  # idempotent: nothing is re-issued
    assert (tmp_path / "apiserver.crt").read_bytes() == first


def test_the_pause_archive_is_a_docker_image_of_a_static_binary(tmp_path: Path) -> None:
    source = tmp_path / "pause.c"
    source.write_text("int main(void) { return 0; }\n")
    archive = build_pause_archive(source, "k8s.gcr.io/pause:3.4", tmp_path / "pause.tar")
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        assert manifest[0]["RepoTags"] == ["k8s.gcr.io/pause:3.4"]
        config = json.loads(tar.extractfile(manifest[0]["Config"]).read())  # type: ignore[union-attr]
        assert config["config"]["Entrypoint"] == ["/pause"]
        layer = tar.extractfile(manifest[0]["Layers"][0])
        assert layer is not None
        with tarfile.open(fileobj=layer) as inner:
            assert inner.getnames() == ["pause"]


def test_containerd_is_an_instance_of_its_own(tmp_path: Path) -> None:
    layout = ClusterLayout(state=tmp_path, cache=tmp_path / "cache")
    text = write_containerd_config(layout, Path("/usr/lib/cni")).read_text()
    assert "restrict_oom_score_adj = true" in text
    assert f'address = "{layout.containerd_socket}"' in text
    assert "/run/containerd/containerd.sock" not in text
