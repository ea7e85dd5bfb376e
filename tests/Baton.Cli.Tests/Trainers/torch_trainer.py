#!/usr/bin/env python3
"""A small PyTorch trainer (Debian's python3-torch) that checkpoints the way most training scripts do: last.pt is
rewritten in place every epoch and best.pt whenever the validation loss improves (here: up to epoch --best-until).
Every tensor of a checkpoint holds its epoch, so a torn or mixed file is detected when it is loaded.

  torch_trainer.py train --dir D --epochs N [--epoch-ms MS] [--best-until E] [--numel K] [--resume]
  torch_trainer.py check DIR...  prints 'last E best B' of each restored directory; exit 1 when a file is missing or wrong
"""
import argparse
import os
import sys
import time

import torch


def state(epoch, numel):
    return {"epoch": epoch, "w": torch.full((numel,), float(epoch)), "adam": torch.full((numel // 2,), float(epoch))}


def load(path):
    s = torch.load(path)
    epoch = s["epoch"]
    if not (torch.equal(s["w"], torch.full_like(s["w"], float(epoch))) and torch.equal(s["adam"], torch.full_like(s["adam"], float(epoch)))):
        raise ValueError(f"{path}: tensors do not match epoch {epoch}")
    return epoch


def train(a):
    os.makedirs(a.dir, exist_ok=True)
    last, best = os.path.join(a.dir, "last.pt"), os.path.join(a.dir, "best.pt")
    start = 0
    if a.resume:
        if not os.path.exists(last):
            print("resume: last.pt is missing", flush=True)
            return 2
        start = load(last)
        if a.best_until > 0 and not os.path.exists(best):
            print(f"resume: last.pt is at epoch {start} but best.pt is missing", flush=True)
            return 2
        best_epoch = load(best) if a.best_until > 0 else None
        print(f"resumed from epoch {start} (best epoch {best_epoch})", flush=True)
    else:
        print("training from scratch", flush=True)
    for epoch in range(start + 1, a.epochs + 1):
        time.sleep(a.epoch_ms / 1000.0)
        torch.save(state(epoch, a.numel), last)
        if epoch <= a.best_until:
            torch.save(state(epoch, a.numel), best)
        print(f"epoch {epoch} saved", flush=True)
    print(f"done: epoch {max(start, a.epochs)}", flush=True)
    return 0


def check(a):
    for d in a.dirs:
        try:
            last = load(os.path.join(d, "last.pt"))
            best = load(os.path.join(d, "best.pt")) if os.path.exists(os.path.join(d, "best.pt")) else None
        except Exception as e:  # a torn file fails to load or holds mixed tensors
            print(f"BAD {d}: {e}", flush=True)
            return 1
        print(f"last {last} best {best}", flush=True)
    return 0


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--dir", required=True)
    t.add_argument("--epochs", type=int, required=True)
    t.add_argument("--epoch-ms", type=int, default=100)
    t.add_argument("--best-until", type=int, default=3)
    t.add_argument("--numel", type=int, default=100_000)
    t.add_argument("--resume", action="store_true")
    c = sub.add_parser("check")
    c.add_argument("dirs", nargs="+")
    a = parser.parse_args()
    return train(a) if a.command == "train" else check(a)


if __name__ == "__main__":
    sys.exit(main())
