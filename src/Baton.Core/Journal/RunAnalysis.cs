using Baton.Snapshots;

namespace Baton.Journal;

/// <summary>Work lost when a leg ended without warning: the time since its last durable checkpoint.</summary>
/// <param name="Leg">The leg's id.</param>
/// <param name="At">When the leg was last heard from.</param>
/// <param name="Lost">Time between the last durable checkpoint and the end of the leg.</param>
public sealed record LostWork(string Leg, DateTimeOffset At, TimeSpan Lost);

/// <summary>
/// What a run's history says: work lost at each preemption, the cost of a checkpoint, how long machines live, and
/// the checkpoint interval that loses the least work in expectation (Young's and Daly's formulas).
/// </summary>
public sealed record RunAnalysis
{
    /// <summary>One entry per leg that ended without a clean stop (killed, preempted without notice).</summary>
    public required IReadOnlyList<LostWork> Losses { get; init; }

    /// <summary>Mean seconds a push took to make a checkpoint durable.</summary>
    public double? PushSeconds { get; init; }

    /// <summary>Mean time between failures, from the legs that were lost.</summary>
    public TimeSpan? MeanTimeBetweenFailures { get; init; }

    /// <summary>The interval the run actually used between durable checkpoints (median).</summary>
    public TimeSpan? ActualInterval { get; init; }

    /// <summary>Young's optimal interval, sqrt(2 C M).</summary>
    public TimeSpan? YoungInterval { get; init; }

    /// <summary>Daly's higher-order optimal interval.</summary>
    public TimeSpan? DalyInterval { get; init; }

    /// <summary>Bytes of all snapshots as files (what a copy per checkpoint would store).</summary>
    public long LogicalBytes { get; init; }

    /// <summary>Bytes of chunks that were new when pushed (after deduplication).</summary>
    public long NewBytes { get; init; }

    /// <summary>Bytes written to the store (after compression).</summary>
    public long StoredBytes { get; init; }

    /// <summary>Logical bytes over new bytes.</summary>
    public double? DedupRatio => NewBytes > 0 ? (double)LogicalBytes / NewBytes : null;

    /// <summary>New bytes over stored bytes.</summary>
    public double? CompressionRatio => StoredBytes > 0 ? (double)NewBytes / StoredBytes : null;

    /// <summary>Analyses a run. <paramref name="isLost"/> says whether a leg ended without a clean stop.</summary>
    public static RunAnalysis Of(IReadOnlyList<Leg> legs, IReadOnlyList<Snapshot> snapshots, Func<Leg, bool> isLost)
    {
        var commits = snapshots.Select(s => s.Manifest.Created).Order().ToList();
        var losses = new List<LostWork>();
        foreach (var leg in legs.Where(isLost))
        {
            var end = leg.Ended ?? leg.Updated;
            var lastDurable = commits.LastOrDefault(c => c <= end);
            var since = lastDurable == default || lastDurable < leg.Started ? leg.Started : lastDurable;
            losses.Add(new LostWork(leg.Id, end, end - since));
        }

        var pushes = snapshots.Select(s => s.Manifest.Stats.Seconds).Where(s => s > 0).ToList();
        var observed = legs.Aggregate(TimeSpan.Zero, (sum, leg) => sum + ((leg.Ended ?? leg.Updated) - leg.Started));
        TimeSpan? mtbf = losses.Count > 0 ? observed / losses.Count : null;
        var gaps = commits.Zip(commits.Skip(1), (a, b) => b - a).Where(g => g > TimeSpan.Zero).Order().ToList();
        double? cost = pushes.Count > 0 ? pushes.Average() : null;
        var (young, daly) = cost is { } c && mtbf is { } m ? Intervals(c, m.TotalSeconds) : (null, null);
        return new RunAnalysis
        {
            Losses = losses,
            PushSeconds = cost,
            MeanTimeBetweenFailures = mtbf,
            ActualInterval = gaps.Count > 0 ? gaps[gaps.Count / 2] : null,
            YoungInterval = young,
            DalyInterval = daly,
            LogicalBytes = snapshots.Sum(s => s.Manifest.Stats.Bytes),
            NewBytes = snapshots.Sum(s => s.Manifest.Stats.BytesNew),
            StoredBytes = snapshots.Sum(s => s.Manifest.Stats.BytesStored),
        };
    }

    /// <summary>
    /// Young (1974): sqrt(2 C M). Daly (2006): sqrt(2 C M) (1 + sqrt(C / 2M) / 3 + C / 18M) − C when C &lt; 2M, else M.
    /// </summary>
    public static (TimeSpan? Young, TimeSpan? Daly) Intervals(double costSeconds, double mtbfSeconds)
    {
        if (costSeconds <= 0 || mtbfSeconds <= 0)
        {
            return (null, null);
        }

        var young = Math.Sqrt(2 * costSeconds * mtbfSeconds);
        var daly = costSeconds < 2 * mtbfSeconds
            ? (young * (1 + (Math.Sqrt(costSeconds / (2 * mtbfSeconds)) / 3) + (costSeconds / (18 * mtbfSeconds)))) - costSeconds
            : mtbfSeconds;
        return (TimeSpan.FromSeconds(young), TimeSpan.FromSeconds(daly));
    }
}
