using Baton.Journal;

namespace Baton.Tests.Journal;

/// <summary>The legs of a multi-node run run side by side: one node's later leg does not make another's lost.</summary>
public sealed class GroupLegTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 4, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Four_nodes_legs_of_one_attempt_are_all_running_and_a_lost_node_is_named_with_the_groups_durable_step()
    {
        var legs = Enumerable.Range(0, 4).Select(r => Leg(r, "job.1", Start.AddSeconds(r), updated: Start.AddMinutes(1))).ToList();
        var now = Start.AddMinutes(1.5);

        Assert.All(LegStates.Of(legs, now, "elsewhere"), state => Assert.Equal(LegStates.Running, state));

        // Node 3 went silent at step 40 (durable: 30); the next attempt's node 3 restored step 30.
        legs[3] = legs[3] with { Updated = Start.AddSeconds(30), ReachedStep = 40, ReachedAt = Start.AddSeconds(29) };
        var next = Enumerable.Range(0, 4).Select(r => Leg(r, "job.2", Start.AddMinutes(2), updated: Start.AddMinutes(3)) with
        {
            RestoredStep = 30, RestoredSnapshot = "abc",
        });
        var all = legs.Select(l => l with { Ended = l.NodeRank == 3 ? null : Start.AddMinutes(1), EndReason = l.NodeRank == 3 ? null : "finished" })
            .Concat(next).ToList();
        var states = LegStates.Of(all, Start.AddMinutes(3.5), "elsewhere");

        Assert.Equal(LegStates.Lost, states[3]);
        Assert.All(states.Skip(4), state => Assert.Equal(LegStates.Running, state));
        var loss = Assert.Single(RunAnalysis.Of(all, [], l => l.Ended is null && all.IndexOf(l) < 4).Losses);
        Assert.Equal((3, "job.1", 40L, 30L, 10L), (loss.NodeRank!.Value, loss.GroupId!, loss.ReachedStep!.Value, loss.DurableStep!.Value, loss.Steps!.Value));
    }

    private static Leg Leg(int rank, string group, DateTimeOffset started, DateTimeOffset updated) => new()
    {
        Id = $"{started:yyyyMMddTHHmmssfff}Z-{group}-{rank}", Run = "r", Host = $"gpu-{rank}", Started = started, Updated = updated,
        NodeRank = rank, Nodes = 4, GroupId = group,
    };
}
