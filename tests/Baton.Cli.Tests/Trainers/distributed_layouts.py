#!/usr/bin/env python3
"""The distributed checkpoint layouts for layouts.py: one process stands in for a world of two ranks, writing each
framework's files in the order the framework writes them (in small pieces with short pauses, so that a SIGKILL can land
in the middle of any of them). Same commands as layouts.py (train, verify, final); verify also checks that a restored
snapshot holds exactly one step's complete files and nothing else.

Layouts (the facts each one mimics are in the C# detectors' doc comments):
  dcp         step_N/__0_0.distcp, __1_0.distcp, then the coordinator's .metadata
  deepspeed   global_stepN/mp_rank_00_model_states.pt and rank 0's optimizer shard, `latest` (in place, before the
              final barrier), then rank 1's optimizer shard
  megatron    iter_NNNNNNN/mp_rank_00/, mp_rank_01/, then latest_checkpointed_iteration.txt written in place
  nemo        checkpoints/m--step=N.ckpt and m--step=N-last.ckpt, each between NAME-unfinished and its removal
  accelerate  checkpoints/checkpoint_N/: process 1's random_states_1.pkl, the main process's model.safetensors and
              optimizer.bin, then random_states_0.pkl
"""
import os
import shutil
import sys

import layouts
from layouts import parse_payload, prune, read, slow_write, sorted_by_step, write_file


def halves(data):
    half = len(data) // 2
    return data[:half], data[half:]


def whole(*paths):
    parts = [read(p) for p in paths]
    return None if None in parts else parse_payload(b"".join(parts))


def write_in_place(path, text, pause):
    # Megatron and DeepSpeed open the file with 'w' and write: truncated first, then filled a little at a time here.
    with open(path, "w") as f:
        for c in text:
            f.write(c)
            f.flush()
            if pause:
                layouts.time.sleep(pause)


def dcp_save(d, step, data, pause, keep):
    c = os.path.join(d, f"step_{step}")
    os.makedirs(c, exist_ok=True)
    for rank, part in enumerate(halves(data)):
        write_file(os.path.join(c, f"__{rank}_0.distcp"), part, pause)
    write_file(os.path.join(c, ".metadata"), b"metadata of two ranks", 0)
    prune(d, [n for n in os.listdir(d) if n.startswith("step_")], keep)


def dcp_load(d):
    for name in sorted_by_step(n for n in os.listdir(d) if n.startswith("step_")):
        c = os.path.join(d, name)
        if os.path.exists(os.path.join(c, ".metadata")):
            parsed = whole(os.path.join(c, "__0_0.distcp"), os.path.join(c, "__1_0.distcp"))
            if parsed:
                return parsed
    return None


def dcp_files(step):
    return {f"step_{step}/.metadata", f"step_{step}/__0_0.distcp", f"step_{step}/__1_0.distcp"}


DS_FILES = ["mp_rank_00_model_states.pt", "zero_pp_rank_0_mp_rank_00_optim_states.pt", "zero_pp_rank_1_mp_rank_00_optim_states.pt"]


def ds_save(d, step, data, pause, keep):
    tag = os.path.join(d, f"global_step{step}")
    os.makedirs(tag, exist_ok=True)
    third = len(data) // 3
    parts = [data[:third], data[third : 2 * third], data[2 * third :]]
    write_file(os.path.join(tag, DS_FILES[0]), parts[0], pause)
    write_file(os.path.join(tag, DS_FILES[1]), parts[1], pause)
    write_in_place(os.path.join(d, "latest"), f"global_step{step}", pause)
    write_file(os.path.join(tag, DS_FILES[2]), parts[2], pause)
    prune(d, [n for n in os.listdir(d) if n.startswith("global_step")], keep)


def ds_load(d):
    tag = (read(os.path.join(d, "latest")) or b"").decode()
    return whole(*[os.path.join(d, tag, n) for n in DS_FILES]) if tag else None


def ds_files(step):
    return {"latest"} | {f"global_step{step}/{n}" for n in DS_FILES}


TRACKER = "latest_checkpointed_iteration.txt"


def megatron_save(d, step, data, pause, keep):
    for rank, part in enumerate(halves(data)):
        r = os.path.join(d, f"iter_{step:07d}", f"mp_rank_{rank:02d}")
        os.makedirs(r, exist_ok=True)
        write_file(os.path.join(r, "model_optim_rng.pt"), part, pause)
    write_in_place(os.path.join(d, TRACKER), str(step), pause)
    prune(d, [n for n in os.listdir(d) if n.startswith("iter_")], keep)


def megatron_load(d):
    text = (read(os.path.join(d, TRACKER)) or b"").decode().strip()
    if not text.isdigit():
        return None
    it = os.path.join(d, f"iter_{int(text):07d}")
    return whole(*[os.path.join(it, f"mp_rank_{r:02d}", "model_optim_rng.pt") for r in range(2)])


