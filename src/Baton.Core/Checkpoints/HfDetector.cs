using System.Text.RegularExpressions;

namespace Baton.Checkpoints;

/// <summary>
/// Hugging Face <c>Trainer</c> output: <c>checkpoint-N/</c> directories, complete when <c>trainer_state.json</c> is
/// there and nothing in the directory has changed for the quiet period. The snapshot holds that directory.
/// </summary>
/// <param name="options">Settings shared by the detectors: quiet period, step pattern, node rank and count, clock.</param>
public sealed partial class HfDetector(DetectorOptions options) : CheckpointDetector(options)
{
    /// <summary>The file the Trainer writes after the weights and optimizer state.</summary>
    public const string StateFile = "trainer_state.json";

    /// <inheritdoc />
    public override string Name => "hf";

    /// <inheritdoc />
    public override string? Recognize(string directory) =>
        Directory.Exists(directory) && Directory.EnumerateDirectories(directory).Any(d => CheckpointDirectory().IsMatch(Path.GetFileName(d)))
            ? "Hugging Face checkpoint-N directories"
            : null;

    internal override Checkpoint? Scan(ScanContext context)
    {
        var candidates = context.Names("", directories: true)
            .Select(name => (Name: name, Match: CheckpointDirectory().Match(name)))
            .Where(c => c.Match.Success)
            .Select(c => (c.Name, Step: StepOf(c.Name, n => StepNumbers.Parse(CheckpointDirectory().Match(n).Groups[1].Value))))
            .OrderByDescending(c => c.Step)
            .ToList();
        Checkpoint? newest = null;
        foreach (var (name, step) in candidates)
        {
            var files = context.FilesUnder(name);
            var settled = context.Settled(files, context.Options.QuietPeriod);
            if (newest is null && settled && files.Contains(name + "/" + StateFile, StringComparer.Ordinal))
            {
                newest = context.Found(Name, step, name + "/", files);
            }
        }

        return newest;
    }

    [GeneratedRegex(@"^checkpoint-(\d+)$")]
    private static partial Regex CheckpointDirectory();
}
