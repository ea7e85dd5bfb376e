using System.Text.RegularExpressions;

namespace Baton.Checkpoints;

/// <summary>
/// Orbax (JAX) step directories <c>N/</c> (or <c>PREFIX_N/</c>): complete once renamed from their temporary name
/// (<c>N.orbax-checkpoint-tmp-...</c>) and, when the trainer writes commit markers (<c>commit_success.txt</c>, as on
/// object stores), once the marker is there. The snapshot holds that directory.
/// <para>
/// Several hosts: every host writes its own part (<c>ocdbt.process_N/</c>) into the one temporary step directory, and
/// the primary host alone, after a barrier with all of them, renames it or writes the single <c>commit_success.txt</c>
/// of the step (Orbax's <c>_COMMIT_SUCCESS_FILE</c>), so the same rules hold; Orbax needs a directory every host sees.
/// </para>
/// </summary>
/// <param name="options">Settings shared by the detectors: quiet period, step pattern, node rank and count, clock.</param>
public sealed partial class OrbaxDetector(DetectorOptions options) : CheckpointDetector(options)
{
    /// <summary>The marker Orbax writes last where renames are not atomic.</summary>
    public const string CommitMarker = "commit_success.txt";

    /// <inheritdoc />
    public override string Name => "orbax";

    /// <inheritdoc />
    public override string? Recognize(string directory) =>
        Directory.Exists(directory) && Directory.EnumerateDirectories(directory).Select(Path.GetFileName)
            .Any(n => StepDirectory().IsMatch(n!) || n!.Contains(".orbax-checkpoint-tmp", StringComparison.Ordinal))
            ? "Orbax step directories"
            : null;

    /// <summary>Nothing to mark: this format's completeness marker is written last, so what it shows is whole.</summary>
    public override int OnWriterDied() => 0;

    internal override Checkpoint? Scan(ScanContext context)
    {
        var candidates = context.Names("", directories: true)
            .Select(name => (Name: name, Match: StepDirectory().Match(name)))
            .Where(c => c.Match.Success)
            .Select(c => (c.Name, Step: StepOf(c.Name, _ => StepNumbers.Parse(c.Match.Groups[1].Value)), Files: context.FilesUnder(c.Name)))
            .Where(c => c.Files.Count > 0)
            .OrderByDescending(c => c.Step)
            .ToList();
        var markers = candidates.Any(c => c.Files.Contains(c.Name + "/" + CommitMarker, StringComparer.Ordinal));
        Checkpoint? newest = null;
        foreach (var (name, step, files) in candidates)
        {
            var settled = context.Settled(files, context.Options.SettlePeriod);
            if (newest is null && settled && (!markers || files.Contains(name + "/" + CommitMarker, StringComparer.Ordinal)))
            {
                newest = context.Found(Name, step, name + "/", files);
            }
        }

        return newest;
    }

    // Temporary names carry a suffix after the digits, so they never match.
    [GeneratedRegex(@"^(?:[A-Za-z][A-Za-z0-9]*_)?(\d+)$")]
    private static partial Regex StepDirectory();
}
