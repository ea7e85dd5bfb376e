using Baton.Repositories;

namespace Baton.Retention;

/// <summary>One snapshot's fate under a policy, with the reasons it is kept.</summary>
/// <param name="Snapshot">The snapshot judged.</param>
/// <param name="Keep">Whether the policy keeps it; <c>false</c>: prune deletes its manifest.</param>
/// <param name="Reasons">The rules that keep it (<c>newest</c>, <c>tagged</c>, <c>within</c>, <c>last</c>,
/// <c>every</c>); empty when it is dropped.</param>
public sealed record RetentionDecision(Snapshot Snapshot, bool Keep, IReadOnlyList<string> Reasons);

/// <summary>Applies a <see cref="RetentionPolicy"/> to a run's snapshots. Pure: no I/O.</summary>
public static class RetentionPlanner
{
    /// <summary>
    /// Decides for each snapshot (any order) whether to keep it. The newest snapshot and every snapshot named in
    /// <paramref name="tagged"/> (by id) are always kept; with an empty policy everything is kept.
    /// </summary>
    public static IReadOnlyList<RetentionDecision> Plan(IReadOnlyList<Snapshot> snapshots, RetentionPolicy policy,
        IReadOnlySet<string> tagged, DateTimeOffset now)
    {
        var newestFirst = snapshots.OrderByDescending(s => s.Sequence).ToList();
        var reasons = newestFirst.ToDictionary(s => s.Sequence, _ => new List<string>());
        if (newestFirst.Count == 0)
        {
            return [];
        }

        reasons[newestFirst[0].Sequence].Add("newest");
        foreach (var snapshot in newestFirst)
        {
            if (tagged.Contains(snapshot.Id))
            {
                reasons[snapshot.Sequence].Add("tagged");
            }

            if (policy.IsEmpty)
            {
                reasons[snapshot.Sequence].Add("no policy");
            }

            if (policy.KeepWithin is { } within && now - snapshot.Manifest.Created <= within)
            {
                reasons[snapshot.Sequence].Add("within");
            }
        }

        if (policy.KeepLast is { } last)
        {
            foreach (var snapshot in newestFirst.Take(last))
            {
                reasons[snapshot.Sequence].Add("last");
            }
        }

        if (policy.KeepEvery is { } every)
        {
            // The newest snapshot of each bucket of steps; snapshots without a step are never kept by this rule.
            var seen = new HashSet<long>();
            foreach (var snapshot in newestFirst.Where(s => s.Manifest.Step is not null))
            {
                if (seen.Add(snapshot.Manifest.Step!.Value / every))
                {
                    reasons[snapshot.Sequence].Add("every");
                }
            }
        }

        return newestFirst.Select(s => new RetentionDecision(s, reasons[s.Sequence].Count > 0, reasons[s.Sequence])).ToList();
    }
}
