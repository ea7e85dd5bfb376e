using System.Globalization;
using System.Text.RegularExpressions;

namespace Baton.Checkpoints;

/// <summary>
/// Megatron-LM (and Megatron-based trainers): <c>latest_checkpointed_iteration.txt</c> names the newest iteration,
/// whose checkpoint is the directory <c>iter_NNNNNNN/</c> (seven digits) with one <c>mp_rank_TT/</c> or
/// <c>mp_rank_TT_PPP/</c> subdirectory per tensor/pipeline-parallel rank (<c>--ckpt-format torch</c>), or
/// <c>*.distcp</c> files and <c>.metadata</c> (<c>torch_dist</c>). <c>save_checkpoint</c> in
/// <c>megatron/training/checkpointing.py</c> writes every rank's files, waits at a barrier, and only then has rank 0
/// write the tracker file, in place (<c>open(..., 'w')</c>): a reader can see it empty or half-written, so anything
/// but a whole number (or <c>release</c>) is "not yet", never step 0. Complete when the tracker has settled, names a
/// directory that exists, whose rank subdirectories cover every tensor and pipeline rank from 0, whose
/// <c>torch_dist</c> files come with their <c>.metadata</c>, and whose files have settled.
/// <para>
/// Node-local directories: rank 0 writes the tracker (and, for <c>torch_dist</c>, the <c>.metadata</c>), so other
/// nodes never see it; a node's part is its newest <c>iter_NNNNNNN/</c> directory once its rank directories are
/// consecutive and nothing in it has changed for the quiet period.
/// </para>
/// <para>The snapshot holds the tracker and that directory; the step is the iteration.</para>
/// </summary>
/// <param name="options">Settings shared by the detectors: quiet period, step pattern, node rank and count, clock.</param>
public sealed partial class MegatronDetector(DetectorOptions options) : CheckpointDetector(options)
{
    /// <summary>The tracker file rank 0 writes after every rank saved.</summary>
    public const string TrackerFile = "latest_checkpointed_iteration.txt";

    /// <inheritdoc />
    public override string Name => "megatron";

    /// <summary>Whether a directory name is Megatron's <c>iter_NNNNNNN</c>.</summary>
    public static bool IsIterationDirectory(string? name) => name is not null && IterationDirectory().IsMatch(name);

    /// <inheritdoc />
    public override string? Recognize(string directory) => UnlessVanished(directory, Recognized);

    private static string? Recognized(string directory)
    {
        if (File.Exists(Path.Combine(directory, TrackerFile)))
        {
            return "a Megatron latest_checkpointed_iteration.txt";
        }

        return Directory.Exists(directory) && Directory.EnumerateDirectories(directory).Any(d => IsIterationDirectory(Path.GetFileName(d)))
            ? "Megatron iter_NNNNNNN directories"
            : null;
    }

    internal override Checkpoint? Scan(ScanContext context)
    {
        if (!File.Exists(context.FullPath(TrackerFile)))
        {
            return NodeLocal && Options.NodeRank != 0 ? NewestPart(context) : null;
        }

        var text = context.ReadText(TrackerFile)?.Trim();
        string folder;
        long? iteration;
        if (text == "release")
        {
            (folder, iteration) = ("release", null);
        }
        else if (text is not null && StepNumbers.Parse(text) is { } parsed)
        {
            (folder, iteration) = ("iter_" + parsed.ToString("D7", CultureInfo.InvariantCulture), parsed);
        }
        else
        {
            // Empty or cut short: the tracker is being written in place. Look again shortly.
            context.Pending = TrackerFile;
            context.RecheckWithin(context.Options.SettlePeriod);
            return null;
        }

        var files = context.FilesUnder(folder);
        var settle = context.Options.SettlePeriod;
        // The tracker must have settled too: "12" may be the first bytes of "120" and name an older directory.
        var settled = context.Settled([TrackerFile, .. files], settle);
        if (files.Count == 0 || !settled || !RanksComplete(files, folder))
        {
            context.Pending = folder;
            return null;
        }

        return context.Found(Name, StepOf(folder, _ => iteration), folder + "/", [TrackerFile, .. files]);
    }

    // A node without the tracker: its newest iteration directory once it has been quiet.
    private Checkpoint? NewestPart(ScanContext context)
    {
        Checkpoint? newest = null;
        var candidates = context.Names("", directories: true).Where(IsIterationDirectory)
            .Select(n => (Name: n, Step: StepOf(n, x => StepNumbers.Parse(x["iter_".Length..]))))
            .OrderByDescending(c => c.Step);
        foreach (var (name, step) in candidates)
        {
            var files = context.FilesUnder(name);
            if (files.Count > 0 && context.Settled(files, context.Options.QuietPeriod) && RanksComplete(files, name, needsMetadata: false) && newest is null)
            {
                newest = context.Found(Name, step, name + "/", files);
            }
        }

        return newest;
    }

    private bool RanksComplete(List<string> files, string folder, bool needsMetadata = true)
    {
        var prefix = folder + "/";
        var relative = files.Select(f => f[prefix.Length..]).ToList();
        if (needsMetadata && relative.Any(f => f.EndsWith(".distcp", StringComparison.Ordinal)) && !relative.Contains(DcpDetector.MetadataFile, StringComparer.Ordinal))
        {
            return false;
        }

        var ranks = relative.Where(f => f.Contains('/', StringComparison.Ordinal))
            .Select(f => RankDirectory().Match(f[..f.IndexOf('/', StringComparison.Ordinal)]))
            .Where(m => m.Success)
            .Select(m => (Tensor: Ranks.Parse(m.Groups[1].Value) ?? -1, Pipeline: m.Groups[2].Success ? Ranks.Parse(m.Groups[2].Value) ?? -1 : 0))
            .Distinct()
            .ToList();
        if (ranks.Count == 0)
        {
            return true; // torch_dist, or a layout without rank subdirectories
        }

        // Every (tensor, pipeline) pair of the grid; a node of a node-local run sees only its own pairs.
        var fromZero = !NodeLocal;
        var tensors = ranks.Select(r => r.Tensor).ToHashSet();
        var pipelines = ranks.Select(r => r.Pipeline).ToHashSet();
        return Ranks.Complete(tensors, fromZero) && Ranks.Complete(pipelines, fromZero)
            && (NodeLocal || ranks.Count == tensors.Count * pipelines.Count);
    }

    [GeneratedRegex(@"^iter_\d{7,}$")]
    private static partial Regex IterationDirectory();

    // mp_rank_TT (tensor parallel) or mp_rank_TT_PPP (tensor and pipeline parallel), as get_checkpoint_name names them.
    [GeneratedRegex(@"^mp_rank_(\d+)(?:_(\d+))?$")]
    private static partial Regex RankDirectory();
}
