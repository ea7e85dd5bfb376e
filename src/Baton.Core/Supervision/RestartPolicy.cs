namespace Baton.Supervision;

/// <summary>When a failed trainer is restarted, and when the supervisor gives up.</summary>
public sealed record RestartOptions
{
    /// <summary>Restarts allowed in one leg.</summary>
    public int MaxRestarts { get; init; } = 10;

    /// <summary>Failed runs in a row without a new checkpoint that count as a crash loop.</summary>
    public int CrashLoopLimit { get; init; } = 3;

    /// <summary>The delay before the first restart; it doubles with each fruitless failure.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest delay between restarts.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromMinutes(1);
}

/// <summary>What to do after a trainer failed.</summary>
/// <param name="Restart">Whether to start it again.</param>
/// <param name="Delay">How long to wait first.</param>
/// <param name="GiveUpReason">Why not (a <see cref="Journal.LegEndReasons"/> value), when <paramref name="Restart"/> is false.</param>
/// <param name="Explanation">A one-line reason for messages.</param>
public sealed record RestartDecision(bool Restart, TimeSpan Delay, string? GiveUpReason, string Explanation);

/// <summary>
/// Exponential backoff with jitter (half to full of the doubled delay, so that many machines restarting together do
/// not stampede a store) and crash-loop detection: a run that made a new checkpoint resets both.
/// </summary>
/// <param name="options">Backoff, restart limit and crash-loop limit.</param>
/// <param name="random">The source of the jitter (seeded in tests).</param>
public sealed class RestartPolicy(RestartOptions options, Random random)
{
    /// <summary>Restarts so far.</summary>
    public int Restarts { get; private set; }

    /// <summary>Failed runs in a row that made no new checkpoint.</summary>
    public int Fruitless { get; private set; }

    /// <summary>Decides what follows a failed run; <paramref name="madeProgress"/> when it wrote a new checkpoint.</summary>
    public RestartDecision OnFailure(bool madeProgress)
    {
        ArgumentNullException.ThrowIfNull(options);
        Fruitless = madeProgress ? 0 : Fruitless + 1;
        if (options.CrashLoopLimit > 0 && Fruitless >= options.CrashLoopLimit)
        {
            return new RestartDecision(false, TimeSpan.Zero, Journal.LegEndReasons.CrashLoop,
                $"crash loop: the trainer failed {Fruitless} times in a row without writing a new checkpoint");
        }

        if (Restarts >= options.MaxRestarts)
        {
            return new RestartDecision(false, TimeSpan.Zero, Journal.LegEndReasons.MaxRestarts,
                $"the trainer failed after {Restarts} restarts (--max-restarts {options.MaxRestarts})");
        }

        Restarts++;
        var exponent = Math.Min(Math.Max(Fruitless - 1, 0), 20);
        var ceiling = TimeSpan.FromTicks(Math.Min(options.MaxBackoff.Ticks, options.InitialBackoff.Ticks * (1L << exponent)));
        var delay = ceiling * (0.5 + (random.NextDouble() * 0.5));
        return new RestartDecision(true, delay, null, $"restart {Restarts} of {options.MaxRestarts}");
    }
}
