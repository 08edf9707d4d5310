"""The certificates work for what the cluster uses them for: TLS with client auth."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from pathlib import Path

import pytest

from localcluster.pki import Pki, make_pki

pytestmark = [pytest.mark.unit, pytest.mark.harness]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _subject(cert: Path) -> str:
    args = ["openssl", "x509", "-in", str(cert), "-noout", "-subject", "-nameopt", "RFC2253"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def test_admin_certificate_names_a_cluster_admin(pki: Pki) -> None:
    assert "CN=admin" in _subject(pki.admin_cert)
    assert "O=system:masters" in _subject(pki.admin_cert)


def test_both_leaf_certificates_chain_to_the_ca(pki: Pki) -> None:
    verify = ["openssl", "verify", "-CAfile", str(pki.ca_cert)]
    result = subprocess.run(
        [*verify, str(pki.serving_cert), str(pki.admin_cert)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_serving_certificate_passes_a_mutual_tls_handshake_on_127_0_0_1(pki: Pki) -> None:
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(pki.serving_cert, pki.key)
    server_context.load_verify_locations(pki.ca_cert)
    server_context.verify_mode = ssl.CERT_REQUIRED
    client_context = ssl.create_default_context(cafile=str(pki.ca_cert))
    client_context.load_cert_chain(pki.admin_cert, pki.key)
    peer_subjects: list[object] = []

    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def serve() -> None:
            conn, _ = listener.accept()
            with server_context.wrap_socket(conn, server_side=True) as tls:
                peer_subjects.append(tls.getpeercert()["subject"])

        server = threading.Thread(target=serve)
        server.start()
        with (
            socket.create_connection(("127.0.0.1", port)) as raw,
            client_context.wrap_socket(raw, server_hostname="127.0.0.1"),
        ):
            pass
        server.join(timeout=5)

    assert peer_subjects, "the server saw no client certificate"
    assert (("commonName", "admin"),) in peer_subjects[0]
