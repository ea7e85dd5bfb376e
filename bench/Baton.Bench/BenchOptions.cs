using System.Globalization;

namespace Baton.Bench;

/// <summary>Command-line settings of the benchmark.</summary>
internal sealed record BenchOptions
{
    public const string Usage = """
        usage: baton-bench [--size 0.8GiB] [--runs 3] [--seed 42] [--work DIR] [--out DIR]
                           [--tools baton,restic,tar,zip,cp] [--kinds f32,bf16] [--baton COMMAND]
          --size    size of the float32 checkpoint (weights + Adam state), e.g. 200MiB, 0.8GiB, 8GiB
          --runs    runs per tool; the table shows medians
          --work    where data, stores and copies go (needs about 6x --size free)
          --out     where the JSON results go
          --baton   command that runs baton (default: dotnet <repo>/.build/cli/baton.dll)
        """;

    public long Size { get; init; } = (long)(0.8 * (1L << 30));

    public int Runs { get; init; } = 3;

    public ulong Seed { get; init; } = 42;

    public string WorkDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "baton-bench");

    public string OutputDirectory { get; init; } = "";

    public IReadOnlyList<string> Tools { get; init; } = ["baton", "restic", "tar", "zip", "cp"];

    public IReadOnlyList<string> Kinds { get; init; } = ["f32", "bf16"];

    public string BatonCommand { get; init; } = "";

    public string ZipScript { get; init; } = "";

    public static BenchOptions Parse(string[] args, string repositoryRoot)
    {
        var options = new BenchOptions
        {
            OutputDirectory = Path.Combine(repositoryRoot, "bench", "results"),
            BatonCommand = "dotnet " + Path.Combine(repositoryRoot, ".build", "cli", "baton.dll"),
            ZipScript = Path.Combine(repositoryRoot, "bench", "zipdir.py"),
        };
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--size" => options with { Size = ParseSize(value) },
                "--runs" => options with { Runs = int.Parse(value, CultureInfo.InvariantCulture) },
                "--seed" => options with { Seed = ulong.Parse(value, CultureInfo.InvariantCulture) },
                "--work" => options with { WorkDirectory = Path.GetFullPath(value) },
                "--out" => options with { OutputDirectory = Path.GetFullPath(value) },
                "--tools" => options with { Tools = value.Split(',', StringSplitOptions.RemoveEmptyEntries) },
                "--kinds" => options with { Kinds = value.Split(',', StringSplitOptions.RemoveEmptyEntries) },
                "--baton" => options with { BatonCommand = value },
                _ => throw new ArgumentException($"unknown option '{args[i]}'"),
            };
            i++;
        }

        return options;
    }

    /// <summary>Parses 200MiB, 0.8GiB, 8G or a byte count.</summary>
    internal static long ParseSize(string text)
    {
        var units = new (string Suffix, long Factor)[] { ("GiB", 1L << 30), ("MiB", 1L << 20), ("G", 1L << 30), ("M", 1L << 20) };
        foreach (var (suffix, factor) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return (long)(double.Parse(text[..^suffix.Length], CultureInfo.InvariantCulture) * factor);
            }
        }

        return long.Parse(text, CultureInfo.InvariantCulture);
    }
}
