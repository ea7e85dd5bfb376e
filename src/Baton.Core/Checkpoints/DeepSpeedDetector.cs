using System.Text.RegularExpressions;

namespace Baton.Checkpoints;

/// <summary>
/// DeepSpeed (<c>engine.save_checkpoint(save_dir, tag)</c>): the text file <c>latest</c> names a tag directory
/// (<c>global_stepN/</c> by default) holding <c>mp_rank_MM_model_states.pt</c> per model-parallel rank and, with ZeRO,
/// <c>zero_pp_rank_D_mp_rank_MM_optim_states.pt</c> per data-parallel rank (ZeRO-3 also names its model states by
/// data-parallel rank; bf16 prefixes <c>bf16_</c>). The engine writes <c>latest</c> on rank 0 before its final
/// barrier, so other ranks may still be writing when it appears: complete when <c>latest</c> names a directory whose
/// files cover every rank the names imply (data-parallel 0..max for each model-parallel rank, model-parallel 0..max,
/// at least one model-states file) and nothing there or in <c>latest</c> (written in place) changed for the quiet
/// period.
/// <para>
/// Node-local directories: a node sees only its own ranks' files (and, other than node 0, no <c>latest</c>); its part
/// is the directory <c>latest</c> names, or else its newest tag directory, once its ranks are consecutive and nothing
/// changed for the quiet period.
/// </para>
/// <para>The snapshot holds <c>latest</c> and the tag directory; the step is N of <c>global_stepN</c>.</para>
/// </summary>
/// <param name="options">Settings shared by the detectors: quiet period, step pattern, node rank and count, clock.</param>
public sealed partial class DeepSpeedDetector(DetectorOptions options) : CheckpointDetector(options)
{
    /// <summary>The file naming the newest tag.</summary>
    public const string LatestFile = "latest";

    /// <inheritdoc />
    public override string Name => "deepspeed";

    /// <inheritdoc />
    public override string? Recognize(string directory) => UnlessVanished(directory, Recognized);

    private static string? Recognized(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return null;
        }

        if (File.Exists(Path.Combine(directory, LatestFile)) && Directory.EnumerateDirectories(directory).Any())
        {
            return "a DeepSpeed 'latest' file";
        }

        return Directory.EnumerateDirectories(directory).Any(d => Tag().IsMatch(Path.GetFileName(d)) && Directory.EnumerateFiles(d).Any(f => IsStateFile(Path.GetFileName(f))))
            ? "DeepSpeed global_stepN directories"
            : null;
    }

    internal override Checkpoint? Scan(ScanContext context)
    {
        if (File.Exists(context.FullPath(LatestFile)))
        {
            var tag = context.ReadText(LatestFile)?.Trim();
            if (string.IsNullOrEmpty(tag) || tag.Contains('/', StringComparison.Ordinal) || tag.Contains('\\', StringComparison.Ordinal) || tag is "." or ".."
                || !Directory.Exists(context.FullPath(tag)))
            {
                // Written in place: empty or cut short for a moment, or naming a directory not there yet.
                context.Pending = LatestFile;
                context.RecheckWithin(context.Options.SettlePeriod);
                return null;
            }

            var files = context.FilesUnder(tag);
            if (!context.Settled([LatestFile, .. files], context.Options.QuietPeriod) || !RanksComplete(files))
            {
                context.Pending = tag;
                return null;
            }

            return context.Found(Name, StepOf(tag, StepOfTag), tag + "/", [LatestFile, .. files]);
        }

        return NodeLocal && Options.NodeRank != 0 ? NewestPart(context) : null;
    }

    private Checkpoint? NewestPart(ScanContext context)
    {
        Checkpoint? newest = null;
        var candidates = context.Names("", directories: true)
            .Select(n => (Name: n, Step: StepOf(n, StepOfTag)))
            .Where(c => c.Step is not null)
            .OrderByDescending(c => c.Step);
        foreach (var (name, step) in candidates)
        {
            var files = context.FilesUnder(name);
            if (files.Any(f => IsStateFile(FileName(f))) && context.Settled(files, context.Options.QuietPeriod) && RanksComplete(files) && newest is null)
            {
                newest = context.Found(Name, step, name + "/", files);
            }
        }

        return newest;
    }

    private static long? StepOfTag(string tag) =>
        Tag().Match(tag) is { Success: true } match ? StepNumbers.Parse(match.Groups[1].Value) : StepNumbers.FromFileName(tag);

    // The rank grid the file names imply, with no gaps: each kind of per-rank file covers the same model-parallel
    // ranks, and each data-parallel kind the same data-parallel ranks for every one of them.
    private bool RanksComplete(List<string> files)
    {
        var fromZero = !NodeLocal;
        var perDataRank = new Dictionary<string, List<(int Data, int Model)>>(StringComparer.Ordinal);
        var modelOnly = new HashSet<int>();
        var models = 0;
        foreach (var name in files.Select(FileName))
        {
            if (ZeroFile().Match(name) is { Success: true } zero && Ranks.Parse(zero.Groups[2].Value) is { } data && Ranks.Parse(zero.Groups[3].Value) is { } model)
            {
                var kind = zero.Groups[1].Value + zero.Groups[4].Value;
                if (!perDataRank.TryGetValue(kind, out var list))
                {
                    perDataRank[kind] = list = [];
                }

                list.Add((data, model));
                models += zero.Groups[4].Value == "model" ? 1 : 0;
            }
            else if (ModelFile().Match(name) is { Success: true } modelFile && Ranks.Parse(modelFile.Groups[1].Value) is { } rank)
            {
                modelOnly.Add(rank);
                models++;
            }
        }

        if (models == 0 && !NodeLocal)
        {
            return false;
        }

        var modelRanks = modelOnly.Concat(perDataRank.Values.SelectMany(l => l.Select(p => p.Model))).ToHashSet();
        if (modelRanks.Count > 0 && !Ranks.Complete(modelRanks, fromZero))
        {
            return false;
        }

        if (modelOnly.Count > 0 && !modelOnly.SetEquals(modelRanks) && !NodeLocal)
        {
            return false;
        }

        HashSet<int>? dataRanks = null;
        foreach (var pairs in perDataRank.Values)
        {
            foreach (var group in pairs.GroupBy(p => p.Model))
            {
                var ranks = group.Select(p => p.Data).ToHashSet();
                if (!Ranks.Complete(ranks, fromZero) || (dataRanks is not null && !dataRanks.SetEquals(ranks)))
                {
                    return false;
                }

                dataRanks = ranks;
            }

            if (!NodeLocal && pairs.Select(p => p.Model).ToHashSet().Count != modelRanks.Count)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsStateFile(string name) => ZeroFile().IsMatch(name) || ModelFile().IsMatch(name);

    private static string FileName(string relative) => relative[(relative.LastIndexOf('/') + 1)..];

    [GeneratedRegex(@"^global_step(\d+)$")]
    private static partial Regex Tag();

    // [bf16_]zero_pp_rank_D_mp_rank_MM_{optim,model}_states.pt: per data-parallel rank D and model-parallel rank MM.
    [GeneratedRegex(@"^(bf16_|fp32_)?zero_pp_rank_(\d+)_mp_rank_(\d+)_(optim|model)_states\.pt$")]
    private static partial Regex ZeroFile();

    // mp_rank_MM_model_states.pt: the module's state per model-parallel rank.
    [GeneratedRegex(@"^mp_rank_(\d+)_model_states\.pt$")]
    private static partial Regex ModelFile();
}