def megatron_files(step):
    return {TRACKER} | {f"iter_{step:07d}/mp_rank_{r:02d}/model_optim_rng.pt" for r in range(2)}


def nemo_save(d, step, data, pause, keep):
    c = os.path.join(d, "checkpoints")
    os.makedirs(c, exist_ok=True)
    for name in [f"m--step={step}", f"m--step={step}-last"]:
        marker = os.path.join(c, name + "-unfinished")
        open(marker, "w").close()
        write_file(os.path.join(c, name + ".ckpt"), data, pause)
        os.remove(marker)
    for n in os.listdir(c):
        if n.endswith("-last.ckpt") and n != f"m--step={step}-last.ckpt":
            os.remove(os.path.join(c, n))
    prune(c, [n for n in os.listdir(c) if n.endswith(".ckpt") and not n.endswith("-last.ckpt")], keep)


def nemo_load(d):
    c = os.path.join(d, "checkpoints")
    if not os.path.isdir(c):
        return None
    # As NeMo does when it starts: a checkpoint whose marker is still there never finished; remove both.
    for n in os.listdir(c):
        if n.endswith("-unfinished"):
            base = n[: -len("-unfinished")]
            for leftover in (base + ".ckpt", n):
                if os.path.exists(os.path.join(c, leftover)):
                    os.remove(os.path.join(c, leftover))
    for name in sorted_by_step(n.replace("-last", "") for n in os.listdir(c) if n.endswith("-last.ckpt")):
        parsed = parse_payload(read(os.path.join(c, name.replace(".ckpt", "-last.ckpt"))) or b"")
        if parsed:
            return parsed
    return None


def nemo_check(d, step):
    """Every checkpoint file in the snapshot is whole for the step in its name; the newest step has both files."""
    names = set(os.listdir(os.path.join(d, "checkpoints")))
    if {f"m--step={step}.ckpt", f"m--step={step}-last.ckpt"} - names:
        return False
    for n in names:
        s = int(n.split("=")[1].split("-")[0].split(".")[0])
        parsed = parse_payload(read(os.path.join(d, "checkpoints", n)) or b"")
        if not n.endswith(".ckpt") or s > step or not parsed or parsed[0] != s:
            return False
    return True


def accelerate_save(d, step, data, pause, keep):
    c = os.path.join(d, "checkpoints", f"checkpoint_{step}")
    os.makedirs(c, exist_ok=True)
    write_file(os.path.join(c, "random_states_1.pkl"), b"rng of process 1", 0)
    model, optimizer = halves(data)
    write_file(os.path.join(c, "model.safetensors"), model, pause)
    write_file(os.path.join(c, "optimizer.bin"), optimizer, pause)
    write_file(os.path.join(c, "random_states_0.pkl"), b"rng of process 0", 0)
    prune(os.path.join(d, "checkpoints"), os.listdir(os.path.join(d, "checkpoints")), keep)


def accelerate_load(d):
    c = os.path.join(d, "checkpoints")
    for name in sorted_by_step(os.listdir(c) if os.path.isdir(c) else []):
        if all(os.path.exists(os.path.join(c, name, f"random_states_{r}.pkl")) for r in range(2)):
            parsed = whole(os.path.join(c, name, "model.safetensors"), os.path.join(c, name, "optimizer.bin"))
            if parsed:
                return parsed
    return None


def accelerate_files(step):
    c = f"checkpoints/checkpoint_{step}"
    return {f"{c}/model.safetensors", f"{c}/optimizer.bin", f"{c}/random_states_0.pkl", f"{c}/random_states_1.pkl"}


EXACT = {"dcp": dcp_files, "deepspeed": ds_files, "megatron": megatron_files, "accelerate": accelerate_files}

layouts.LAYOUTS.update({
    "dcp": (dcp_save, dcp_load),
    "deepspeed": (ds_save, ds_load),
    "megatron": (megatron_save, megatron_load),
    "nemo": (nemo_save, nemo_load),
    "accelerate": (accelerate_save, accelerate_load),
})


def files_in(d):
    result = set()
    for root, _, names in os.walk(d):
        for n in names:
            result.add(os.path.relpath(os.path.join(root, n), d).replace(os.sep, "/"))
    return result


def exact_verify(items, layout):
    for item in items:
        d, step = item.rsplit(":", 1)
        step = int(step)
        if layout == "nemo":
            ok = nemo_check(d, step)
        else:
            ok = files_in(d) == EXACT[layout](step)
        if not ok:
            print(f"BAD {d}: not exactly the files of step {step}: {sorted(files_in(d))}", flush=True)
            return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[1] == "verify" and sys.argv[2] == "--layout" and sys.argv[3] in EXACT.keys() | {"nemo"}:
        if exact_verify(sys.argv[4:], sys.argv[3]):
            sys.exit(1)
    sys.exit(layouts.main())
