using Baton.Repositories;

namespace Baton.Journal;

/// <summary>
/// Work lost when a leg ended without warning: from the newest durable checkpoint to the newest checkpoint the trainer
/// had reached. Null figures are unknown (a leg recorded by an older Baton, or one that reached nothing measurable).
/// </summary>
/// <param name="Leg">The leg's id.</param>
/// <param name="At">When the leg was last heard from.</param>
/// <param name="ReachedStep">The newest step the trainer had checkpointed locally.</param>
/// <param name="DurableStep">The newest step durable in the store at the time (0 when none was).</param>
/// <param name="Steps">Steps lost: reached minus durable.</param>
/// <param name="Lost">Training time lost: when the reached checkpoint was written minus when the durable one was.</param>
public sealed record LostWork(string Leg, DateTimeOffset At, long? ReachedStep, long? DurableStep, long? Steps, TimeSpan? Lost)
{
    /// <summary>In a multi-node run: the node whose leg was lost (the group lost work from <see cref="DurableStep"/>).</summary>
    public int? NodeRank { get; init; }

    /// <summary>In a multi-node run: the job attempt of the lost leg.</summary>
    public string? GroupId { get; init; }
}

/// <summary>
/// What a run's history says: work lost at each preemption, the cost of a checkpoint, how long machines live, and
/// the checkpoint interval that loses the least work in expectation (Young's and Daly's formulas).
/// </summary>
public sealed record RunAnalysis
{
    /// <summary>One entry per leg that ended without a clean stop (killed, preempted without notice).</summary>
    public required IReadOnlyList<LostWork> Losses { get; init; }

    /// <summary>Mean seconds a push took to make a checkpoint durable (in the background: training goes on meanwhile).</summary>
    public double? PushSeconds { get; init; }

    /// <summary>
    /// Mean seconds the trainer spent writing a checkpoint, as the supervisor saw the files appear: the checkpoint's
    /// cost in the interval advice. Null when no leg measured one.
    /// </summary>
    public double? SaveSeconds { get; init; }

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
        ArgumentNullException.ThrowIfNull(legs);
        ArgumentNullException.ThrowIfNull(snapshots);
        ArgumentNullException.ThrowIfNull(isLost);
        var commits = snapshots.Select(s => s.Manifest.Created).Order().ToList();
        var losses = new List<LostWork>();
        var uptime = TimeSpan.Zero;
        for (var i = 0; i < legs.Count; i++)
        {
            var leg = legs[i];
            // In a multi-node run the nodes' legs run side by side: a leg's successor is the next one of its node.
            var next = LegStates.Successor(legs, i);
            // A killed leg's last word is its last rewrite; no leg outlives the start of the one that replaced it.
            var end = leg.Ended ?? leg.Updated;
            if (next is not null && next.Started < end)
            {
                end = next.Started;
            }

            uptime += end > leg.Started ? end - leg.Started : TimeSpan.Zero;
            if (isLost(leg))
            {
                losses.Add(Loss(leg, next, snapshots) with { NodeRank = leg.NodeRank, GroupId = leg.GroupId });
            }
        }

        var pushes = snapshots.Select(s => s.Manifest.Stats.Seconds).Where(s => s > 0).ToList();
        TimeSpan? mtbf = losses.Count > 0 ? uptime / losses.Count : null;
        var gaps = commits.Zip(commits.Skip(1), (a, b) => b - a).Where(g => g > TimeSpan.Zero).Order().ToList();
        var measured = legs.Where(l => l.SaveSeconds is not null && l.SavesMeasured > 0).ToList();
        double? cost = measured.Count > 0 ? measured.Sum(l => l.SaveSeconds!.Value * l.SavesMeasured) / measured.Sum(l => l.SavesMeasured) : null;
        var (young, daly) = cost is { } c && mtbf is { } m ? Intervals(c, m.TotalSeconds) : (null, null);
        return new RunAnalysis
        {
            Losses = losses,
            PushSeconds = pushes.Count > 0 ? pushes.Average() : null,
            SaveSeconds = cost,
            MeanTimeBetweenFailures = mtbf,
            ActualInterval = gaps.Count > 0 ? gaps[gaps.Count / 2] : null,
            YoungInterval = young,
            DalyInterval = daly,
            LogicalBytes = snapshots.Sum(s => s.Manifest.Stats.Bytes),
            NewBytes = snapshots.Sum(s => s.Manifest.Stats.BytesNew),
            StoredBytes = snapshots.Sum(s => s.Manifest.Stats.BytesStored),
        };
    }

    // Newest reached minus newest durable. The durable step is the one the next leg restored when there is one (it
    // survives pruning), else the newest committed by the time the leg was last heard from.
    private static LostWork Loss(Leg leg, Leg? next, IReadOnlyList<Snapshot> snapshots)
    {
        var at = leg.Ended ?? leg.Updated;
        if (leg.ReachedStep is not { } reached || leg.ReachedAt is not { } reachedAt)
        {
            return new LostWork(leg.Id, at, null, null, null, null);
        }

        var committed = snapshots.Where(s => s.Manifest.Step is not null && !s.Manifest.Fence && s.Manifest.Created <= at)
            .OrderBy(s => s.Manifest.Step).LastOrDefault();
        // Nothing durable (the next leg started from scratch, or nothing was committed yet) counts as step 0.
        var durable = next is not null ? (next.RestoredSnapshot is null ? 0 : next.RestoredStep) : committed?.Manifest.Step ?? 0;
        if (durable is not { } durableStep)
        {
            return new LostWork(leg.Id, at, reached, null, null, null);
        }

        if (reached <= durableStep)
        {
            return new LostWork(leg.Id, at, reached, durableStep, 0, TimeSpan.Zero);
        }

        // The durable checkpoint's write time is its newest file's; with nothing durable, training began with the leg.
        DateTimeOffset? durableAt = durableStep == 0 ? (leg.RestoredSnapshot is null ? leg.Started : null) : WrittenAt(snapshots, durableStep);
        TimeSpan? lost = durableAt is { } since ? (reachedAt > since ? reachedAt - since : TimeSpan.Zero) : null;
        return new LostWork(leg.Id, at, reached, durableStep, reached - durableStep, lost);
    }

    private static DateTimeOffset? WrittenAt(IReadOnlyList<Snapshot> snapshots, long step)
    {
        var snapshot = snapshots.LastOrDefault(s => s.Manifest.Step == step && !s.Manifest.Fence);
        var ticks = snapshot?.Manifest.Entries.Where(e => e.Kind == EntryKind.File).Select(e => e.MTime).DefaultIfEmpty(0).Max() ?? 0;
        return ticks > 0 ? DateTimeOffset.UnixEpoch.AddTicks(ticks) : null;
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
