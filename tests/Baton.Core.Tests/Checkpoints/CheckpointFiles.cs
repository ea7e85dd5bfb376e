using System.IO.Compression;
using System.Text;

namespace Baton.Tests.Checkpoints;

/// <summary>Writes real checkpoint files in each framework's layout.</summary>
internal static class CheckpointFiles
{
    public static void Write(string path, int size, int seed = 1)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        File.WriteAllBytes(path, data);
    }

    public static void Text(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    /// <summary>A TensorFlow prefix with its index, meta and <paramref name="shards"/> data shards.</summary>
    public static void TfPrefix(string directory, string prefix, int shards = 1, bool meta = true)
    {
        Write(Path.Combine(directory, prefix + ".index"), 100);
        if (meta)
        {
            Write(Path.Combine(directory, prefix + ".meta"), 50);
        }

        for (var i = 0; i < shards; i++)
        {
            Write(Path.Combine(directory, $"{prefix}.data-{i:D5}-of-{shards:D5}"), 4000, i);
        }
    }

    public static void TfState(string directory, string prefix, params string[] all)
    {
        var text = new StringBuilder($"model_checkpoint_path: \"{prefix}\"\n");
        foreach (var p in all.Length == 0 ? [prefix] : all)
        {
            text.Append($"all_model_checkpoint_paths: \"{p}\"\n");
        }

        Text(Path.Combine(directory, "checkpoint"), text.ToString());
    }

    /// <summary>A <c>torch.save</c>-style zip.</summary>
    public static void TorchZip(string path, int size = 5000)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        var entry = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression);
        using var stream = entry.Open();
        var data = new byte[size];
        new Random(size).NextBytes(data);
        stream.Write(data);
    }

    /// <summary>The same zip cut off before its end (a write interrupted by a crash).</summary>
    public static void TruncatedTorchZip(string path)
    {
        TorchZip(path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 30)]);
    }
}
