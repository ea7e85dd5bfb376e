"""The wheel installs a working native baton and the Python package, with no .NET on the machine."""

import json
import os
import re
import statistics
import subprocess
import time
import zipfile

import pytest

COLAB_GLIBC = (2, 35)  # Ubuntu 22.04, the image Colab runs


def run(environment, *args, check=True, **kwargs):
    return subprocess.run(list(args), env=environment, capture_output=True, text=True, check=check, **kwargs)


def glibc_needed(binary):
    symbols = subprocess.run(["objdump", "-T", binary], capture_output=True, text=True, check=True).stdout
    versions = {tuple(int(p) for p in v.split(".")) for v in re.findall(r"GLIBC_(\d+(?:\.\d+)+)", symbols)}
    return max(versions)


def test_the_platform_tag_is_the_oldest_glibc_the_binary_runs_on_and_colab_is_among_them(wheel, installed):
    env_dir, _ = installed
    needed = glibc_needed(os.path.join(env_dir, "bin", "baton"))
    tag = re.search(r"-manylinux_(\d+)_(\d+)_x86_64\.whl$", os.path.basename(wheel))
    assert tag, f"{os.path.basename(wheel)} has no manylinux tag"
    assert (int(tag.group(1)), int(tag.group(2))) == needed[:2]
    assert needed[:2] <= COLAB_GLIBC


def test_the_binary_needs_no_dotnet_and_no_icu(installed):
    env_dir, _ = installed
    libraries = subprocess.run(["readelf", "-d", os.path.join(env_dir, "bin", "baton")], capture_output=True,
                               text=True, check=True).stdout
    needed = re.findall(r"Shared library: \[(.+?)\]", libraries)
    assert not [n for n in needed if "icu" in n or "coreclr" in n or "hostfxr" in n], needed


def test_baton_is_on_the_path_and_python_m_baton_runs_the_same_binary(installed, figures):
    env_dir, environment = installed
    version = run(environment, "baton", "--version").stdout.strip()
    assert re.match(r"^\d+\.\d+\.\d+", version)
    assert run(environment, os.path.join(env_dir, "bin", "python"), "-m", "baton", "--version").stdout.strip() == version

    times = []
    for _ in range(15):
        started = time.perf_counter()
        run(environment, os.path.join(env_dir, "bin", "baton"), "--version")
        times.append(time.perf_counter() - started)
    figures["version_cold_start_ms_median"] = round(statistics.median(times) * 1000, 1)


def test_a_push_and_pull_round_trip_from_the_venv(installed, tmp_path):
    _, environment = installed
    source = tmp_path / "ckpt"
    source.mkdir()
    (source / "weights.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    (source / "config.json").write_text('{"layers": 2}')
    store = tmp_path / "store"

    run(environment, "baton", "push", str(source), "--store", str(store), "--run", "r", "--step", "10", "--quiet")
    run(environment, "baton", "pull", str(tmp_path / "back"), "--store", str(store), "--run", "r", "--quiet")

    for name in ("weights.bin", "config.json"):
        assert (tmp_path / "back" / name).read_bytes() == (source / name).read_bytes()
    assert run(environment, "baton", "check", "--store", str(store), "--read-data", "--quiet").returncode == 0


TRAINER = '''
import json, os, sys
import baton

directory, steps = sys.argv[1], int(sys.argv[2])
path = os.path.join(directory, "state.json")
state = {"step": 0, "value": 1.0, "resumed_from": None}
if os.path.exists(path):
    with open(path) as f:
        state = json.load(f)
    state["resumed_from"] = state["step"]
os.makedirs(directory, exist_ok=True)
while state["step"] < steps:
    state["step"] += 1
    state["value"] = state["value"] * 1.000001 + state["step"] / 7.0
    if state["step"] % 5 == 0:
        with open(path + ".tmp", "w") as f:
            json.dump(state, f)
        os.replace(path + ".tmp", path)
        baton.commit(state["step"], files=[path])
'''


def expected_value(steps):
    value = 1.0
    for step in range(1, steps + 1):
        value = value * 1.000001 + step / 7.0
    return value


def test_baton_run_carries_a_python_trainer_that_commits_to_a_new_machine(installed, tmp_path):
    env_dir, environment = installed
    trainer = tmp_path / "train.py"
    trainer.write_text(TRAINER)
    store = tmp_path / "store"
    python = os.path.join(env_dir, "bin", "python")

    def session(machine, steps):
        directory = tmp_path / machine / "ckpt"
        (tmp_path / machine).mkdir()
        result = run(environment, "baton", "run", "--store", str(store), "--run", "py", "--dir", str(directory),
                     "--", python, str(trainer), str(directory), str(steps), check=False, timeout=300)
        assert result.returncode == 0, result.stderr
        with open(directory / "state.json") as f:
            return json.load(f)

    first = session("machine-1", 40)
    second = session("machine-2", 75)

    assert first["resumed_from"] is None and first["step"] == 40
    assert second["resumed_from"] == 40
    assert second["value"] == expected_value(75)
    listing = json.loads(run(environment, "baton", "ls", "--store", str(store), "--run", "py", "--json").stdout)
    assert max(s["step"] for s in listing) == 75
