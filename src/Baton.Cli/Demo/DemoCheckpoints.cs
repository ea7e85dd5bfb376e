using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Baton.Cli.Demo;

/// <summary>
/// The demo trainer's checkpoints, in TensorFlow's layout (the seed's case): <c>model.ckpt-N.data-00000-of-00001</c>
/// (step, weights, velocity), <c>model.ckpt-N.index</c> (a checksum of the data), then the <c>checkpoint</c> state
/// file naming the newest, and <c>model_config.json</c> beside them. Written either atomically (temporary name, then
/// rename) or in place, the way many trainers do; resuming checks the checksum and falls back to an older checkpoint.
/// </summary>
internal static partial class DemoCheckpoints
{
    public const string Prefix = "model.ckpt-";
    public const string StateFile = "checkpoint";
    public const string ConfigFile = "model_config.json";

    public static string DataFile(long step) => $"{Prefix}{step}.data-00000-of-00001";

    public static string IndexFile(long step) => $"{Prefix}{step}.index";

    /// <summary>Writes a checkpoint of <paramref name="model"/> and deletes all but the newest <paramref name="keep"/>.</summary>
    public static void Save(string directory, LinearModel model, bool atomic, int keep)
    {
        var step = model.Step;
        var data = Serialize(model);
        Write(Path.Combine(directory, DataFile(step)), data, atomic);
        var index = JsonSerializer.Serialize(new IndexRecord(step, model.Weights.Length, Convert.ToHexStringLower(SHA256.HashData(data))), DemoJson.Default.IndexRecord);
        Write(Path.Combine(directory, IndexFile(step)), System.Text.Encoding.UTF8.GetBytes(index), atomic);

        var kept = Steps(directory).Where(s => s <= step).OrderDescending().Take(keep).Order().ToList();
        var state = $"model_checkpoint_path: \"{Prefix}{step}\"\n" + string.Concat(kept.Select(s => $"all_model_checkpoint_paths: \"{Prefix}{s}\"\n"));
        Write(Path.Combine(directory, StateFile), System.Text.Encoding.UTF8.GetBytes(state), atomic);
        foreach (var old in Steps(directory).Where(s => !kept.Contains(s)))
        {
            File.Delete(Path.Combine(directory, DataFile(old)));
            File.Delete(Path.Combine(directory, IndexFile(old)));
        }
    }

    /// <summary>Loads the newest valid checkpoint into <paramref name="model"/>; returns false when there is none.</summary>
    public static bool TryLoadNewest(string directory, LinearModel model)
    {
        var named = NamedStep(directory);
        var candidates = Steps(directory).OrderDescending().ToList();
        if (named is { } n)
        {
            candidates.Remove(n);
            candidates.Insert(0, n);
        }

        return candidates.Any(step => TryLoad(directory, step, model));
    }

    /// <summary>The model's weights as bytes, for comparing runs bit for bit.</summary>
    public static byte[] WeightBytes(LinearModel model) => MemoryMarshal.AsBytes(model.Weights.AsSpan()).ToArray();

    public static bool TryLoad(string directory, long step, LinearModel model)
    {
        try
        {
            var data = File.ReadAllBytes(Path.Combine(directory, DataFile(step)));
            var index = JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(directory, IndexFile(step))), DemoJson.Default.IndexRecord);
            var d = model.Weights.Length;
            if (index is null || index.Step != step || index.Features != d || data.Length != 8 + (16 * d)
                || Convert.ToHexStringLower(SHA256.HashData(data)) != index.Sha256 || BinaryPrimitives.ReadInt64LittleEndian(data) != step)
            {
                return false;
            }

            MemoryMarshal.Cast<byte, double>(data.AsSpan(8, 8 * d)).CopyTo(model.Weights);
            MemoryMarshal.Cast<byte, double>(data.AsSpan(8 + (8 * d), 8 * d)).CopyTo(model.Velocity);
            model.Step = step;
            return true;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static long? NamedStep(string directory)
    {
        try
        {
            var match = NamedPrefix().Match(File.ReadAllText(Path.Combine(directory, StateFile)));
            return match.Success ? long.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static IEnumerable<long> Steps(string directory) =>
        Directory.EnumerateFiles(directory, Prefix + "*.index").Select(f => IndexName().Match(Path.GetFileName(f)))
            .Where(m => m.Success).Select(m => long.Parse(m.Groups[1].ValueSpan, CultureInfo.InvariantCulture)).ToList();

    private static byte[] Serialize(LinearModel model)
    {
        var d = model.Weights.Length;
        var data = new byte[8 + (16 * d)];
        BinaryPrimitives.WriteInt64LittleEndian(data, model.Step);
        MemoryMarshal.AsBytes(model.Weights.AsSpan()).CopyTo(data.AsSpan(8));
        MemoryMarshal.AsBytes(model.Velocity.AsSpan()).CopyTo(data.AsSpan(8 + (8 * d)));
        return data;
    }

    // In place: truncate and write in pieces, as a plain open(..., "wb") does; a kill can leave a torn file.
    private static void Write(string path, byte[] data, bool atomic)
    {
        var target = atomic ? path + ".tmp" : path;
        using (var file = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1))
        {
            for (var offset = 0; offset < data.Length; offset += 64 * 1024)
            {
                file.Write(data, offset, Math.Min(64 * 1024, data.Length - offset));
            }
        }

        if (atomic)
        {
            File.Move(target, path, overwrite: true);
        }
    }

    [GeneratedRegex(@"^model_checkpoint_path:\s*""model\.ckpt-(\d+)""\s*$", RegexOptions.Multiline)]
    private static partial Regex NamedPrefix();

    [GeneratedRegex(@"^model\.ckpt-(\d+)\.index$")]
    private static partial Regex IndexName();
}

/// <summary>The demo checkpoint's index: which step, how many features, and the data file's checksum.</summary>
internal sealed record IndexRecord(long Step, int Features, string Sha256);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(IndexRecord))]
[System.Text.Json.Serialization.JsonSerializable(typeof(ModelConfig))]
internal sealed partial class DemoJson : System.Text.Json.Serialization.JsonSerializerContext;
