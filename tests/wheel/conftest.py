"""End-to-end tests of the built wheel: installed with pip into a fresh virtual environment, run with no .NET on
the PATH. scripts/test-wheel builds the wheel and runs them with Debian's /usr/bin/python3; BATON_WHEEL names the
wheel file and must be set (these tests never skip)."""

import json
import os
import shutil
import subprocess
import sys
import time
import venv

import pytest

PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="session")
def wheel():
    path = os.environ.get("BATON_WHEEL")
    assert path, "BATON_WHEEL must name the wheel to test (scripts/test-wheel sets it)"
    assert os.path.isfile(path), f"BATON_WHEEL={path} is not a file"
    return os.path.abspath(path)


@pytest.fixture(scope="session")
def figures():
    found = {}
    yield found
    target = os.environ.get("BATON_WHEEL_FIGURES")
    if target:
        with open(target, "w", encoding="utf-8") as out:
            json.dump(found, out, indent=2)


def bare_path(tmp, *folders):
    """A PATH with the given folders and a few basic tools, and no dotnet."""
    tools = os.path.join(tmp, "tools")
    os.makedirs(tools, exist_ok=True)
    for tool in ("sh", "env", "sleep", "cat", "ls"):
        found = shutil.which(tool, path="/usr/bin:/bin")
        if found and not os.path.exists(os.path.join(tools, tool)):
            os.symlink(found, os.path.join(tools, tool))
    path = os.pathsep.join([*folders, tools])
    assert shutil.which("dotnet", path=path) is None
    return path


@pytest.fixture(scope="session")
def installed(wheel, tmp_path_factory, figures):
    """A fresh venv with the wheel installed from the file; returns (venv folder, environment without dotnet)."""
    root = str(tmp_path_factory.mktemp("venv"))
    env_dir = os.path.join(root, "env")
    subprocess.run([PYTHON, "-m", "venv", env_dir], check=True)
    started = time.monotonic()
    subprocess.run([os.path.join(env_dir, "bin", "pip"), "install", "--no-index", "--quiet", wheel], check=True)
    figures["pip_install_seconds"] = round(time.monotonic() - started, 2)
    figures["wheel_bytes"] = os.path.getsize(wheel)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DOTNET", "BATON_"))}
    environment["PATH"] = bare_path(root, os.path.join(env_dir, "bin"))
    environment["BATON_PROGRESS"] = "lines"
    return env_dir, environment
