using System.Text.RegularExpressions;

namespace Baton.Checkpoints;

/// <summary>
/// TensorFlow checkpoints (the seed's layout): a <c>checkpoint</c> state file whose <c>model_checkpoint_path</c>
/// names a prefix; complete when the prefix's <c>.index</c> and every <c>.data-NNNNN-of-MMMMM</c> shard (and the
/// <c>.meta</c> when present) exist and have settled (the state file itself is read as soon as it names a prefix:
/// TensorFlow replaces it atomically after the prefix is written). The snapshot holds the state file, the prefix's files and the
/// small configuration files beside them (<c>model_config.json</c>) that a trainer needs to resume.
/// </summary>
public sealed partial class TfDetector : CheckpointDetector
{
    /// <summary>The state file TensorFlow writes last (atomically) to name the newest checkpoint.</summary>
    public const string StateFile = "checkpoint";

    private const long MaxSideFileSize = 16 * 1024 * 1024;
    private const int ChurningSettlePeriods = 5;
    private static readonly string[] SideFileExtensions = [".json", ".yaml", ".yml", ".pbtxt", ".txt", ".cfg", ".ini", ".toml", ".vocab"];
    private readonly string _subdirectory;

    /// <summary>Creates the detector; <paramref name="subdirectory"/> is where the state file lives ("" for the top).</summary>
    public TfDetector(DetectorOptions options, string subdirectory = "")
        : base(options)
    {
        _subdirectory = subdirectory.Trim('/');
    }

    /// <inheritdoc />
    public override string Name => "tf";

    /// <inheritdoc />
    public override string? Recognize(string directory) =>
        File.Exists(Path.Combine(directory, _subdirectory, StateFile)) ? "a TensorFlow 'checkpoint' state file" : null;

    /// <summary>Nothing to mark: this format's completeness marker is written last, so what it shows is whole.</summary>
    public override int OnWriterDied() => 0;

    internal override Checkpoint? Scan(ScanContext context)
    {
        var statePath = Join(_subdirectory, StateFile);
        if (context.ReadText(statePath) is not { } text)
        {
            return null;
        }

        var match = ModelCheckpointPath().Match(text);
        if (!match.Success || Relative(context, Unescape(match.Groups[1].Value)) is not { } prefix)
        {
            return null; // absent, or the state file is still being written
        }

        var (prefixDirectory, baseName) = Split(prefix);
        var names = context.Names(prefixDirectory, directories: false);
        var own = names.Where(n => n.StartsWith(baseName + ".", StringComparison.Ordinal)).ToList();
        if (!own.Contains(baseName + ".index", StringComparer.Ordinal) || !ShardsComplete(own, baseName))
        {
            return null;
        }

        var files = own.Where(n => IsCheckpointFile(n, baseName)).Select(n => Join(prefixDirectory, n)).ToList();
        var sideFiles = names.Where(n => IsSideFile(context, n, Join(prefixDirectory, n))).Select(n => Join(prefixDirectory, n)).ToList();

        // Configuration files beside the checkpoint go along. One rewritten a moment ago (a trainer writes its
        // configuration at each start) holds the checkpoint back until it settles; one rewritten all the time (a
        // metrics file) is left out after a while instead of holding every checkpoint back.
        var settle = context.Options.SettlePeriod;
        var companions = sideFiles.Select(f => (File: f, State: context.Companion(f, settle, settle * ChurningSettlePeriods))).ToList();
        // The state file is replaced atomically once the prefix is whole; only the prefix's own files must settle.
        if (!context.Settled(files, settle) || companions.Any(c => c.State == Companion.Settling))
        {
            context.Pending = prefix;
            return null;
        }

        var settledSideFiles = companions.Where(c => c.State == Companion.Settled).Select(c => c.File);

        var step = StepOf(prefix, p => StepNumbers.FromSuffix(Path.GetFileName(p)));
        return context.Found(Name, step, prefix, [statePath, .. files, .. settledSideFiles], identity: [statePath, .. files]);
    }

    private static bool ShardsComplete(List<string> own, string baseName)
    {
        var shards = own.Select(n => DataShard().Match(n[(baseName.Length + 1)..])).Where(m => m.Success).ToList();
        if (shards.Count == 0)
        {
            return false;
        }

        var total = shards[0].Groups[2].Value;
        var indices = shards.Where(m => m.Groups[2].Value == total).Select(m => int.Parse(m.Groups[1].ValueSpan, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        return int.TryParse(total, System.Globalization.CultureInfo.InvariantCulture, out var count)
            && Enumerable.Range(0, count).All(indices.Contains);
    }

    private static bool IsCheckpointFile(string name, string baseName)
    {
        var rest = name[(baseName.Length + 1)..];
        return rest is "index" or "meta" || DataShard().IsMatch(rest);
    }

    private static bool IsSideFile(ScanContext context, string name, string relative)
    {
        if (name == StateFile || name.StartsWith('.') || name.Contains(".tmp", StringComparison.OrdinalIgnoreCase)
            || name.Contains("tempstate", StringComparison.Ordinal) || name.StartsWith("events.out.tfevents", StringComparison.Ordinal)
            || AnyCheckpointFile().IsMatch(name) || !SideFileExtensions.Contains(Path.GetExtension(name), StringComparer.OrdinalIgnoreCase))
        {
            return false;
        }

        var info = new FileInfo(context.FullPath(relative));
        return info.Exists && info.Length <= MaxSideFileSize;
    }

    // TensorFlow may write absolute paths; a path inside the directory becomes relative, any other keeps its name.
    private string? Relative(ScanContext context, string path)
    {
        string relative;
        if (Path.IsPathRooted(path))
        {
            var full = Path.GetFullPath(path);
            relative = full.StartsWith(context.Root + Path.DirectorySeparatorChar, StringComparison.Ordinal)
                ? Path.GetRelativePath(context.Root, full).Replace(Path.DirectorySeparatorChar, '/')
                : Join(_subdirectory, Path.GetFileName(full));
        }
        else
        {
            relative = Join(_subdirectory, path);
        }

        return relative.Length == 0 || relative.Split('/').Any(s => s is "" or "." or "..") ? null : relative;
    }

    private static (string Directory, string Name) Split(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash < 0 ? ("", path) : (path[..slash], path[(slash + 1)..]);
    }

    private static string Join(string directory, string name) => directory.Length == 0 ? name : directory + "/" + name;

    private static string Unescape(string value) => value.Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);

    [GeneratedRegex(@"^\s*model_checkpoint_path:\s*""((?:[^""\\]|\\.)*)""\s*$", RegexOptions.Multiline)]
    private static partial Regex ModelCheckpointPath();

    [GeneratedRegex(@"^data-(\d{5})-of-(\d{5})$")]
    private static partial Regex DataShard();

    [GeneratedRegex(@"\.(index|meta|data-\d{5}-of-\d{5})$")]
    private static partial Regex AnyCheckpointFile();
}
