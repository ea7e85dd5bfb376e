#!/usr/bin/env python3
"""A deterministic stand-in for a real trainer, writing checkpoints in the layouts Baton recognizes.

Plain Python, no ML packages. The "model" is a 32-byte state that evolves by hashing (state[s+1] = sha256(state[s] | s));
each checkpoint holds a payload derived from the state (header, step, state, expanded bytes, checksum), so a
checkpoint is either exactly right for its step or detectably wrong, and a run that was killed and resumed ends with
the same final state as one that never stopped.

  layouts.py train --layout L --dir D --steps N [--every K] [--step-ms MS] [--size BYTES] [--resume]
                   [--checkpoint-on-term] [--fail-at STEP] [--fail-marker PATH] [--fail-after N] [--always-fail]
  layouts.py verify --layout L DIR:STEP [DIR:STEP ...]   checks restored snapshots; exit 1 naming the first bad one
  layouts.py final --steps N                              prints the final state's hex

Layouts: tf, torch, hf, orbax, orbax-marker, keras, pattern (ckpt-{step}.bin). Files are written in small pieces with
short pauses, so that a SIGKILL can land in the middle of a write; "writing step N" is printed before each write.
"""
import argparse
import hashlib
import json
import os
import shutil
import signal
import struct
import sys
import time
import zipfile

MAGIC = b"BTNTEST1"
CHUNK = 16 * 1024


def advance(state, step):
    return hashlib.sha256(state + struct.pack("<q", step)).digest()


def state_at(step):
    state = b"\0" * 32
    for s in range(step):
        state = advance(state, s)
    return state


def payload(step, state, size):
    body = bytearray(MAGIC + struct.pack("<q", step) + state)
    counter = 0
    while len(body) < size - 32:
        body += hashlib.sha256(state + struct.pack("<q", counter)).digest()
        counter += 1
    body = bytes(body[: max(size - 32, 48)])
    return body + hashlib.sha256(body).digest()


def parse_payload(data):
    """Returns (step, state) of a whole, self-consistent payload, else None."""
    if len(data) < 80 or data[:8] != MAGIC or hashlib.sha256(data[:-32]).digest() != data[-32:]:
        return None
    return struct.unpack("<q", data[8:16])[0], data[16:48]


def slow_write(f, data, pause):
    for offset in range(0, len(data), CHUNK):
        f.write(data[offset : offset + CHUNK])
        f.flush()
        if pause:
            time.sleep(pause)


def write_file(path, data, pause):
    with open(path, "wb") as f:
        slow_write(f, data, pause)


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


# --- layouts: save(dir, step, data, pause, keep) and load(dir) -> newest valid (step, state) or None -------------

def tf_save(d, step, data, pause, keep):
    prefix = f"model.ckpt-{step}"
    half = len(data) // 2
    write_file(os.path.join(d, f"{prefix}.data-00000-of-00002"), data[:half], pause)
    write_file(os.path.join(d, f"{prefix}.data-00001-of-00002"), data[half:], pause)
    write_file(os.path.join(d, f"{prefix}.index"), json.dumps({"step": step}).encode(), 0)
    write_file(os.path.join(d, f"{prefix}.meta"), b"graph", 0)
    steps = sorted(tf_steps(d))
    kept = [s for s in steps if s <= step][-keep:]
    state = f'model_checkpoint_path: "{prefix}"\n' + "".join(f'all_model_checkpoint_paths: "model.ckpt-{s}"\n' for s in kept)
    tmp = os.path.join(d, "checkpoint.tmp")
    write_file(tmp, state.encode(), 0)
    os.replace(tmp, os.path.join(d, "checkpoint"))
    for s in steps:
        if s not in kept:
            for name in os.listdir(d):
                if name.startswith(f"model.ckpt-{s}."):
                    os.remove(os.path.join(d, name))


def tf_steps(d):
    result = set()
    for name in os.listdir(d):
        if name.startswith("model.ckpt-") and name.endswith(".index"):
            result.add(int(name[len("model.ckpt-") : -len(".index")]))
    return result


def tf_data(d, step):
    parts = [read(os.path.join(d, f"model.ckpt-{step}.data-0000{i}-of-00002")) for i in range(2)]
    return None if None in parts else parts[0] + parts[1]


def tf_load(d):
    for step in sorted(tf_steps(d), reverse=True):
        parsed = parse_payload(tf_data(d, step) or b"")
        if parsed and parsed[0] == step:
            return parsed
    return None


