#!/usr/bin/env python3
"""A small data-parallel trainer that checkpoints in PyTorch Distributed Checkpoint (DCP) layout.

Run it under torchrun (one process per node is enough):

    torchrun --nnodes 2 --node_rank R --nproc_per_node 1 --master_addr HOST --master_port PORT \
        ddp_train.py --dir ckpt --steps 60 --every 5 --out final.bin

Every --every steps each rank writes step_N/__<rank>_0.distcp (its shard: model, optimizer, step and RNG state),
all ranks meet at a barrier, then rank 0 writes step_N/.metadata, the file that makes the step complete, as
torch.distributed.checkpoint does. torch 1.13 has no torch.distributed.checkpoint, so the layout is written by hand;
every file is written under a temporary name and renamed into place.

On start each rank looks for the newest step_N whose files it has (rank 0: its shard and .metadata; other ranks:
their shard, since with node-local directories they never see rank 0's .metadata), the ranks agree on the newest
step they all have, and each loads its own shard. Model, data and seeds are fixed and everything runs on CPU with
gloo, so a run that was interrupted and resumed ends with exactly the weights of an uninterrupted run.
"""

import argparse
import hashlib
import os
import re
import sys
import time

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

STEP_DIRECTORY = re.compile(r"^step_(\d+)$")


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="checkpoint directory (node-local or shared)")
    parser.add_argument("--steps", type=int, default=60, help="train until this step")
    parser.add_argument("--every", type=int, default=5, help="checkpoint every this many steps")
    parser.add_argument("--step-ms", type=int, default=0, help="extra time per step, so that a test can interrupt it")
    parser.add_argument("--out", help="rank 0 writes the final weights here (raw float32 bytes)")
    return parser.parse_args()


def shard_name(rank):
    return f"__{rank}_0.distcp"


def atomic_save(obj, path):
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "wb") as stream:
        torch.save(obj, stream)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)


def complete_steps(directory, rank):
    """The steps whose files this rank has."""
    steps = []
    if not os.path.isdir(directory):
        return steps
    for name in os.listdir(directory):
        match = STEP_DIRECTORY.match(name)
        if not match:
            continue
        step_directory = os.path.join(directory, name)
        if not os.path.isfile(os.path.join(step_directory, shard_name(rank))):
            continue
        if rank == 0 and not os.path.isfile(os.path.join(step_directory, ".metadata")):
            continue
        steps.append(int(match.group(1)))
    return sorted(steps)


def build_model():
    torch.manual_seed(1234)
    return nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 1))


def batch(step, rank):
    """The same data for the same step and rank, whatever happened before."""
    generator = torch.Generator().manual_seed(100_000 + step * 97 + rank)
    inputs = torch.randn(16, 8, generator=generator)
    targets = inputs.sum(dim=1, keepdim=True).sin()
    return inputs, targets


def save_checkpoint(directory, step, rank, model, optimizer):
    step_directory = os.path.join(directory, f"step_{step}")
    os.makedirs(step_directory, exist_ok=True)
    atomic_save({
        "model": model.module.state_dict(),
        "optimizer": optimizer.state_dict(),
        "step": step,
        "rng": torch.get_rng_state(),
    }, os.path.join(step_directory, shard_name(rank)))
    dist.barrier()
    if rank == 0:
        atomic_save({"step": step, "world_size": dist.get_world_size(), "format": "dcp-by-hand"},
                    os.path.join(step_directory, ".metadata"))
    print(f"rank {rank}: checkpoint step {step}", flush=True)


def main():
    arguments = parse_arguments()
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)

    model = DistributedDataParallel(build_model())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    local = complete_steps(arguments.dir, rank)
    everyone = [None] * world
    dist.all_gather_object(everyone, local)
    common = set(everyone[0]).intersection(*everyone[1:])
    start = max(common) if common else 0
    newest_here = local[-1] if local else 0
    if start:
        shard = torch.load(os.path.join(arguments.dir, f"step_{start}", shard_name(rank)))
        model.module.load_state_dict(shard["model"])
        optimizer.load_state_dict(shard["optimizer"])
        torch.set_rng_state(shard["rng"])
    print(f"rank {rank}: starting from step {start} (newest here: {newest_here})", flush=True)

    loss_function = nn.MSELoss()
    for step in range(start + 1, arguments.steps + 1):
        inputs, targets = batch(step, rank)
        optimizer.zero_grad()
        loss = loss_function(model(inputs), targets)
        loss.backward()
        optimizer.step()
        if arguments.step_ms:
            time.sleep(arguments.step_ms / 1000)
        if step % arguments.every == 0 or step == arguments.steps:
            save_checkpoint(arguments.dir, step, rank, model, optimizer)

    weights = b"".join(p.detach().contiguous().numpy().tobytes() for p in model.module.parameters())
    if rank == 0 and arguments.out:
        temporary = arguments.out + ".tmp"
        with open(temporary, "wb") as stream:
            stream.write(weights)
        os.replace(temporary, arguments.out)
    print(f"rank {rank}: finished at step {arguments.steps}, weights sha256 {hashlib.sha256(weights).hexdigest()}", flush=True)
    dist.barrier()
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
