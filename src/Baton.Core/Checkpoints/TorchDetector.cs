namespace Baton.Checkpoints;

/// <summary>
/// PyTorch checkpoints (<c>torch.save</c>'s zip format, the default since PyTorch 1.6) and Lightning <c>*.ckpt</c>
/// files, anywhere under the directory. A file is complete when the zip's end-of-central-directory record closes it
/// (checked with its size and modification time unchanged around the check; the push checks that state again before
/// and after reading it), so a file rewritten in place every half second is still caught whole between two writes.
/// <para>
/// The snapshot holds every complete checkpoint file present (<c>last.pt</c> beside <c>best.pt</c>, or
/// <c>last.ckpt</c> beside the <c>epoch=N-step=M.ckpt</c> files a keep-last-k rotation leaves) and the small
/// configuration files beside them: together they are what a resume needs. A file with a fixed name that is being
/// rewritten holds the snapshot back until it is whole again; a new step-named file is left out until it is whole.
/// The step is the highest among the names (<c>epoch=3-step=1200.ckpt</c>, <c>ckpt-1200.pt</c>) or from
/// <see cref="DetectorOptions.StepFrom"/>; unknown when no name carries one.
/// </para>
/// </summary>
/// <param name="options">Settings shared by the detectors: quiet period, step pattern, node rank and count, clock.</param>
public sealed class TorchDetector(DetectorOptions options) : CheckpointDetector(options)
{
    private const long MaxSideFileSize = 16 * 1024 * 1024;
    private const int ChurningSettlePeriods = 5;
    private static readonly TimeSpan RewriteRecheck = TimeSpan.FromMilliseconds(50);
    private static readonly string[] Extensions = [".pt", ".pth", ".ckpt", ".tar"];
    private static readonly string[] SideFileExtensions = [".json", ".yaml", ".yml", ".txt", ".cfg", ".ini", ".toml", ".vocab", ".model"];

    /// <inheritdoc />
    public override string Name => "torch";

    /// <inheritdoc />
    public override string? Recognize(string directory) =>
        Directory.Exists(directory) && Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Any(IsCandidate)
            ? "PyTorch checkpoint files (*.pt, *.pth, *.ckpt)"
            : null;

    /// <summary>Nothing to mark: this format's completeness marker is written last, so what it shows is whole.</summary>
    public override int OnWriterDied() => 0;

    internal override Checkpoint? Scan(ScanContext context)
    {
        var all = context.FilesUnder("");
        var complete = new List<(string Path, long? Step, DateTime Modified)>();
        string? rewriting = null;
        foreach (var path in all.Where(IsCandidate))
        {
            // Observe every candidate, so that each one's history is known when it is looked at next.
            var stable = context.StableFor(path, context.Options.QuietPeriod);
            var step = StepOf(path, StepNumbers.FromFileName);
            if (context.ZipComplete(path))
            {
                complete.Add((path, step, File.GetLastWriteTimeUtc(context.FullPath(path))));
            }
            else if (step is null && context.Live && stable is { } age && age < context.Options.QuietPeriod)
            {
                // A fixed name (last.pt) being rewritten: the snapshot waits for it rather than go without it. One that
                // stays cut short for the quiet period is not being written: it is left out.
                rewriting = path;
            }
        }

        if (rewriting is not null)
        {
            context.Pending = rewriting;
            context.RecheckWithin(RewriteRecheck);
            return null;
        }

        if (complete.Count == 0)
        {
            return null;
        }

        var sideFiles = SideFiles(context, all, complete.Select(c => c.Path));
        if (sideFiles is null)
        {
            return null;
        }

        // The highest step names the snapshot; without steps in the names, the most recently written file does.
        var newest = complete.Any(c => c.Step is not null)
            ? complete.Where(c => c.Step is not null).MaxBy(c => (c.Step!.Value, c.Modified))
            : complete.MaxBy(c => c.Modified);
        var files = complete.Select(c => c.Path).ToList();
        return context.Found(Name, newest.Step, newest.Path, [.. files, .. sideFiles], identity: files);
    }

    // Small configuration files beside the checkpoint files go along; one rewritten a moment ago holds the snapshot
    // back (null) until it settles, one rewritten all the time is left out after a while.
    private static List<string>? SideFiles(ScanContext context, List<string> all, IEnumerable<string> checkpointFiles)
    {
        var folders = checkpointFiles.Select(FolderOf).ToHashSet(StringComparer.Ordinal);
        var settle = context.Options.SettlePeriod;
        var result = new List<string>();
        foreach (var file in all.Where(f => folders.Contains(FolderOf(f)) && IsSideFile(context, f)))
        {
            switch (context.Companion(file, settle, settle * ChurningSettlePeriods))
            {
                case Companion.Settled:
                    result.Add(file);
                    break;
                case Companion.Settling:
                    return null;
            }
        }

        return result;
    }

    private static bool IsSideFile(ScanContext context, string relative)
    {
        var name = Path.GetFileName(relative);
        if (name.StartsWith('.') || name.Contains(".tmp", StringComparison.OrdinalIgnoreCase) || name.StartsWith("events.out.tfevents", StringComparison.Ordinal)
            || !SideFileExtensions.Contains(Path.GetExtension(name), StringComparer.OrdinalIgnoreCase))
        {
            return false;
        }

        var info = new FileInfo(context.FullPath(relative));
        return info.Exists && info.Length <= MaxSideFileSize;
    }

    private static string FolderOf(string relative)
    {
        var slash = relative.LastIndexOf('/');
        return slash < 0 ? "" : relative[..slash];
    }

    private static bool IsCandidate(string path) =>
        Extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase)
        && !Path.GetFileName(path).StartsWith('.');
}
