"""The cluster's certificates, made with the openssl command line.

One CA signs the apiserver's serving certificate and the admin client certificate (CN admin,
O system:masters). One RSA key backs both leaf certificates and also signs service-account
tokens: a throwaway test cluster gains nothing from more keys, and each costs start-up time.
"""

import dataclasses
import subprocess
from pathlib import Path

# Names the apiserver is reached by: loopback from the host, and the in-cluster service
# (first address of --service-cluster-ip-range) for pods that talk to it through a client.
SERVING_NAMES = (
    "IP:127.0.0.1",
    "IP:10.0.0.1",
    "DNS:localhost",
    "DNS:kubernetes",
    "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc",
    "DNS:kubernetes.default.svc.cluster.local",
)
VALID_DAYS = "365"


@dataclasses.dataclass(frozen=True)
class Pki:
    ca_cert: Path
    ca_key: Path
    key: Path
    serving_cert: Path
    admin_cert: Path

    @classmethod
    def under(cls, directory: Path) -> "Pki":
        return cls(
            ca_cert=directory / "ca.crt",
            ca_key=directory / "ca.key",
            key=directory / "cluster.key",
            serving_cert=directory / "apiserver.crt",
            admin_cert=directory / "admin.crt",
        )


def leaf_extensions(usage: str, alt_names: tuple[str, ...] = ()) -> str:
    """x509v3 extensions of a leaf certificate, in openssl's -extfile syntax."""
    lines = [
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        f"extendedKeyUsage={usage}",
        "subjectKeyIdentifier=hash",
        "authorityKeyIdentifier=keyid,issuer",
    ]
    if alt_names:
        lines.append("subjectAltName=" + ",".join(alt_names))
    return "\n".join(lines) + "\n"


def _openssl(*args: str | Path) -> None:
    result = subprocess.run(
        ["openssl", *map(str, args)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {result.stderr.strip()}")


def _sign(pki: Pki, subject: str, extensions: str, cert: Path) -> None:
    csr = cert.with_suffix(".csr")
    ext_file = cert.with_suffix(".ext")
    ext_file.write_text(extensions)
    _openssl("req", "-new", "-key", pki.key, "-subj", subject, "-out", csr)
    _openssl(
        "x509", "-req", "-in", csr, "-CA", pki.ca_cert, "-CAkey", pki.ca_key,
        "-CAcreateserial", "-days", VALID_DAYS, "-sha256", "-extfile", ext_file, "-out", cert,
    )  # fmt: skip
    csr.unlink()
    ext_file.unlink()


def make_pki(directory: Path) -> Pki:
    directory.mkdir(parents=True, exist_ok=True)
    pki = Pki.under(directory)
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", pki.ca_key,
        "-out", pki.ca_cert, "-days", VALID_DAYS, "-subj", "/CN=airollout-local-ca",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
    )  # fmt: skip
    _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", pki.key)
    _sign(pki, "/CN=kube-apiserver", leaf_extensions("serverAuth", SERVING_NAMES), pki.serving_cert)
    _sign(pki, "/O=system:masters/CN=admin", leaf_extensions("clientAuth"), pki.admin_cert)
    return pki
