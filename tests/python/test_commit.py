"""baton.commit writes the record that `baton run` pushes at once (docs/FORMAT.md, "Commit records")."""

import json
import os

import pytest

import baton
from baton import _commit


@pytest.fixture(autouse=True)
def no_run(monkeypatch):
    monkeypatch.delenv(baton.COMMIT_DIR_ENV, raising=False)
    monkeypatch.setattr(_commit, "_noticed", False)


def read(path):
    with open(path, encoding="utf-8") as record:
        return json.load(record)


def test_a_commit_names_the_step_and_each_file_with_its_size(tmp_path, monkeypatch):
    (tmp_path / "last.pt").write_bytes(b"x" * 10)
    (tmp_path / "best.pt").write_bytes(b"y" * 3)
    monkeypatch.setenv(baton.COMMIT_DIR_ENV, str(tmp_path))
    monkeypatch.chdir(tmp_path)

    path = baton.commit(120, files=["last.pt", tmp_path / "best.pt"])

    assert path == str(tmp_path / ".baton" / "commits" / ("step-%020d.json" % 120))
    record = read(path)
    assert record["version"] == 1
    assert record["step"] == 120
    assert record["files"] == [{"path": "best.pt", "size": 3}, {"path": "last.pt", "size": 10}]
    assert record["time"].endswith("Z")


def test_without_files_the_whole_directory_is_committed_except_baton_s_own_folder(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "shard-0.bin").write_bytes(b"1234")
    (tmp_path / "config.json").write_bytes(b"{}")
    baton.commit(1, dir=tmp_path)

    record = read(baton.commit(2, dir=tmp_path))

    assert [f["path"] for f in record["files"]] == ["a/shard-0.bin", "config.json"]


def test_the_record_appears_whole_by_rename_and_leaves_no_temporary_file(tmp_path):
    (tmp_path / "w.pt").write_bytes(b"w")
    baton.commit(7, files=[tmp_path / "w.pt"], dir=tmp_path)

    names = os.listdir(tmp_path / ".baton" / "commits")

    assert names == ["step-%020d.json" % 7]


def test_outside_baton_run_a_commit_does_nothing_and_says_so_once(tmp_path, capsys):
    (tmp_path / "last.pt").write_bytes(b"x")
    assert baton.commit(1, files=[tmp_path / "last.pt"]) is None
    assert baton.commit(2) is None

    err = capsys.readouterr().err
    assert err.count("not running under `baton run`") == 1
    assert not (tmp_path / ".baton").exists()


@pytest.mark.parametrize("step", [-1, 1.5, "3", True, None])
def test_a_step_that_is_not_a_whole_number_is_refused(tmp_path, step):
    with pytest.raises(baton.CommitError, match="step"):
        baton.commit(step, dir=tmp_path)


def test_a_file_outside_the_directory_is_refused_and_nothing_is_written(tmp_path):
    inside = tmp_path / "ckpt"
    inside.mkdir()
    (tmp_path / "elsewhere.pt").write_bytes(b"x")

    with pytest.raises(baton.CommitError, match="not inside"):
        baton.commit(1, files=[tmp_path / "elsewhere.pt"], dir=inside)
    assert not (inside / ".baton").exists()


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(baton.CommitError, match="not a file"):
        baton.commit(1, files=[tmp_path / "missing.pt"], dir=tmp_path)


def test_a_newer_commit_of_the_same_step_replaces_the_record(tmp_path):
    (tmp_path / "last.pt").write_bytes(b"x")
    baton.commit(5, files=[tmp_path / "last.pt"], dir=tmp_path)
    (tmp_path / "last.pt").write_bytes(b"xyz")

    record = read(baton.commit(5, files=[tmp_path / "last.pt"], dir=tmp_path))

    assert record["files"] == [{"path": "last.pt", "size": 3}]
