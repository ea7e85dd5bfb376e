using System.Diagnostics;
using Baton.Journal;
using Baton.Platform;
using Baton.Repositories;

namespace Baton.Tests.Journal;

/// <summary>Work lost, checkpoint cost and machine lifetimes from a run's legs and snapshots; and who judges a leg lost.</summary>
public sealed class RunAnalysisTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Work_lost_is_the_newest_reached_checkpoint_minus_the_newest_durable_one_in_steps_and_seconds()
    {
        // Step 20 was written at T0+100s and committed at T0+110s; the trainer had written step 45 at T0+130s when the
        // machine went at T0+140s.
        var snapshots = new[] { Snapshot(20, written: T0.AddSeconds(100), created: T0.AddSeconds(110)) };
        var lost = Leg("a", T0, updated: T0.AddSeconds(140)) with { ReachedStep = 45, ReachedAt = T0.AddSeconds(130) };

        var loss = Assert.Single(RunAnalysis.Of([lost], snapshots, _ => true).Losses);

        Assert.Equal(45, loss.ReachedStep);
        Assert.Equal(20, loss.DurableStep);
        Assert.Equal(25, loss.Steps);
        Assert.Equal(TimeSpan.FromSeconds(30), loss.Lost);
    }

    [Fact]
    public void Work_lost_is_unknown_for_a_leg_that_did_not_record_what_it_reached()
    {
        var snapshots = new[] { Snapshot(20, written: T0.AddSeconds(100), created: T0.AddSeconds(110)) };
        var older = Leg("a", T0, updated: T0.AddSeconds(140));

        var loss = Assert.Single(RunAnalysis.Of([older], snapshots, _ => true).Losses);

        Assert.Null(loss.Steps);
        Assert.Null(loss.Lost);
    }

    [Fact]
    public void Work_lost_after_pruning_takes_the_durable_step_from_the_leg_that_restored_it()
    {
        // Only a later snapshot is left; the next leg restored step 20, which is what was durable when the first was lost.
        var snapshots = new[] { Snapshot(90, written: T0.AddSeconds(500), created: T0.AddSeconds(510)) };
        var lost = Leg("a", T0, updated: T0.AddSeconds(140)) with { ReachedStep = 45, ReachedAt = T0.AddSeconds(130) };
        var next = Leg("b", T0.AddSeconds(200), updated: T0.AddSeconds(600)) with
        {
            Ended = T0.AddSeconds(600), RestoredStep = 20, RestoredSnapshot = "s20",
        };

        var loss = Assert.Single(RunAnalysis.Of([lost, next], snapshots, l => l.Id == "a").Losses);

        Assert.Equal(20, loss.DurableStep);
        Assert.Equal(25, loss.Steps);
        Assert.Null(loss.Lost);
    }

    [Fact]
    public void The_interval_advice_uses_the_trainers_save_time_and_is_unknown_without_it()
    {
        var snapshots = new[]
        {
            Snapshot(10, T0.AddSeconds(50), T0.AddSeconds(60)),
            Snapshot(20, T0.AddSeconds(150), T0.AddSeconds(160)),
        };
        // The first leg's last rewrite carries a clock ahead of the machine that replaced it at T0+1000: it cannot have
        // lived past that start. The second leg ended at T0+3000.
        var first = Leg("a", T0, updated: T0.AddSeconds(1500)) with { ReachedStep = 20, ReachedAt = T0.AddSeconds(150) };
        var second = Leg("b", T0.AddSeconds(1000), updated: T0.AddSeconds(5000)) with { Ended = T0.AddSeconds(3000) };

        var unmeasured = RunAnalysis.Of([first, second], snapshots, l => l.Id == "a");
        var measured = RunAnalysis.Of([first with { SaveSeconds = 2, SavesMeasured = 2 }, second with { SaveSeconds = 5, SavesMeasured = 1 }], snapshots, l => l.Id == "a");

        Assert.Equal(7.0, unmeasured.PushSeconds);
        Assert.Null(unmeasured.SaveSeconds);
        Assert.Null(unmeasured.YoungInterval);
        Assert.Equal(TimeSpan.FromSeconds(3000), unmeasured.MeanTimeBetweenFailures);
        Assert.Equal(3.0, measured.SaveSeconds);
        Assert.Equal(Math.Sqrt(2 * 3.0 * 3000), measured.YoungInterval!.Value.TotalSeconds, 3);
    }

    [Fact]
    public void A_leg_whose_supervisor_is_gone_from_this_machine_is_lost_even_while_its_record_is_fresh()
    {
        var here = ProcessIdentity.Current;
        Assert.True(here.IsComplete, "this test needs /proc");
        using var exited = Process.Start("true")!;
        exited.WaitForExit();
        var leg = Leg("a", T0, updated: T0.AddSeconds(30)) with
        {
            Host = "this-host", Pid = exited.Id, BootId = here.BootId, PidNamespace = here.PidNamespace, ProcessStart = 1,
        };
        var alive = leg with { Pid = Environment.ProcessId, ProcessStart = here.StartTime };
        var now = T0.AddSeconds(40);

        Assert.Equal(LegStates.Lost, LegStates.Of(leg, newest: true, now, "this-host"));
        Assert.Equal(LegStates.Running, LegStates.Of(leg, newest: true, now, "another-host"));
        Assert.Equal(LegStates.Running, LegStates.Of(leg with { BootId = "another-boot" }, newest: true, now, "this-host"));
        Assert.Equal(LegStates.Running, LegStates.Of(alive, newest: true, now, "this-host"));
        Assert.Equal(LegStates.Lost, LegStates.Of(alive, newest: true, T0.AddMinutes(10), "this-host"));
        Assert.Equal(LegStates.Lost, LegStates.Of(alive, newest: false, now, "this-host"));
        Assert.Equal(LegStates.Ended, LegStates.Of(leg with { Ended = now }, newest: true, now, "this-host"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_leg_whose_supervisor_is_a_zombie_not_yet_reaped_is_lost()
    {
        var here = ProcessIdentity.Current;
        // The shell becomes a sleep that never reaps; its background child exits only after that exec (exiting before it,
        // the shell could still reap it).
        var info = new ProcessStartInfo("sh") { RedirectStandardOutput = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("sleep 0.5 & echo $!; exec sleep 60");
        using var parent = Process.Start(info)!;
        try
        {
            var pid = int.Parse((await parent.StandardOutput.ReadLineAsync())!, System.Globalization.CultureInfo.InvariantCulture);
            for (var i = 0; i < 600 && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal); i++)
            {
                await Task.Delay(50);
            }

            Assert.Contains(") Z ", File.ReadAllText($"/proc/{pid}/stat"), StringComparison.Ordinal);
            var leg = Leg("a", T0, updated: T0.AddSeconds(30)) with
            {
                Host = "this-host", Pid = pid, BootId = here.BootId, PidNamespace = here.PidNamespace, ProcessStart = ProcessIdentity.ReadStartTime(pid),
            };

            Assert.Equal(LegStates.Lost, LegStates.Of(leg, newest: true, T0.AddSeconds(40), "this-host"));
        }
        finally
        {
            parent.Kill();
            await parent.WaitForExitAsync();
        }
    }

    private static Leg Leg(string id, DateTimeOffset started, DateTimeOffset updated) =>
        new() { Id = id, Run = "r", Started = started, Updated = updated };

    private static Snapshot Snapshot(long step, DateTimeOffset written, DateTimeOffset created) => new($"s{step}", new SnapshotManifest
    {
        Run = "r", Step = step, Created = created,
        Entries = [new SnapshotEntry { Path = "w.bin", Kind = EntryKind.File, MTime = (written - DateTimeOffset.UnixEpoch).Ticks }],
        Stats = new SnapshotStats { Seconds = 7 },
    });
}
