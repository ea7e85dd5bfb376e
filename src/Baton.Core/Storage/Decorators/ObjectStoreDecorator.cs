namespace Baton.Storage.Decorators;

/// <summary>
/// Base of the store decorators: forwards every member to the inner store, so that a decorator overrides only what
/// it changes. Disposing the decorator disposes the inner store.
/// </summary>
/// <param name="inner">The store to forward to; owned (and disposed) by the decorator.</param>
public abstract class ObjectStoreDecorator(IObjectStore inner) : IObjectStore
{
    /// <summary>The decorated store.</summary>
    protected IObjectStore Inner { get; } = inner ?? throw new ArgumentNullException(nameof(inner));

    /// <inheritdoc />
    public virtual string Location => Inner.Location;

    /// <inheritdoc />
    public virtual StoreCapabilities Capabilities => Inner.Capabilities;

    /// <inheritdoc />
    public virtual Task PutAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken = default) =>
        Inner.PutAsync(key, data, mode, cancellationToken);

    /// <inheritdoc />
    public virtual Task<Stream> OpenReadAsync(string key, long offset = 0, long length = -1, CancellationToken cancellationToken = default) =>
        Inner.OpenReadAsync(key, offset, length, cancellationToken);

    /// <inheritdoc />
    public virtual Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default) =>
        Inner.StatAsync(key, cancellationToken);

    /// <inheritdoc />
    public virtual IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
        Inner.ListAsync(prefix, cancellationToken);

    /// <inheritdoc />
    public virtual Task DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        Inner.DeleteAsync(key, cancellationToken);

    /// <inheritdoc />
    public virtual Task<string?> FindUnlistedEntryAsync(CancellationToken cancellationToken = default) =>
        Inner.FindUnlistedEntryAsync(cancellationToken);

    /// <inheritdoc />
    public virtual async ValueTask DisposeAsync()
    {
        await Inner.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }
}