def torch_save(d, step, data, pause, keep):
    path = os.path.join(d, f"ckpt-{step}.pt")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/version", "3\n")
        with z.open("archive/data.pkl", "w") as entry:
            slow_write(entry, data, pause)
    prune(d, [n for n in os.listdir(d) if n.startswith("ckpt-") and n.endswith(".pt")], keep)


def torch_read(path):
    try:
        with zipfile.ZipFile(path) as z:
            return z.read("archive/data.pkl")
    except (OSError, zipfile.BadZipFile, KeyError):
        return None


def torch_load(d):
    for name in sorted_by_step(n for n in os.listdir(d) if n.startswith("ckpt-") and n.endswith(".pt")):
        parsed = parse_payload(torch_read(os.path.join(d, name)) or b"")
        if parsed:
            return parsed
    return None


def hf_save(d, step, data, pause, keep):
    c = os.path.join(d, f"checkpoint-{step}")
    os.makedirs(c, exist_ok=True)
    write_file(os.path.join(c, "model.safetensors"), data, pause)
    write_file(os.path.join(c, "optimizer.pt"), b"optimizer", 0)
    write_file(os.path.join(c, "trainer_state.json"), json.dumps({"global_step": step}).encode(), 0)
    prune(d, [n for n in os.listdir(d) if n.startswith("checkpoint-")], keep)


def hf_load(d):
    for name in sorted_by_step(n for n in os.listdir(d) if n.startswith("checkpoint-")):
        if os.path.exists(os.path.join(d, name, "trainer_state.json")):
            parsed = parse_payload(read(os.path.join(d, name, "model.safetensors")) or b"")
            if parsed:
                return parsed
    return None


def orbax_save(d, step, data, pause, keep, marker=False):
    if marker:
        target = os.path.join(d, str(step))
        os.makedirs(os.path.join(target, "default"), exist_ok=True)
        write_file(os.path.join(target, "default", "data"), data, pause)
        write_file(os.path.join(target, "_CHECKPOINT_METADATA"), b"{}", 0)
        write_file(os.path.join(target, "commit_success.txt"), b"Checkpoint commit was successful", 0)
    else:
        tmp = os.path.join(d, f"{step}.orbax-checkpoint-tmp-{time.time_ns()}")
        os.makedirs(os.path.join(tmp, "default"))
        write_file(os.path.join(tmp, "default", "data"), data, pause)
        write_file(os.path.join(tmp, "_CHECKPOINT_METADATA"), b"{}", 0)
        os.rename(tmp, os.path.join(d, str(step)))
    prune(d, [n for n in os.listdir(d) if n.isdigit()], keep)


def orbax_load(d, marker=False):
    for name in sorted_by_step(n for n in os.listdir(d) if n.isdigit()):
        if marker and not os.path.exists(os.path.join(d, name, "commit_success.txt")):
            continue
        parsed = parse_payload(read(os.path.join(d, name, "default", "data")) or b"")
        if parsed:
            return parsed
    return None


def keras_save(d, step, data, pause, keep):
    write_file(os.path.join(d, "latest.weights.h5"), data, pause)
    write_file(os.path.join(d, "training_metadata.json"), json.dumps({"epoch": step, "batch": -1}).encode(), 0)


def keras_load(d):
    parsed = parse_payload(read(os.path.join(d, "latest.weights.h5")) or b"")
    meta = read(os.path.join(d, "training_metadata.json"))
    try:
        epoch = json.loads(meta)["epoch"] if meta else None
    except ValueError:
        epoch = None
    return parsed if parsed and parsed[0] == epoch else None


def pattern_save(d, step, data, pause, keep):
    write_file(os.path.join(d, f"ckpt-{step}.bin"), data, pause)
    prune(d, [n for n in os.listdir(d) if n.startswith("ckpt-") and n.endswith(".bin")], keep)


def pattern_load(d):
    for name in sorted_by_step(n for n in os.listdir(d) if n.startswith("ckpt-") and n.endswith(".bin")):
        parsed = parse_payload(read(os.path.join(d, name)) or b"")
        if parsed:
            return parsed
    return None


def step_of(name):
    digits = "".join(c if c.isdigit() else " " for c in name).split()
    return int(digits[-1]) if digits else -1


def sorted_by_step(names):
    return sorted(names, key=step_of, reverse=True)


def prune(d, names, keep):
    for name in sorted_by_step(names)[keep:]:
        path = os.path.join(d, name)
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


LAYOUTS = {
    "tf": (tf_save, tf_load),
    "torch": (torch_save, torch_load),
    "hf": (hf_save, hf_load),
    "orbax": (orbax_save, orbax_load),
    "orbax-marker": (lambda *a: orbax_save(*a, marker=True), lambda d: orbax_load(d, marker=True)),
    "keras": (keras_save, keras_load),
    "pattern": (pattern_save, pattern_load),
}


