using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace Baton.Bench.Generation;

/// <summary>The generated data: two consecutive checkpoints of each kind.</summary>
/// <param name="Float32">Checkpoint directories of the float32 model with Adam state: the first and the next step.</param>
/// <param name="Bfloat16">The same model's weights as bf16: the first and the next step.</param>
internal sealed record GeneratedData(string[] Float32, string[] Bfloat16);

/// <summary>
/// Writes realistic, seeded checkpoints: float32 weights ~N(0, 0.02) with LayerNorm-like scales near 1, Adam
/// <c>exp_avg</c> ~N(0, 1e-3) and <c>exp_avg_sq</c> (squares of N(0, 1e-3)), small JSON files, and a bf16 copy of
/// the weights; then the "next" checkpoint, the same tensors after one Adam step, so that consecutive checkpoints
/// share almost no bytes. Data that is already there for the same seed and size is reused.
/// </summary>
internal static class CheckpointGenerator
{
    private const int BlockElements = 1 << 20;
    private const int FirstStep = 1000;
    private const int Format = 1;

    public static GeneratedData Generate(string root, long checkpointBytes, ulong seed, TextWriter log)
    {
        var data = new GeneratedData(
            [Path.Combine(root, "f32", $"step-{FirstStep}"), Path.Combine(root, "f32", $"step-{FirstStep + 1}")],
            [Path.Combine(root, "bf16", $"step-{FirstStep}"), Path.Combine(root, "bf16", $"step-{FirstStep + 1}")]);
        var stamp = Path.Combine(root, "complete.json");
        var expected = JsonSerializer.Serialize(new { format = Format, bytes = checkpointBytes, seed });
        if (File.Exists(stamp) && File.ReadAllText(stamp) == expected)
        {
            log.WriteLine($"data: reusing {root}");
            return data;
        }

        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }

        var model = ModelPlan.ForCheckpointSize(checkpointBytes);
        var f32 = CheckpointLayout.Plan(model, 4, withOptimizer: true);
        var bf16 = CheckpointLayout.Plan(model, 2, withOptimizer: false);
        log.WriteLine($"data: generating {model.Parameters / 1e6:F1}M parameters ({model.Layers} layers) into {root}");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var handles = new[]
        {
            Open(data.Float32[0], f32), Open(data.Float32[1], f32), Open(data.Bfloat16[0], bf16), Open(data.Bfloat16[1], bf16),
        };
        try
        {
            var blocks = new List<(int Tensor, long Start, int Count)>();
            for (var t = 0; t < model.Tensors.Count; t++)
            {
                for (long start = 0; start < model.Tensors[t].Elements; start += BlockElements)
                {
                    blocks.Add((t, start, (int)Math.Min(BlockElements, model.Tensors[t].Elements - start)));
                }
            }

            Parallel.ForEach(blocks, block => WriteBlock(model, f32, bf16, handles, block, seed));
        }
        finally
        {
            foreach (var set in handles)
            {
                foreach (var handle in set)
                {
                    handle.Dispose();
                }
            }
        }

        for (var step = 0; step < 2; step++)
        {
            WriteSmallFiles(data.Float32[step], model, FirstStep + step, "float32");
            WriteSmallFiles(data.Bfloat16[step], model, FirstStep + step, "bfloat16");
        }

