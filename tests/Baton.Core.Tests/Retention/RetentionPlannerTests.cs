using Baton.Repositories;
using Baton.Retention;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Baton.Tests.Retention;

public sealed class RetentionPlannerTests
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    [Property(MaxTest = 300)]
    public Property The_newest_and_tagged_snapshots_are_always_kept(PositiveInt count, int[] tagPicks, PositiveInt keepLast)
    {
        var snapshots = MakeSnapshots(Math.Min(count.Get, 60));
        var tagged = tagPicks.Select(p => snapshots[Math.Abs(p % snapshots.Count)].Id).ToHashSet();
        var plan = RetentionPlanner.Plan(snapshots, new RetentionPolicy { KeepLast = Math.Min(keepLast.Get, 5) }, tagged, s_now);
        var newest = snapshots.MaxBy(s => s.Sequence)!;
        return (plan.Single(d => d.Snapshot == newest).Keep
            && plan.Where(d => tagged.Contains(d.Snapshot.Id)).All(d => d.Keep)).ToProperty();
    }

    [Property(MaxTest = 300)]
    public Property Keep_last_keeps_exactly_the_newest_n_when_it_is_the_only_rule(PositiveInt count, PositiveInt n)
    {
        var snapshots = MakeSnapshots(Math.Min(count.Get, 60));
        var plan = RetentionPlanner.Plan(snapshots, new RetentionPolicy { KeepLast = n.Get }, new HashSet<string>(), s_now);
        var expected = snapshots.OrderByDescending(s => s.Sequence).Take(n.Get).Select(s => s.Sequence).ToHashSet();
        return plan.All(d => d.Keep == expected.Contains(d.Snapshot.Sequence)).ToProperty();
    }

    [Property(MaxTest = 300)]
    public Property Keep_every_keeps_exactly_one_snapshot_per_bucket_of_steps(PositiveInt count, PositiveInt every)
    {
        var snapshots = MakeSnapshots(Math.Min(count.Get, 80));
        var k = Math.Min(every.Get, 1000);
        var plan = RetentionPlanner.Plan(snapshots, new RetentionPolicy { KeepEvery = k }, new HashSet<string>(), s_now);
        var keptByRule = plan.Where(d => d.Reasons.Contains("every")).ToList();
        var buckets = snapshots.Select(s => s.Manifest.Step!.Value / k).Distinct().Count();
        var onePerBucket = keptByRule.GroupBy(d => d.Snapshot.Manifest.Step!.Value / k).All(g => g.Count() == 1);
        return (keptByRule.Count == buckets && onePerBucket).ToProperty();
    }

    [Fact]
    public void Keep_within_keeps_recent_snapshots_and_removes_older_ones()
    {
        var snapshots = MakeSnapshots(10);
        var plan = RetentionPlanner.Plan(snapshots, new RetentionPolicy { KeepWithin = TimeSpan.FromHours(3.5) }, new HashSet<string>(), s_now);
        // MakeSnapshots spaces snapshots an hour apart ending at now: #10..#7 are within 3.5 hours.
        Assert.Equal([7L, 8, 9, 10], plan.Where(d => d.Keep).Select(d => d.Snapshot.Sequence).Order());
    }

    [Fact]
    public void An_empty_policy_keeps_everything()
    {
        var plan = RetentionPlanner.Plan(MakeSnapshots(7), new RetentionPolicy(), new HashSet<string>(), s_now);
        Assert.All(plan, d => Assert.True(d.Keep));
    }

    [Theory]
    [InlineData(0, null, null, "--keep-last")]
    [InlineData(null, 0L, null, "--keep-every")]
    public void Nonsense_values_are_usage_errors(int? last, long? every, string? within, string option)
    {
        var policy = new RetentionPolicy { KeepLast = last, KeepEvery = every, KeepWithin = within is null ? null : TimeSpan.Parse(within, System.Globalization.CultureInfo.InvariantCulture) };
        var error = Assert.Throws<UsageException>(policy.Validate);
        Assert.Contains(option, error.Message, StringComparison.Ordinal);
    }

    private static List<Snapshot> MakeSnapshots(int count) => Enumerable.Range(1, count).Select(i => new Snapshot(
        $"{i:x16}",
        new SnapshotManifest
        {
            Run = "r",
            Sequence = i,
            Step = i * 137L,
            Created = s_now - TimeSpan.FromHours(count - i),
            Entries = [],
        })).ToList();
}
