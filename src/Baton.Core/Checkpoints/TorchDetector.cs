namespace Baton.Checkpoints;

/// <summary>
/// Single-file PyTorch checkpoints (<c>torch.save</c>'s zip format, the default since PyTorch 1.6) and Lightning
/// <c>*.ckpt</c> files, anywhere under the directory: complete when the zip's end-of-central-directory record closes
/// the file and its size has settled. The step comes from the name (<c>epoch=3-step=1200.ckpt</c>,
/// <c>ckpt-1200.pt</c>) or from <see cref="DetectorOptions.StepFrom"/>; the snapshot holds that one file.
/// </summary>
public sealed class TorchDetector(DetectorOptions options) : CheckpointDetector(options)
{
    private static readonly string[] Extensions = [".pt", ".pth", ".ckpt", ".tar"];

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
        var complete = new List<(string Path, long? Step, DateTime Modified)>();
        foreach (var path in context.FilesUnder("").Where(IsCandidate))
        {
            // Observe every candidate, so that each one's history is known when it becomes the newest.
            if (context.Settled([path], context.Options.SettlePeriod) && ZipTrailer.IsComplete(context.FullPath(path)))
            {
                complete.Add((path, StepOf(path, StepNumbers.FromFileName), File.GetLastWriteTimeUtc(context.FullPath(path))));
            }
        }

        if (complete.Count == 0)
        {
            return null;
        }

        // With steps in the names the highest step wins; without, the most recently written file.
        var newest = complete.Any(c => c.Step is not null)
            ? complete.Where(c => c.Step is not null).MaxBy(c => (c.Step!.Value, c.Modified))
            : complete.MaxBy(c => c.Modified);
        return context.Found(Name, newest.Step, newest.Path, [newest.Path]);
    }

    private static bool IsCandidate(string path) =>
        Extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase)
        && !Path.GetFileName(path).StartsWith('.');
}
