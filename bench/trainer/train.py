#!/usr/bin/env python3
"""A CPU-bound PyTorch trainer for the 'does the trainer notice Baton' benchmark (bench/trainer/run).

Trains an MLP with Adam on both cores (torch.set_num_threads), saving model and optimizer state (about --size-mb)
with torch.save every --every seconds as ckpt-STEP.pt (written under a temporary name, then renamed; only the newest
is kept). With --zip DEST it also does what the seed project did, inline in the training loop: zip the checkpoint
with ZIP_DEFLATED and copy the zip to DEST, fsynced. Prints one 'saved STEP TIME' line per checkpoint, 'durable STEP
TIME' per zip copied, and at the end 'steps N seconds S rate R' over the measured window (after --warmup steps).
"""
import argparse
import os
import shutil
import sys
import time
import zipfile

import torch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--every", type=float, default=5)
    parser.add_argument("--size-mb", type=float, default=512)
    parser.add_argument("--width", type=int, default=2048)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--zip", default=None)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    # Weights plus Adam's two moments: 12 bytes a parameter.
    layers = max(1, round(args.size_mb * 2**20 / 12 / (args.width * args.width)))
    blocks = []
    for _ in range(layers):
        blocks += [torch.nn.Linear(args.width, args.width), torch.nn.ReLU()]
    model = torch.nn.Sequential(*blocks[:-1])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = torch.randn(args.batch, args.width)
    y = torch.randn(args.batch, args.width)
    os.makedirs(args.dir, exist_ok=True)
    if args.zip:
        os.makedirs(args.zip, exist_ok=True)

    step = 0
    start = None
    last_save = time.time()
    newest = None
    while True:
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        step += 1
        now = time.time()
        if step == args.warmup:
            start, start_step = now, step
        if start is not None and now - start >= args.seconds:
            break
        if now - last_save >= args.every:
            path = os.path.join(args.dir, f"ckpt-{step}.pt")
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step}, path + ".tmp")
            os.replace(path + ".tmp", path)
            print(f"saved {step} {time.time():.3f}", flush=True)
            if newest:
                os.remove(newest)
            newest = path
            if args.zip:
                archive = os.path.join(args.dir, f"ckpt-{step}.zip")
                with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
                    z.write(path, os.path.basename(path))
                target = os.path.join(args.zip, os.path.basename(archive))
                shutil.copyfile(archive, target)
                with open(target, "rb+") as f:
                    os.fsync(f.fileno())
                os.remove(archive)
                for old in os.listdir(args.zip):
                    if old != os.path.basename(archive):
                        os.remove(os.path.join(args.zip, old))
                print(f"durable {step} {time.time():.3f}", flush=True)
            last_save = time.time()
    elapsed = time.time() - start
    steps = step - start_step
    print(f"steps {steps} seconds {elapsed:.3f} rate {steps / elapsed:.4f} params {sum(p.numel() for p in model.parameters())}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
