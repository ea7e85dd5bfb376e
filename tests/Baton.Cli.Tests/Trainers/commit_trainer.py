#!/usr/bin/env python3
"""A trainer that commits its checkpoints itself, by writing Baton's commit records (docs/FORMAT.md, "Commit
records") without any Baton package: model.bin and opt.bin every --every-ms, then
$BATON_COMMIT_DIR/.baton/commits/step-<20 digits>.json written to a temporary name and renamed. A copy of each
committed step's files goes to --expected/<step>/ for the test to compare with what the store returns.

  commit_trainer.py --dir D --expected E --steps N [--every-ms MS]
"""
import argparse
import datetime
import hashlib
import json
import os
import shutil
import sys
import time
import uuid


def write(path, data):
    with open(path, "wb") as f:  # rewritten in place, as most trainers do
        f.write(data)


def commit(directory, step, files):
    commits = os.path.join(directory, ".baton", "commits")
    os.makedirs(commits, exist_ok=True)
    record = {
        "version": 1,
        "step": step,
        "time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "files": [{"path": f, "size": os.path.getsize(os.path.join(directory, f))} for f in files],
    }
    temporary = os.path.join(commits, f".tmp-{uuid.uuid4().hex}")
    with open(temporary, "w", encoding="utf-8") as f:
        json.dump(record, f)
    os.rename(temporary, os.path.join(commits, f"step-{step:020d}.json"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--expected", required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--every-ms", type=int, default=50)
    a = parser.parse_args()
    directory = os.environ["BATON_COMMIT_DIR"]
    if os.path.realpath(directory) != os.path.realpath(a.dir):
        print(f"BATON_COMMIT_DIR is {directory}, not {a.dir}", flush=True)
        return 2
    for step in range(1, a.steps + 1):
        seed = hashlib.sha256(str(step).encode()).digest()
        write(os.path.join(directory, "model.bin"), seed * (4000 + step))
        write(os.path.join(directory, "opt.bin"), seed[::-1] * 700)
        os.makedirs(os.path.join(a.expected, str(step)), exist_ok=True)
        for name in ("model.bin", "opt.bin"):
            shutil.copyfile(os.path.join(directory, name), os.path.join(a.expected, str(step), name))
        commit(directory, step, ["model.bin", "opt.bin"])
        print(f"committed step {step}", flush=True)
        time.sleep(a.every_ms / 1000.0)
    print("trainer done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
