"""Consecutive checkpoints of a real training run, for the benchmark.

Trains a small transformer language model with Adam on generated token sequences (a seeded order-2 Markov source,
so there is something to learn) and saves model + optimizer state with torch.save every --every steps, in float32
and, separately, in bfloat16 (the weights and the Adam moments cast as a mixed-precision run would keep them).

Usage: python3 bench/real/train.py OUT_DIR [--steps 300] [--every 50] [--seed 1]
Needs Debian's python3-torch (1.13); runs on the CPU (bench/run real uses --width 128 --layers 2: 6.5 MB checkpoints).
"""

import argparse
import os

import torch
from torch import nn


def markov_batches(generator, vocab, batch, length):
    # A fixed random order-2 transition table: next token depends on the two before it.
    table = torch.randint(0, vocab, (vocab, vocab, 4), generator=generator)
    while True:
        x = torch.randint(0, vocab, (batch, length), generator=generator)
        choice = torch.randint(0, 4, (batch, length), generator=generator)
        for t in range(2, length):
            x[:, t] = table[x[:, t - 2], x[:, t - 1], choice[:, t]]
        yield x


class TinyTransformer(nn.Module):
    def __init__(self, vocab, width, layers, heads, length):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.position = nn.Parameter(torch.randn(length, width) * 0.02)
        layer = nn.TransformerEncoderLayer(width, heads, 4 * width, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.head = nn.Linear(width, vocab)

    def forward(self, x):
        length = x.shape[1]
        mask = torch.triu(torch.full((length, length), float("-inf")), diagonal=1)
        h = self.embed(x) + self.position[:length]
        return self.head(self.encoder(h, mask=mask))


def cast(state, dtype):
    if isinstance(state, dict):
        return {k: cast(v, dtype) for k, v in state.items()}
    if isinstance(state, list):
        return [cast(v, dtype) for v in state]
    if torch.is_tensor(state) and state.is_floating_point() and state.dim() > 0:
        return state.to(dtype)
    return state


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    generator = torch.Generator().manual_seed(args.seed)
    vocab, length = 512, 64
    model = TinyTransformer(vocab, args.width, args.layers, 4, length)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = markov_batches(generator, vocab, 16, length + 1)
    loss_fn = nn.CrossEntropyLoss()
    for kind in ("f32", "bf16"):
        os.makedirs(os.path.join(args.out, kind), exist_ok=True)
    for step in range(1, args.steps + 1):
        x = next(batches)
        logits = model(x[:, :-1])
        loss = loss_fn(logits.reshape(-1, vocab), x[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % args.every == 0:
            state = {"step": step, "model": model.state_dict(), "optimizer": optimizer.state_dict()}
            torch.save(state, os.path.join(args.out, "f32", f"step-{step:06d}.pt"))
            torch.save(cast(state, torch.bfloat16), os.path.join(args.out, "bf16", f"step-{step:06d}.pt"))
            print(f"step {step} loss {loss.item():.3f}", flush=True)


if __name__ == "__main__":
    main()
