using System.Text.RegularExpressions;

namespace Baton.Checkpoints;

/// <summary>
/// PyTorch Distributed Checkpoint (<c>torch.distributed.checkpoint</c>, FSDP, torchtitan): a checkpoint directory
/// (<c>step_N/</c>, <c>checkpoint-N/</c>, <c>epoch_N/</c>, any directory whose name carries the step, or
/// <c>--dir</c> itself) holding one or more <c>__R_I.distcp</c> data files per rank R. <c>FileSystemWriter</c> has
/// every rank write its data files, gathers their write results on the coordinator (rank 0), and only then has the
/// coordinator write the global <c>.metadata</c> (in <c>finish</c>, through a temporary name and a rename): a
/// directory is complete once <c>.metadata</c> is there, is no older than any data file (an overwrite of the same
/// directory removes the old <c>.metadata</c> before its new one appears, and its new data files are newer than an
/// old one) and every file has settled.
/// <para>
/// Without a global <c>.metadata</c>, per-rank <c>__R.metadata</c> files (each rank's own index) count ranks
/// instead: complete when every rank <c>0..W-1</c> has one, W the world size the file names show (with several nodes
/// sharing the directory, a multiple of the node count), and nothing has changed for the quiet period (a rank whose
/// files have not appeared yet is not visible in the names).
/// </para>
/// <para>
/// Node-local directories (<see cref="DetectorOptions.NodeCount"/> above 1 without
/// <see cref="DetectorOptions.SharedDirectory"/>): a node other than the coordinator's sees only its own ranks'
/// <c>__R_I.distcp</c> files and never <c>.metadata</c>; its part is complete when those files cover consecutive
/// ranks and have not changed for the quiet period. The group commit makes the step whole only once node 0's part,
/// which holds <c>.metadata</c>, is in as well. On node 0 the global rule applies.
/// </para>
/// <para>The snapshot holds that directory; the step comes from its name, or from <c>--step-from</c>.</para>
/// </summary>
/// <param name="options">Settings shared by the detectors: quiet period, step pattern, node rank and count, clock.</param>
public sealed partial class DcpDetector(DetectorOptions options) : CheckpointDetector(options)
{
    /// <summary>The global metadata file the coordinator writes last.</summary>
    public const string MetadataFile = ".metadata";

    // Nodes of a shared directory may stamp files with slightly different clocks; an overwrite is far later than this.
    private static readonly TimeSpan ClockTolerance = TimeSpan.FromSeconds(2);

    /// <inheritdoc />
    public override string Name => "dcp";

    /// <inheritdoc />
    public override string? Recognize(string directory) => UnlessVanished(directory, Recognized);

    private static string? Recognized(string directory)
    {
        // Only --dir itself or its immediate subdirectories: deeper ones belong to a layout around them (a Hugging Face
        // or Accelerate checkpoint holding an FSDP state dict), and Megatron's iter_N/ directories to Megatron.
        if (!Directory.Exists(directory))
        {
            return null;
        }

        var shallow = Directory.EnumerateFiles(directory, "*.distcp").Any()
            || Directory.EnumerateDirectories(directory).Any(d => !MegatronDetector.IsIterationDirectory(Path.GetFileName(d))
                && Directory.EnumerateFiles(d, "*.distcp").Any());
        return shallow ? "PyTorch distributed checkpoint (*.distcp) directories" : null;
    }

    internal override Checkpoint? Scan(ScanContext context)
    {
        var all = context.FilesUnder("");
        var candidates = all.Where(f => DataFile().IsMatch(FileName(f)))
            .Select(Folder)
            .Distinct(StringComparer.Ordinal)
            .Select(folder => (Folder: folder, Step: StepOf(folder, StepNumbers.FromFileName)))
            .OrderByDescending(c => c.Step)
            .ToList();
        Checkpoint? newest = null;
        foreach (var (folder, step) in candidates)
        {
            // The directory's own files; --dir itself as the checkpoint takes only its top level.
            var files = folder.Length == 0 ? all.Where(f => !f.Contains('/', StringComparison.Ordinal)).ToList() : all.Where(f => f.StartsWith(folder + "/", StringComparison.Ordinal)).ToList();
            if (Complete(context, folder, files) && newest is null)
            {
                newest = context.Found(Name, step, folder.Length == 0 ? "." : folder + "/", files);
            }
        }

        return newest;
    }

    /// <summary>Whether one checkpoint directory is complete (observing all of its files either way).</summary>
    private bool Complete(ScanContext context, string folder, List<string> files)
    {
        var names = files.Where(f => Folder(f) == folder).Select(FileName).ToList();
        var global = Join(folder, MetadataFile);
        if (names.Contains(MetadataFile, StringComparer.Ordinal))
        {
            // The coordinator wrote .metadata after every rank reported: a marker, so the settle period suffices.
            return context.Settled(files, context.Options.SettlePeriod) && NotOlderThanData(context, global, files);
        }

        var rankMetadata = names.Select(n => RankMetadata().Match(n)).Where(m => m.Success).Select(m => Ranks.Parse(m.Groups[1].Value)).OfType<int>().ToHashSet();
        var dataRanks = names.Select(n => DataFile().Match(n)).Where(m => m.Success).Select(m => Ranks.Parse(m.Groups[1].Value)).OfType<int>().ToHashSet();
        var quiet = context.Settled(files, context.Options.QuietPeriod);
        if (rankMetadata.Count > 0)
        {
            // Every rank that wrote data has its index, and the indexes cover 0..W-1 (this node's ranks when node-local).
            // With a shared directory every node's ranks are there: as many as a multiple of the node count.
            return quiet && dataRanks.IsSubsetOf(rankMetadata) && Ranks.Complete(rankMetadata, fromZero: !NodeLocal)
                && (NodeLocal || rankMetadata.Count % Options.NodeCount == 0)
                && rankMetadata.All(r => NotOlderThanData(context, Join(folder, $"__{r}.metadata"), files.Where(f => DataFile().Match(FileName(f)) is { Success: true } m && m.Groups[1].Value == r.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        }

        // A node other than the coordinator's never sees .metadata: its part is its own ranks' data, settled.
        return NodeLocal && Options.NodeRank != 0 && quiet && Ranks.Complete(dataRanks, fromZero: false);
    }

    // A marker older than the data beside it belongs to the checkpoint that was there before an overwrite.
    private static bool NotOlderThanData(ScanContext context, string marker, IEnumerable<string> files)
    {
        var written = File.GetLastWriteTimeUtc(context.FullPath(marker));
        return files.Where(f => f.EndsWith(".distcp", StringComparison.Ordinal))
            .All(f => File.GetLastWriteTimeUtc(context.FullPath(f)) <= written + ClockTolerance);
    }

    private static string Folder(string relative)
    {
        var slash = relative.LastIndexOf('/');
        return slash < 0 ? "" : relative[..slash];
    }

    private static string FileName(string relative) => relative[(relative.LastIndexOf('/') + 1)..];

    private static string Join(string folder, string name) => folder.Length == 0 ? name : folder + "/" + name;

    // __R_I.distcp: rank R's I-th data file (FileSystemWriter names them by rank and file index).
    [GeneratedRegex(@"^__(\d+)_(\d+)\.distcp$")]
    private static partial Regex DataFile();

    [GeneratedRegex(@"^__(\d+)\.metadata$")]
    private static partial Regex RankMetadata();
}
