using Baton.Storage;
using Baton.Storage.Decorators;

namespace Baton.Tests.Storage.Decorators;

/// <summary>A store whose operations first run a script (fail, wait, count), then go to a folder store.</summary>
internal sealed class ScriptedStore(IObjectStore inner) : ObjectStoreDecorator(inner)
{
    private int _calls;

    /// <summary>Runs before each operation with the operation's number (1, 2, ...) and name.</summary>
    public Func<int, string, Task>? Before { get; set; }

    /// <summary>Runs after each successful write with the operation's number.</summary>
    public Action<int>? AfterWrite { get; set; }

    public int Calls => Volatile.Read(ref _calls);

    public override async Task PutAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken = default)
    {
        var call = await BeforeAsync("put");
        await Inner.PutAsync(key, data, mode, cancellationToken);
        AfterWrite?.Invoke(call);
    }

    public override async Task<Stream> OpenReadAsync(string key, long offset = 0, long length = -1, CancellationToken cancellationToken = default)
    {
        await BeforeAsync("read");
        return await Inner.OpenReadAsync(key, offset, length, cancellationToken);
    }

    public override async Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default)
    {
        await BeforeAsync("stat");
        return await Inner.StatAsync(key, cancellationToken);
    }

    public override async Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        await BeforeAsync("delete");
        await Inner.DeleteAsync(key, cancellationToken);
    }

    public static StoreException Transient(string what = "injected") => new(StoreErrorReason.Transient, "test", null, what);

    private async Task<int> BeforeAsync(string operation)
    {
        var call = Interlocked.Increment(ref _calls);
        if (Before is { } before)
        {
            await before(call, operation);
        }

        return call;
    }
}