        File.WriteAllText(stamp, expected);
        log.WriteLine($"data: generated in {clock.Elapsed.TotalSeconds:F1} s");
        return data;
    }

    private static SafeFileHandle[] Open(string directory, CheckpointLayout layout)
    {
        Directory.CreateDirectory(directory);
        return layout.Files.Select(f =>
        {
            var handle = File.OpenHandle(Path.Combine(directory, f.Name), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.None, f.Length);
            RandomAccess.Write(handle, f.Header, 0);
            RandomAccess.SetLength(handle, f.Length);
            return handle;
        }).ToArray();
    }

    private static void WriteBlock(ModelPlan model, CheckpointLayout f32, CheckpointLayout bf16, SafeFileHandle[][] handles, (int Tensor, long Start, int Count) block, ulong seed)
    {
        var kind = model.Tensors[block.Tensor].Kind;
        var random = new Gaussian(seed ^ ((ulong)block.Tensor << 40) ^ (ulong)block.Start);
        var n = block.Count;
        var w = new byte[n * 4];
        var m = new byte[n * 4];
        var v = new byte[n * 4];
        var w2 = new byte[n * 4];
        var m2 = new byte[n * 4];
        var v2 = new byte[n * 4];
        var h = new byte[n * 2];
        var h2 = new byte[n * 2];
        for (var i = 0; i < n; i++)
        {
            var weight = kind switch
            {
                TensorKind.Norm => 1 + (0.05 * random.Next()),
                TensorKind.Bias => 0.01 * random.Next(),
                _ => 0.02 * random.Next(),
            };
            var expAvg = 1e-3 * random.Next();
            var root = 1e-3 * random.Next();
            var expAvgSq = root * root;
            var gradient = 1e-3 * random.Next();

            // One Adam step (learning rate 1e-4): every weight and moment moves, so no bytes repeat.
            var nextAvg = (0.9 * expAvg) + (0.1 * gradient);
            var nextSq = (0.999 * expAvgSq) + (0.001 * gradient * gradient);
            var nextWeight = weight - (1e-4 * nextAvg / (Math.Sqrt(nextSq) + 1e-4));
            Put(w, i, (float)weight);
            Put(m, i, (float)expAvg);
            Put(v, i, (float)expAvgSq);
            Put(w2, i, (float)nextWeight);
            Put(m2, i, (float)nextAvg);
            Put(v2, i, (float)nextSq);
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(i * 2), ToBfloat16((float)weight));
            BinaryPrimitives.WriteUInt16LittleEndian(h2.AsSpan(i * 2), ToBfloat16((float)nextWeight));
        }

        var t = block.Tensor;
        Write(handles[0], f32.Weights[t], block.Start * 4, w);
        Write(handles[1], f32.Weights[t], block.Start * 4, w2);
        Write(handles[0], f32.ExpAvg[t], block.Start * 4, m);
        Write(handles[1], f32.ExpAvg[t], block.Start * 4, m2);
        Write(handles[0], f32.ExpAvgSq[t], block.Start * 4, v);
        Write(handles[1], f32.ExpAvgSq[t], block.Start * 4, v2);
        Write(handles[2], bf16.Weights[t], block.Start * 2, h);
        Write(handles[3], bf16.Weights[t], block.Start * 2, h2);
    }

    private static void Put(byte[] buffer, int index, float value) =>
        BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(index * 4), value);

    private static void Write(SafeFileHandle[] files, Placement placement, long offset, byte[] bytes) =>
        RandomAccess.Write(files[placement.File], bytes, placement.Offset + offset);

    // Round to nearest even, as torch's float32 -> bfloat16 conversion does.
    private static ushort ToBfloat16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    private static void WriteSmallFiles(string directory, ModelPlan model, int step, string dtype)
    {
        var config = new
        {
            architectures = new[] { "LlamaForCausalLM" },
            hidden_size = ModelPlan.Hidden,
            intermediate_size = 4 * ModelPlan.Hidden,
            num_hidden_layers = model.Layers,
            vocab_size = ModelPlan.Vocabulary,
            torch_dtype = dtype,
        };
        File.WriteAllText(Path.Combine(directory, "config.json"), JsonSerializer.Serialize(config, Indented));
        var history = new StringBuilder();
        history.Append(CultureInfo.InvariantCulture, $"{{\"global_step\": {step}, \"log_history\": [\n");
        for (var s = 10; s <= step; s += 10)
        {
            var loss = 2.0 + (8.0 / Math.Sqrt(s));
            history.Append(CultureInfo.InvariantCulture, $"  {{\"step\": {s}, \"loss\": {loss:F4}, \"learning_rate\": 0.0001, \"grad_norm\": {1.0 + (10.0 / s):F4}}},\n");
        }

        history.Append(CultureInfo.InvariantCulture, $"  {{\"step\": {step}, \"epoch\": {step / 5000.0:F4}}}\n]}}\n");
        File.WriteAllText(Path.Combine(directory, "trainer_state.json"), history.ToString());
        File.WriteAllText(Path.Combine(directory, "scheduler.json"), $"{{\"last_epoch\": {step}, \"base_lrs\": [0.0001]}}\n");
        File.WriteAllText(Path.Combine(directory, "rng_state.json"), $"{{\"python\": {step * 7919}, \"numpy\": {step * 104729}, \"torch\": {step * 1299709}}}\n");
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
