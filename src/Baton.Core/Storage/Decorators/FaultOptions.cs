namespace Baton.Storage.Decorators;

/// <summary>
/// Which faults <see cref="FaultInjectingStore"/> injects and how often. Each rate is a probability per operation,
/// drawn from a generator seeded with <see cref="Seed"/>, so a run can be repeated.
/// </summary>
public sealed record FaultOptions
{
    /// <summary>Seed of the fault generator.</summary>
    public int Seed { get; init; }

    /// <summary>The operation fails before it reaches the store (a refused request, a timeout): nothing happens.</summary>
    public double FailRate { get; init; }

    /// <summary>
    /// A write or delete reaches the store and takes effect, then the connection drops: the caller sees a failure
    /// although the work was done.
    /// </summary>
    public double LostResponseRate { get; init; }

    /// <summary>A read stream breaks off partway through its data, as a dropped connection does.</summary>
    public double TruncatedReadRate { get; init; }

    /// <summary>A listing breaks off after some of its keys were delivered.</summary>
    public double BrokenListRate { get; init; }

    /// <summary>Each operation first waits a random time up to this long.</summary>
    public TimeSpan MaxLatency { get; init; }

    /// <summary>The reason the injected failures carry; <see cref="StoreErrorReason.Transient"/> unless a test wants otherwise.</summary>
    public StoreErrorReason Reason { get; init; } = StoreErrorReason.Transient;

    /// <summary>The clock the latency is measured on.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The same failure rate for every kind of fault (failures, lost responses, truncated reads, broken listings).</summary>
    public static FaultOptions Uniform(double rate, int seed) => new()
    {
        Seed = seed,
        FailRate = rate,
        LostResponseRate = rate,
        TruncatedReadRate = rate,
        BrokenListRate = rate,
    };
}
