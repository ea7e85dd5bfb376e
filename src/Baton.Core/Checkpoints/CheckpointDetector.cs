namespace Baton.Checkpoints;

/// <summary>
/// Finds the newest complete checkpoint in a directory for one checkpoint layout. Keeps state between scans (since
/// when each file has been unchanged), so use one instance per directory and scan it from one thread at a time.
/// </summary>
public abstract class CheckpointDetector
{
    private readonly FileStability _stability;

    /// <summary>Creates a detector.</summary>
    protected CheckpointDetector(DetectorOptions options)
    {
        Options = options;
        _stability = new FileStability(options.TimeProvider);
    }

    /// <summary>The format's name as <c>--format</c> takes it.</summary>
    public abstract string Name { get; }

    /// <summary>The settings.</summary>
    public DetectorOptions Options { get; }

    /// <summary>Scans <paramref name="directory"/> and returns the newest complete checkpoint, if any.</summary>
    public virtual DetectionResult Detect(string directory, DetectionMode mode = DetectionMode.Live)
    {
        if (!Directory.Exists(directory))
        {
            return DetectionResult.None;
        }

        var context = new ScanContext(Path.GetFullPath(directory), mode, _stability, Options);
        _stability.BeginScan();
        var found = Scan(context);
        _stability.EndScan();
        return new DetectionResult(found, context.RecheckIn, context.Pending);
    }

    /// <summary>
    /// Call after a scan that followed the trainer's death: files that had not settled are never taken as complete
    /// until they change again. Returns how many files were marked.
    /// </summary>
    public virtual int OnWriterDied() => _stability.TaintUnsettled();

    /// <summary>Says why this format fits the directory's contents, or returns <c>null</c> when it does not.</summary>
    public abstract string? Recognize(string directory);

    /// <summary>
    /// Runs <paramref name="recognize"/> on <paramref name="directory"/>, answering null when the directory or a file
    /// in it vanished or became unreadable while it was being listed (the next scan looks again).
    /// </summary>
    private protected static string? UnlessVanished(string directory, Func<string, string?> recognize)
    {
        ArgumentNullException.ThrowIfNull(recognize);
        try
        {
            return recognize(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether each node of a multi-node run writes into its own directory (<see cref="DetectorOptions.NodeCount"/>
    /// above 1 without <see cref="DetectorOptions.SharedDirectory"/>): a distributed format then sees only this node's
    /// ranks and judges this node's part of a checkpoint; the group commit makes the whole complete.
    /// </summary>
    private protected bool NodeLocal => Options.NodeCount > 1 && !Options.SharedDirectory;

    /// <summary>Looks at the directory once; returns the newest complete checkpoint.</summary>
    internal abstract Checkpoint? Scan(ScanContext context);

    /// <summary>The step from <see cref="DetectorOptions.StepFrom"/> when given, else from <paramref name="fallback"/>.</summary>
    private protected long? StepOf(string path, Func<string, long?> fallback)
    {
        if (Options.StepFrom is { } regex)
        {
            var match = regex.Match(path);
            return match.Success && match.Groups.Count > 1 && long.TryParse(match.Groups[1].ValueSpan, out var step) ? step : null;
        }

        return fallback(path);
    }
}
