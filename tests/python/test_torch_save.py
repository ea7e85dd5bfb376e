"""baton.torch.save writes atomically and commits (needs Debian's python3-torch)."""

import json
import os

import torch

import baton
import baton.torch


def test_save_replaces_the_file_whole_and_commits_the_directory(tmp_path, monkeypatch):
    monkeypatch.setenv(baton.COMMIT_DIR_ENV, str(tmp_path))
    (tmp_path / "best.pt").write_bytes(b"old best")
    state = {"w": torch.arange(6, dtype=torch.float32), "step": 40}

    record_path = baton.torch.save(state, tmp_path / "last.pt", step=40)

    assert torch.equal(torch.load(tmp_path / "last.pt")["w"], state["w"])
    with open(record_path, encoding="utf-8") as record:
        files = json.load(record)["files"]
    assert {f["path"] for f in files} == {"best.pt", "last.pt"}
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".tmp-")]


def test_a_failing_save_leaves_the_old_file_and_commits_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(baton.COMMIT_DIR_ENV, str(tmp_path))
    (tmp_path / "last.pt").write_bytes(b"previous")

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("cannot pickle")

    try:
        baton.torch.save({"x": Unpicklable()}, tmp_path / "last.pt", step=1)
    except RuntimeError:
        pass
    else:
        raise AssertionError("save should have failed")

    assert (tmp_path / "last.pt").read_bytes() == b"previous"
    assert not (tmp_path / ".baton").exists()
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".tmp-")]
