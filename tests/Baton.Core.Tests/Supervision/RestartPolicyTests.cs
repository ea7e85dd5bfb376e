using Baton.Journal;
using Baton.Supervision;

namespace Baton.Tests.Supervision;

public sealed class RestartPolicyTests
{
    private static readonly RestartOptions Options = new()
    {
        MaxRestarts = 10, CrashLoopLimit = 3, InitialBackoff = TimeSpan.FromSeconds(1), MaxBackoff = TimeSpan.FromSeconds(8),
    };

    [Fact]
    public void Failures_in_a_row_without_a_new_checkpoint_are_a_crash_loop()
    {
        var policy = new RestartPolicy(Options, new Random(1));

        Assert.True(policy.OnFailure(madeProgress: false).Restart);
        Assert.True(policy.OnFailure(madeProgress: false).Restart);
        var third = policy.OnFailure(madeProgress: false);

        Assert.False(third.Restart);
        Assert.Equal(LegEndReasons.CrashLoop, third.GiveUpReason);
        Assert.Equal(2, policy.Restarts);
    }

    [Fact]
    public void A_new_checkpoint_resets_the_crash_loop_count()
    {
        var policy = new RestartPolicy(Options, new Random(1));
        for (var i = 0; i < 6; i++)
        {
            Assert.True(policy.OnFailure(madeProgress: i % 2 == 0).Restart);
        }
    }

    [Fact]
    public void The_restart_budget_ends_even_a_trainer_that_makes_progress()
    {
        var policy = new RestartPolicy(Options with { MaxRestarts = 2 }, new Random(1));
        Assert.True(policy.OnFailure(madeProgress: true).Restart);
        Assert.True(policy.OnFailure(madeProgress: true).Restart);

        var decision = policy.OnFailure(madeProgress: true);

        Assert.False(decision.Restart);
        Assert.Equal(LegEndReasons.MaxRestarts, decision.GiveUpReason);
    }

    [Fact]
    public void The_delay_doubles_with_each_fruitless_failure_within_jitter_and_stops_at_the_maximum()
    {
        var policy = new RestartPolicy(Options with { CrashLoopLimit = 0 }, new Random(7));
        var ceilings = new[] { 1, 2, 4, 8, 8, 8 };
        foreach (var ceiling in ceilings)
        {
            var delay = policy.OnFailure(madeProgress: false).Delay;
            Assert.InRange(delay.TotalSeconds, ceiling / 2.0, ceiling);
        }
    }

    [Fact]
    public void Progress_brings_the_delay_back_to_the_first_step()
    {
        var policy = new RestartPolicy(Options with { CrashLoopLimit = 0 }, new Random(3));
        policy.OnFailure(false);
        policy.OnFailure(false);
        policy.OnFailure(false);
        Assert.InRange(policy.OnFailure(madeProgress: true).Delay.TotalSeconds, 0.5, 1);
    }
}
