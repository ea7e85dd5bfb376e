using System.Text.RegularExpressions;

namespace Baton.Checkpoints;

/// <summary>
/// NVIDIA NeMo (<c>exp_manager</c>'s checkpoint callback): checkpoints are <c>*.ckpt</c> or <c>*.nemo</c> files, or
/// directories (distributed checkpoints, NeMo 2), named like <c>model--val_loss=1.23-step=400-consumed_samples=...</c>
/// with a <c>-last</c> twin. Before saving <c>NAME</c> the callback creates the marker <c>NAME-unfinished</c> (its
/// <c>.ckpt</c>/<c>.nemo</c> suffix and any <c>mp_rank_XX/</c> or <c>tp_rank_XX_pp_rank_YYY/</c> folder taken out),
/// waits for every rank, saves, waits again and removes the marker: a checkpoint is complete when no marker names it
/// and its files have settled.
/// <para>
/// The snapshot holds every complete checkpoint (the top-k and the <c>-last</c> one a resume looks for). While a save
/// is in progress (a marker is there) or one finished a moment ago (not settled yet) the snapshot waits for it, so it
/// never goes without the <c>-last</c> checkpoint saved right after a top-k one; a marker left behind by a trainer that died holds nothing back (its checkpoint is left out; NeMo
/// removes such leftovers when it starts again). The step is the highest <c>step=N</c> among the names, or from
/// <c>--step-from</c>; where the trainer saves <c>-last</c> checkpoints, among the complete <c>-last</c> ones only (NeMo
/// resumes from nothing else), and with none complete there is no checkpoint.
/// </para>
/// </summary>
/// <param name="options">Settings shared by the detectors: quiet period, step pattern, node rank and count, clock.</param>
public sealed partial class NemoDetector(DetectorOptions options) : CheckpointDetector(options)
{
    /// <summary>The suffix of NeMo's in-progress marker.</summary>
    public const string UnfinishedSuffix = "-unfinished";

    private readonly Dictionary<string, DateTime> _markers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTime> _leftBehind = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public override string Name => "nemo";

    /// <inheritdoc />
    public override string? Recognize(string directory) => UnlessVanished(directory, Recognized);

    private static string? Recognized(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return null;
        }

