import os
import subprocess
from pathlib import Path

import pytest

import nnspice


@pytest.fixture(scope="session")
def cli():
    """Runs the nnspice command (the same build as the package) and returns (exit code, stdout, stderr)."""
    exe = os.environ.get("NNSPICE_EXECUTABLE") or nnspice.NNSPICE_EXECUTABLE

    def call(*args):
        p = subprocess.run([exe, *map(str, args)], capture_output=True, text=True)
        return p.returncode, p.stdout, p.stderr

    return call


def has_mnist() -> bool:
    d = os.environ.get("NNSPICE_MNIST_DIR", "/usr/local/share/nnspice/mnist")
    return Path(d, "train-images-idx3-ubyte").is_file() or Path(d, "train-images-idx3-ubyte.gz").is_file()
