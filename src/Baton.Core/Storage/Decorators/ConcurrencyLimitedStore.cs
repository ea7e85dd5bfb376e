namespace Baton.Storage.Decorators;

/// <summary>
/// Lets at most a fixed number of operations reach the inner store at once; the rest wait their turn. An open read
/// stream holds its slot until it is disposed, since the transfer is still running. Listings are not limited: they
/// are one request at a time and are never held open by a caller that waits for a slot.
/// </summary>
public sealed class ConcurrencyLimitedStore : ObjectStoreDecorator
{
    private readonly SemaphoreSlim _slots;

    /// <summary>Wraps <paramref name="inner"/> with <paramref name="limit"/> slots.</summary>
    public ConcurrencyLimitedStore(IObjectStore inner, int limit)
        : base(inner)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        Limit = limit;
        _slots = new SemaphoreSlim(limit, limit);
    }

    /// <summary>How many operations may run at once.</summary>
    public int Limit { get; }

    /// <summary>How many slots are taken now.</summary>
    public int InUse => Limit - _slots.CurrentCount;

    /// <inheritdoc />
    public override StoreCapabilities Capabilities => Inner.Capabilities with { Concurrency = Math.Min(Limit, Inner.Capabilities.Concurrency) };

    /// <inheritdoc />
    public override async Task PutAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken = default)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Inner.PutAsync(key, data, mode, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <inheritdoc />
    public override async Task<Stream> OpenReadAsync(string key, long offset = 0, long length = -1, CancellationToken cancellationToken = default)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var stream = await Inner.OpenReadAsync(key, offset, length, cancellationToken).ConfigureAwait(false);
            return new SlotStream(stream, _slots);
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    /// <inheritdoc />
    public override async Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await Inner.StatAsync(key, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <inheritdoc />
    public override async Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Inner.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }

    private sealed class SlotStream(Stream inner, SemaphoreSlim slots) : ReadStreamDecorator(inner)
    {
        protected override void OnDisposed() => slots.Release();
    }
}