        var names = Directory.EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories).Select(Path.GetFileName);
        return names.Any(n => n!.EndsWith(UnfinishedSuffix, StringComparison.Ordinal) || n.EndsWith(".nemo", StringComparison.Ordinal) || NemoName().IsMatch(n))
            ? "NeMo checkpoints (NAME-unfinished markers, *.nemo, model--...-step=N names)"
            : null;
    }

    /// <summary>Also remembers the markers present now: their saves died with the trainer and will never finish.</summary>
    public override int OnWriterDied()
    {
        foreach (var (marker, written) in _markers)
        {
            _leftBehind[marker] = written;
        }

        return base.OnWriterDied();
    }

    internal override Checkpoint? Scan(ScanContext context)
    {
        var all = context.FilesUnder("");
        var markers = all.Where(f => f.EndsWith(UnfinishedSuffix, StringComparison.Ordinal)).ToList();
        _markers.Clear();
        foreach (var marker in markers)
        {
            _markers[marker] = File.GetLastWriteTimeUtc(context.FullPath(marker));
        }

        // A marker of a save in progress (not one left behind by a dead trainer, unless written anew) holds everything back.
        var active = markers.FirstOrDefault(m => !(_leftBehind.TryGetValue(m, out var written) && written == _markers[m]));
        foreach (var gone in _leftBehind.Keys.Where(k => !_markers.ContainsKey(k)).ToList())
        {
            _leftBehind.Remove(gone);
        }

        var unfinished = markers.Select(m => m[..^UnfinishedSuffix.Length]).ToHashSet(StringComparer.Ordinal);
        var units = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var file in all.Where(f => !f.EndsWith(UnfinishedSuffix, StringComparison.Ordinal)))
        {
            if (UnitOf(file, unfinished) is { } key)
            {
                if (!units.TryGetValue(key, out var list))
                {
                    units[key] = list = [];
                }

                list.Add(file);
            }
        }

        var complete = new List<(string Key, long? Step, List<string> Files)>();
        string? settling = null;
        var settle = context.Options.SettlePeriod;
        foreach (var (key, unitFiles) in units)
        {
            var settled = context.Settled(unitFiles, settle);
            if (unfinished.Contains(key))
            {
                continue;
            }

            if (settled)
            {
                complete.Add((key, StepOf(key, StepNumbers.FromFileName), unitFiles));
            }
            else if (unitFiles.All(f => context.StableFor(f, settle) is not null))
            {
                settling = key; // finished a moment ago (not one cut off by a dead writer): wait for it
            }
        }

        // A save in progress, or one that just finished (the -last save follows the top-k one at once): the snapshot
        // waits rather than go without the checkpoint a resume looks for.
        if (context.Live && (active ?? settling) is { } pending)
        {
            context.Pending = pending.EndsWith(UnfinishedSuffix, StringComparison.Ordinal) ? pending[..^UnfinishedSuffix.Length] : pending;
            context.RecheckWithin(settle);
            return null;
        }

        // A trainer that saves -last checkpoints resumes only from one: without a complete one (a kill cut off the
        // newest, and the one before was deleted when it was written) nothing here is resumable yet.
        var resumable = units.Keys.Concat(unfinished).Any(IsLast) ? complete.Where(c => IsLast(c.Key)).ToList() : complete;
        if (resumable.Count == 0)
        {
            return null;
        }

        var newest = resumable.Any(c => c.Step is not null) ? resumable.Where(c => c.Step is not null).MaxBy(c => c.Step!.Value) : resumable[0];
        // Every complete checkpoint up to that step goes along; a newer top-k one belongs to a later snapshot.
        var files = complete.Where(c => newest.Step is null || c.Step is null || c.Step <= newest.Step).SelectMany(c => c.Files);
        return context.Found(Name, newest.Step, newest.Key, files);
    }

    private static bool IsLast(string key) => key.EndsWith("-last", StringComparison.Ordinal);

    /// <summary>
    /// The checkpoint a file belongs to, as its marker names it (path without <c>.ckpt</c>/<c>.nemo</c> and without a
    /// model-parallel rank folder), or null for a file outside any checkpoint (logs, configuration).
    /// </summary>
    private static string? UnitOf(string file, HashSet<string> unfinished)
    {
        var segments = file.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            var isFile = i == segments.Length - 1;
            var path = string.Join('/', segments.Take(i + 1).Where((s, index) => !(index == i - 1 && RankFolder().IsMatch(s))));
            var stripped = Strip(path);
            var checkpoint = segment.EndsWith(".ckpt", StringComparison.Ordinal) || segment.EndsWith(".nemo", StringComparison.Ordinal)
                || (!isFile && (NemoName().IsMatch(segment) || segment.EndsWith("-last", StringComparison.Ordinal)))
                || unfinished.Contains(stripped);
            if (checkpoint && !RankFolder().IsMatch(segment))
            {
                return stripped;
            }
        }

        return null;
    }

    private static string Strip(string path) =>
        path.EndsWith(".nemo", StringComparison.Ordinal) ? path[..^5] : path.EndsWith(".ckpt", StringComparison.Ordinal) ? path[..^5] : path;

    // NeMo's default checkpoint names: the model name, "--", then the monitored metrics including step=N.
    [GeneratedRegex(@"--.*step=\d+")]
    private static partial Regex NemoName();

    // The model-parallel rank folders NeMo injects into a checkpoint's path (and takes out again for the marker).
    [GeneratedRegex(@"^(?:mp_rank_\d+|tp_rank_\d+(?:_pp_rank_\d+)?)$")]
    private static partial Regex RankFolder();
}
