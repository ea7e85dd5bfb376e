using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace Baton.Bench.Generation;

/// <summary>Where a tensor's bytes go in one file.</summary>
internal readonly record struct Placement(int File, long Offset);

/// <summary>A file of a checkpoint: its name, its header bytes and its total length.</summary>
internal sealed record PlannedFile(string Name, byte[] Header, long Length);

/// <summary>
/// The files of one checkpoint kind and where every tensor goes: safetensors shards of about
/// <see cref="ShardBytes"/> (8-byte header length, JSON header padded to 8 bytes, raw little-endian data), and for
/// float32 an <c>optimizer.pt</c>-like file holding each parameter's <c>exp_avg</c> and <c>exp_avg_sq</c>, 64-byte
/// aligned behind a small header, as torch's uncompressed archive stores them.
/// </summary>
internal sealed class CheckpointLayout
{
    public const long ShardBytes = 256L << 20;

    private CheckpointLayout(List<PlannedFile> files, Placement[] weights, Placement[] expAvg, Placement[] expAvgSq)
    {
        Files = files;
        Weights = weights;
        ExpAvg = expAvg;
        ExpAvgSq = expAvgSq;
    }

    public IReadOnlyList<PlannedFile> Files { get; }

    public Placement[] Weights { get; }

    /// <summary>Empty for the bf16 checkpoint, which has no optimizer state.</summary>
    public Placement[] ExpAvg { get; }

    public Placement[] ExpAvgSq { get; }

    public static CheckpointLayout Plan(ModelPlan model, int bytesPerValue, bool withOptimizer)
    {
        var files = new List<PlannedFile>();
        var weights = PlanShards(model, bytesPerValue, files);
        var expAvg = Array.Empty<Placement>();
        var expAvgSq = Array.Empty<Placement>();
        if (withOptimizer)
        {
            (expAvg, expAvgSq) = PlanOptimizer(model, files);
        }

        return new CheckpointLayout(files, weights, expAvg, expAvgSq);
    }

    private static Placement[] PlanShards(ModelPlan model, int bytesPerValue, List<PlannedFile> files)
    {
        var tensors = model.Tensors;
        var total = tensors.Sum(t => t.Elements * bytesPerValue);
        var shards = (int)Math.Max(1, (total + ShardBytes - 1) / ShardBytes);
        var target = total / shards;
        var groups = new List<List<int>> { new() };
        long filled = 0;
        for (var t = 0; t < tensors.Count; t++)
        {
            if (filled >= target && groups.Count < shards)
            {
                groups.Add([]);
                filled = 0;
            }

            groups[^1].Add(t);
            filled += tensors[t].Elements * bytesPerValue;
        }

        var placements = new Placement[tensors.Count];
        var dtype = bytesPerValue == 4 ? "F32" : "BF16";
        for (var s = 0; s < groups.Count; s++)
        {
            var header = new JsonObject { ["__metadata__"] = new JsonObject { ["format"] = "pt" } };
            long offset = 0;
            foreach (var t in groups[s])
            {
                var length = tensors[t].Elements * bytesPerValue;
                header[tensors[t].Name] = new JsonObject
                {
                    ["dtype"] = dtype,
                    ["shape"] = new JsonArray(tensors[t].Shape.Select(x => (JsonNode)x).ToArray()),
                    ["data_offsets"] = new JsonArray(offset, offset + length),
                };
                offset += length;
            }

            var json = Encoding.UTF8.GetBytes(header.ToJsonString());
            var padded = (json.Length + 7) / 8 * 8;
            var bytes = new byte[8 + padded];
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)padded);
            bytes.AsSpan(8).Fill((byte)' ');
            json.CopyTo(bytes, 8);
            long position = bytes.Length;
            foreach (var t in groups[s])
            {
                placements[t] = new Placement(files.Count, position);
                position += tensors[t].Elements * bytesPerValue;
            }

            files.Add(new PlannedFile($"model-{s + 1:D5}-of-{groups.Count:D5}.safetensors", bytes, position));
        }

        return placements;
    }

    private static (Placement[] ExpAvg, Placement[] ExpAvgSq) PlanOptimizer(ModelPlan model, List<PlannedFile> files)
    {
        var tensors = model.Tensors;
        var state = new JsonObject();
        var expAvg = new Placement[tensors.Count];
        var expAvgSq = new Placement[tensors.Count];
        var headerRoom = ((tensors.Count * 160L) + 8191) / 4096 * 4096;
        var position = headerRoom;
        var file = files.Count;
        for (var t = 0; t < tensors.Count; t++)
        {
            var length = tensors[t].Elements * 4;
            expAvg[t] = new Placement(file, position);
            expAvgSq[t] = new Placement(file, Align(position + length));
            state[t.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["step"] = 1000,
                ["exp_avg"] = new JsonArray(expAvg[t].Offset, length),
                ["exp_avg_sq"] = new JsonArray(expAvgSq[t].Offset, length),
            };
            position = Align(expAvgSq[t].Offset + length);
        }

        var header = new JsonObject
        {
            ["format"] = "optimizer-state (Adam), little-endian float32, offsets from the file's start",
            ["state"] = state,
            ["param_groups"] = new JsonArray(new JsonObject { ["lr"] = 1e-4, ["betas"] = new JsonArray(0.9, 0.999), ["eps"] = 1e-8 }),
        };
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        if (json.Length > headerRoom)
        {
            throw new InvalidOperationException("optimizer header does not fit its room");
        }

        files.Add(new PlannedFile("optimizer.pt", json, position));
        return (expAvg, expAvgSq);
    }

    private static long Align(long offset) => (offset + 63) / 64 * 64;
}
