namespace Baton.Storage.Decorators;

/// <summary>What <see cref="StoreStack.Wrap"/> puts around a store.</summary>
public sealed record StoreStackOptions
{
    /// <summary>The defaults the command line uses.</summary>
    public static StoreStackOptions Default { get; } = new();

    /// <summary>How transient faults are retried; <c>null</c> for no retries.</summary>
    public RetryOptions? Retry { get; init; } = new();

    /// <summary>
    /// At most this many operations at once; <c>null</c> for the store's own <see cref="StoreCapabilities.Concurrency"/>,
    /// 0 for no limit.
    /// </summary>
    public int? MaxConcurrency { get; init; }

    /// <summary>Faults to inject beneath the other decorators (tests only); <c>null</c> for none.</summary>
    public FaultOptions? Faults { get; init; }
}

/// <summary>
/// The one place where stores get their decorators, in this order from the outside in: retries (so that waiting
/// between attempts holds no slot), the concurrency limit, then injected faults (tests only), then the store.
/// </summary>
public static class StoreStack
{
    /// <summary>Wraps <paramref name="store"/>; disposing the result disposes the store.</summary>
    public static IObjectStore Wrap(IObjectStore store, StoreStackOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        options ??= StoreStackOptions.Default;
        if (options.Faults is { } faults)
        {
            store = new FaultInjectingStore(store, faults);
        }

        var limit = options.MaxConcurrency ?? store.Capabilities.Concurrency;
        if (limit > 0)
        {
            store = new ConcurrencyLimitedStore(store, limit);
        }

        if (options.Retry is { } retry)
        {
            store = new RetryingStore(store, retry);
        }

        return store;
    }
}
