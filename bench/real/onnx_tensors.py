"""The float tensors of an ONNX model, saved with torch.save as float32 and as bfloat16 state dicts.

ONNX stores initializers in a protobuf (TensorProto: raw_data, or packed float_data); this walks the protobuf
wire format itself, so it needs no onnx package. Usage: python3 bench/real/onnx_tensors.py MODEL.onnx OUT_DIR
"""

import os
import sys

import torch


def varint(data, i):
    result, shift = 0, 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, i


def fields(data, start, end):
    i = start
    while i < end:
        key, i = varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(data, i)
            yield number, value, None
        elif wire == 2:
            length, i = varint(data, i)
            yield number, i, length
            i += length
        elif wire == 5:
            yield number, i, 4
            i += 4
        elif wire == 1:
            yield number, i, 8
            i += 8
        else:
            raise ValueError(f"wire type {wire} at {i}")


def tensors(data):
    for number, offset, length in fields(data, 0, len(data)):
        if number != 7:  # ModelProto.graph
            continue
        for g, g_offset, g_length in fields(data, offset, offset + length):
            if g != 5:  # GraphProto.initializer
                continue
            name, dtype, dims, raw = "", None, [], None
            for t, t_offset, t_length in fields(data, g_offset, g_offset + g_length):
                if t == 1:
                    dims.append(t_offset if t_length is None else None)
                elif t == 2:
                    dtype = t_offset
                elif t == 8:
                    name = data[t_offset:t_offset + t_length].decode()
                elif t in (4, 9):  # float_data (packed) or raw_data
                    raw = data[t_offset:t_offset + t_length]
            if dtype == 1 and raw is not None:  # FLOAT
                yield name, torch.frombuffer(bytearray(raw), dtype=torch.float32).clone()


def main():
    model, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with open(model, "rb") as f:
        data = f.read()
    state = dict(tensors(data))
    torch.save(state, os.path.join(out, "weights-f32.pt"))
    torch.save({k: v.to(torch.bfloat16) for k, v in state.items()}, os.path.join(out, "weights-bf16.pt"))
    print(f"{len(state)} tensors, {sum(v.numel() for v in state.values())} values")


if __name__ == "__main__":
    main()
