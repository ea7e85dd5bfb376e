namespace Baton.Storage.Decorators;

/// <summary>How <see cref="RetryingStore"/> retries transient faults: exponential backoff with jitter.</summary>
public sealed record RetryOptions
{
    /// <summary>Attempts per operation, the first included. At least 1.</summary>
    public int MaxAttempts { get; init; } = 6;

    /// <summary>The delay before the first retry; later delays grow exponentially (with jitter).</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>No single delay is longer than this.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The clock the delays are measured on; tests pass a fake one.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The source of jitter, a number in [0, 1); <c>null</c> for a shared random source.</summary>
    public Func<double>? Randomizer { get; init; }
}
