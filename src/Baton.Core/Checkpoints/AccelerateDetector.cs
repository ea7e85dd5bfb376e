using System.Text.RegularExpressions;

namespace Baton.Checkpoints;

/// <summary>
/// Hugging Face Accelerate (<c>accelerator.save_state()</c>): a checkpoint directory (<c>checkpoint_N/</c> under
/// <c>checkpoints/</c> with <c>ProjectConfiguration(automatic_checkpoint_naming=True)</c>, or any directory passed to
/// <c>save_state</c>) holding the main process's model, optimizer, scheduler and sampler files and one
/// <c>random_states_R.pkl</c> per process R, each process writing its own after the main process wrote the rest.
/// Accelerate writes no marker: complete when the <c>random_states</c> files cover every process 0..max with no gap,
/// at least as many as any other checkpoint directory shows (the world size, when a checkpoint is missing its last
/// processes' files) and a multiple of the node count, and nothing changed for the quiet period.
/// <para>
/// Node-local directories: a node sees only its own processes' files; its part is complete when they are
/// consecutive and nothing changed for the quiet period.
/// </para>
/// <para>
/// The snapshot holds that directory; the step is N of <c>checkpoint_N</c> (Accelerate counts saves, not training
/// steps) or the last number in the directory's name, or from <c>--step-from</c>.
/// </para>
/// </summary>
/// <param name="options">Settings shared by the detectors: quiet period, step pattern, node rank and count, clock.</param>
public sealed partial class AccelerateDetector(DetectorOptions options) : CheckpointDetector(options)
{
    /// <summary>Where automatic checkpoint naming puts <c>checkpoint_N</c> directories.</summary>
    public const string CheckpointsFolder = "checkpoints";

    /// <inheritdoc />
    public override string Name => "accelerate";

    /// <inheritdoc />
    public override string? Recognize(string directory) => UnlessVanished(directory, Recognized);

    private static string? Recognized(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return null;
        }

        return CandidateFolders(directory).Any(d => AutomaticName().IsMatch(Path.GetFileName(d)) || HasRandomStates(d))
            ? "Accelerate save_state directories (random_states_R.pkl, checkpoint_N)"
            : null;
    }

    internal override Checkpoint? Scan(ScanContext context)
    {
        var candidates = new List<(string Folder, long? Step, List<string> Files, HashSet<int> Ranks)>();
        foreach (var folder in CandidateFolders(context.Root).Select(d => Path.GetRelativePath(context.Root, d).Replace(Path.DirectorySeparatorChar, '/')))
        {
            var files = context.FilesUnder(folder);
            var ranks = files.Where(f => f.LastIndexOf('/') == folder.Length)
                .Select(f => RandomStates().Match(f[(folder.Length + 1)..]))
                .Where(m => m.Success)
                .Select(m => Ranks.Parse(m.Groups[1].Value))
                .OfType<int>()
                .ToHashSet();
            if (ranks.Count > 0 || AutomaticName().IsMatch(Path.GetFileName(folder)))
            {
                candidates.Add((folder, StepOf(folder, StepNumbers.FromFileName), files, ranks));
            }
        }

        var worldSize = NodeLocal ? 0 : candidates.Select(c => c.Ranks.Count == 0 ? 0 : c.Ranks.Max() + 1).DefaultIfEmpty(0).Max();
        Checkpoint? newest = null;
        foreach (var (folder, step, files, ranks) in candidates.OrderByDescending(c => c.Step))
        {
            var quiet = context.Settled(files, context.Options.QuietPeriod);
            var covered = NodeLocal
                ? Ranks.Complete(ranks, fromZero: Options.NodeRank == 0)
                : Ranks.Complete(ranks, fromZero: true, worldSize) && ranks.Count % Options.NodeCount == 0;
            if (quiet && covered && newest is null)
            {
                newest = context.Found(Name, step, folder + "/", files);
            }
        }

        return newest;
    }

    // The directories a save_state may have written: those directly under --dir and under its checkpoints/ folder.
    private static IEnumerable<string> CandidateFolders(string root)
    {
        IEnumerable<string> Children(string path)
        {
            try
            {
                return Directory.Exists(path)
                    ? new DirectoryInfo(path).EnumerateDirectories().Where(d => d.LinkTarget is null && !Snapshots.ReservedNames.IsReserved(d.Name)).Select(d => d.FullName).ToList()
                    : [];
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return [];
            }
        }

        return Children(root).Concat(Children(Path.Combine(root, CheckpointsFolder))).Order(StringComparer.Ordinal);
    }

    private static bool HasRandomStates(string directory) =>
        Directory.EnumerateFiles(directory).Any(f => RandomStates().IsMatch(Path.GetFileName(f)));

    [GeneratedRegex(@"^checkpoint_(\d+)$")]
    private static partial Regex AutomaticName();

    // random_states_R.pkl: process R's RNG states (save_accelerator_state names them by process index).
    [GeneratedRegex(@"^random_states_(\d+)\.pkl$")]
    private static partial Regex RandomStates();
}