def train(args):
    save, load = LAYOUTS[args.layout]
    os.makedirs(args.dir, exist_ok=True)
    if args.layout == "tf" and not os.path.exists(os.path.join(args.dir, "model_config.json")):
        write_file(os.path.join(args.dir, "model_config.json"), b'{"hidden": 8}', 0)
    step, state = 0, b"\0" * 32
    if args.resume:
        found = load(args.dir)
        if found is None:
            print(f"--resume: nothing to resume from in {args.dir}", file=sys.stderr)
            return 2
        step, state = found
        print(f"resumed at step {step}", flush=True)
    else:
        print("training from scratch", flush=True)
    if args.always_fail:
        print("failing at once (--always-fail)", flush=True)
        return 1

    flags = {"stop": False, "now": False}
    if args.checkpoint_on_term:
        signal.signal(signal.SIGTERM, lambda *_: flags.__setitem__("stop", True))
    signal.signal(signal.SIGUSR1, lambda *_: flags.__setitem__("now", True))
    pause = args.write_pause_ms / 1000.0
    events = open(os.path.join(args.dir, "events.out.tfevents.1"), "ab") if args.layout == "tf" else None

    def checkpoint():
        print(f"writing step {step}", flush=True)
        save(args.dir, step, payload(step, state, args.size), pause, args.keep)
        print(f"saved step {step}", flush=True)

    started = step
    while step < args.steps:
        if args.fail_after is not None and step - started >= args.fail_after:
            print(f"failing after {args.fail_after} steps (--fail-after)", flush=True)
            return 1
        if args.fail_at == step and not (args.fail_marker and os.path.exists(args.fail_marker)):
            if args.fail_marker:
                open(args.fail_marker, "w").close()
            print(f"failing at step {step} (--fail-at)", flush=True)
            return 1
        state = advance(state, step)
        step += 1
        print(f"step {step}", flush=True)
        if events:
            events.write(b"event\n")
            events.flush()
        if step % args.every == 0 or step == args.steps or flags["now"] or flags["stop"]:
            flags["now"] = False
            checkpoint()
        if flags["stop"]:
            print(f"stopping at step {step} after a last checkpoint", flush=True)
            return 143
        time.sleep(args.step_ms / 1000.0)
    print(f"done: step {step} state {state.hex()}", flush=True)
    return 0


def restored(layout, d):
    """The (step, state) a restored directory holds, requiring it to be one whole checkpoint."""
    _, load = LAYOUTS[layout]
    if layout == "tf":
        text = read(os.path.join(d, "checkpoint"))
        if not text or any(n.startswith("events.out") for n in os.listdir(d)):
            return None
        named = text.decode().split('"')[1]
        parsed = parse_payload(tf_data(d, int(named.rsplit("-", 1)[1])) or b"")
        return parsed
    return load(d)


def verify(args):
    cache = {}
    for item in args.items:
        d, step = item.rsplit(":", 1)
        step = int(step)
        got = restored(args.layout, d)
        if got is None:
            print(f"BAD {d}: no whole checkpoint", flush=True)
            return 1
        if step not in cache:
            cache[step] = state_at(step)
        if got != (step, cache[step]):
            print(f"BAD {d}: holds step {got[0]}, expected step {step} with its exact state", flush=True)
            return 1
        print(f"ok {d} step {step}", flush=True)
    return 0


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--layout", choices=sorted(LAYOUTS), required=True)
    t.add_argument("--dir", required=True)
    t.add_argument("--steps", type=int, default=40)
    t.add_argument("--every", type=int, default=5)
    t.add_argument("--step-ms", type=int, default=30)
    t.add_argument("--write-pause-ms", type=int, default=2)
    t.add_argument("--size", type=int, default=256 * 1024)
    t.add_argument("--keep", type=int, default=2)
    t.add_argument("--resume", action="store_true")
    t.add_argument("--checkpoint-on-term", action="store_true")
    t.add_argument("--fail-at", type=int)
    t.add_argument("--fail-marker")
    t.add_argument("--fail-after", type=int)
    t.add_argument("--always-fail", action="store_true")
    v = sub.add_parser("verify")
    v.add_argument("--layout", choices=sorted(LAYOUTS), required=True)
    v.add_argument("items", nargs="+")
    f = sub.add_parser("final")
    f.add_argument("--steps", type=int, required=True)
    args = parser.parse_args()
    if args.command == "train":
        return train(args)
    if args.command == "verify":
        return verify(args)
    print(state_at(args.steps).hex())
    return 0


if __name__ == "__main__":
    sys.exit(main())
