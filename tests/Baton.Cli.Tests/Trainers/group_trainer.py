#!/usr/bin/env python3
"""One node's trainer of a simulated multi-node job, run under `baton run --nodes N --node-rank R`: it resumes from
$BATON_RESUME_STEP, writes its checkpoint files for each step and commits them with a commit record (docs/FORMAT.md,
"Commit records").

Node layout (each node its own directory): model.bin and latest (the same names on every node), then the record.
Shared layout (--sync DIR): model-rank-R.bin in the one directory; node 0 writes the record, listing every node's
file, once every node has written its file for the step (announced by DIR/<step>-<rank>); every node then waits for
DIR/<step>-committed before the next step.

  group_trainer.py --steps N [--every-ms MS] [--sync DIR] [--delay-ms MS]
"""
import argparse
import hashlib
import os
import sys
import time

from commit_trainer import commit, write  # the same commit records as the single-node commit trainer


def content(step, rank):
    return hashlib.sha256(f"{step}-{rank}".encode()).digest() * (2000 + step)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--every-ms", type=int, default=300)
    parser.add_argument("--delay-ms", type=int, default=0, help="extra time before each step (a straggler)")
    parser.add_argument("--sync")
    a = parser.parse_args()
    directory = os.environ["BATON_COMMIT_DIR"]
    rank = int(os.environ["BATON_NODE_RANK"])
    nodes = int(os.environ["BATON_NODES"])
    resume = os.environ.get("BATON_RESUME_STEP", "")
    start = int(resume) if resume else 0
    # What the node really resumes from: its own files must hold that step.
    if start:
        name = f"model-rank-{rank}.bin" if a.sync else "model.bin"
        with open(os.path.join(directory, name), "rb") as f:
            if f.read() != content(start, rank):
                print(f"node {rank}: {name} does not hold step {start}", flush=True)
                return 3
    print(f"node {rank} resuming from step {start}", flush=True)
    for step in range(start + 1, start + a.steps + 1):
        time.sleep(a.delay_ms / 1000.0)
        if a.sync:
            write(os.path.join(directory, f"model-rank-{rank}.bin"), content(step, rank))
            write(os.path.join(a.sync, f"{step}-{rank}"), b"")
            if rank == 0:
                deadline = time.time() + 120
                while not all(os.path.exists(os.path.join(a.sync, f"{step}-{r}")) for r in range(nodes)):
                    if time.time() > deadline:
                        print(f"node {rank}: the other nodes never wrote step {step}", flush=True)
                        return 4
                    time.sleep(0.05)
                commit(directory, step, [f"model-rank-{r}.bin" for r in range(nodes)])
                write(os.path.join(a.sync, f"{step}-committed"), b"")
            # Like ranks that meet at a barrier after each save: nobody runs ahead of the committed step.
            deadline = time.time() + 120
            while not os.path.exists(os.path.join(a.sync, f"{step}-committed")):
                if time.time() > deadline:
                    print(f"node {rank}: node 0 never committed step {step}", flush=True)
                    return 4
                time.sleep(0.05)
        else:
            write(os.path.join(directory, "model.bin"), content(step, rank))
            write(os.path.join(directory, "latest"), str(step).encode())
            commit(directory, step, ["model.bin", "latest"])
        print(f"node {rank} committed step {step}", flush=True)
        time.sleep(a.every_ms / 1000.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
