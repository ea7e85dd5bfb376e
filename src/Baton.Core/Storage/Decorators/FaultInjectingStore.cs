using System.Runtime.CompilerServices;

namespace Baton.Storage.Decorators;

/// <summary>
/// Injects the faults of a real network into a store, for tests: failed requests, writes whose response is lost
/// after they took effect, reads that break off mid-transfer, listings that break off, and latency. Faults are
/// drawn from a seeded generator (<see cref="FaultOptions"/>). Thread-safe.
/// </summary>
/// <param name="inner">The store to forward to; owned (and disposed) by the decorator.</param>
/// <param name="options">Which faults, how often, and the seed.</param>
public sealed class FaultInjectingStore(IObjectStore inner, FaultOptions options) : ObjectStoreDecorator(inner)
{
    private readonly Random _random = new(options.Seed);
    private int _injected;

    /// <summary>How many faults were injected so far.</summary>
    public int Injected => Volatile.Read(ref _injected);

    /// <inheritdoc />
    public override async Task PutAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken = default)
    {
        await BeforeAsync("write", key, cancellationToken).ConfigureAwait(false);
        await Inner.PutAsync(key, data, mode, cancellationToken).ConfigureAwait(false);
        AfterWrite("write", key);
    }

    /// <inheritdoc />
    public override async Task<Stream> OpenReadAsync(string key, long offset = 0, long length = -1, CancellationToken cancellationToken = default)
    {
        await BeforeAsync("read", key, cancellationToken).ConfigureAwait(false);
        var stream = await Inner.OpenReadAsync(key, offset, length, cancellationToken).ConfigureAwait(false);
        if (!Draw(options.TruncatedReadRate))
        {
            return stream;
        }

        // Break after a random part of the requested range (or of the first megabyte when the range is open).
        var span = length >= 0 ? length : 1 << 20;
        return new BreakingStream(stream, Next(span), this, key);
    }

    /// <inheritdoc />
    public override async Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default)
    {
        await BeforeAsync("stat", key, cancellationToken).ConfigureAwait(false);
        return await Inner.StatAsync(key, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await BeforeAsync("list", prefix, cancellationToken).ConfigureAwait(false);
        var breakAfter = Draw(options.BrokenListRate) ? Next(4) : long.MaxValue;
        long delivered = 0;
        await foreach (var info in Inner.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            if (delivered++ >= breakAfter)
            {
                throw Fault("list", prefix, "the listing broke off");
            }

            yield return info;
        }
    }

    /// <inheritdoc />
    public override async Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        await BeforeAsync("delete", key, cancellationToken).ConfigureAwait(false);
        await Inner.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        AfterWrite("delete", key);
    }

    private async Task BeforeAsync(string operation, string key, CancellationToken cancellationToken)
    {
        if (options.MaxLatency > TimeSpan.Zero)
        {
            var delay = TimeSpan.FromTicks(Next(options.MaxLatency.Ticks + 1));
            await Task.Delay(delay, options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }

        if (Draw(options.FailRate))
        {
            throw Fault(operation, key, "the request failed");
        }
    }

    private void AfterWrite(string operation, string key)
    {
        if (Draw(options.LostResponseRate))
        {
            throw Fault(operation, key, "the connection dropped after the store did the work");
        }
    }

    private StoreException Fault(string operation, string key, string what)
    {
        Interlocked.Increment(ref _injected);
        return new StoreException(options.Reason, Location, key, $"injected fault: {operation} '{key}' in {Location}: {what}");
    }

    private bool Draw(double rate)
    {
        if (rate <= 0)
        {
            return false;
        }

        lock (_random)
        {
            return _random.NextDouble() < rate;
        }
    }

    private long Next(long bound)
    {
        lock (_random)
        {
            return _random.NextInt64(Math.Max(1, bound));
        }
    }

    private sealed class BreakingStream(Stream inner, long breakAfter, FaultInjectingStore owner, string key) : ReadStreamDecorator(inner)
    {
        private long _delivered;

        public override int Read(Span<byte> buffer)
        {
            var read = Inner.Read(buffer[..Allowed(buffer.Length)]);
            return Count(read);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await Inner.ReadAsync(buffer[..Allowed(buffer.Length)], cancellationToken).ConfigureAwait(false);
            return Count(read);
        }

        private int Allowed(int wanted)
        {
            if (_delivered >= breakAfter && wanted > 0)
            {
                Interlocked.Increment(ref owner._injected);
                throw new IOException($"injected fault: reading '{key}' broke off after {_delivered} bytes");
            }

            return (int)Math.Min(wanted, breakAfter - _delivered);
        }

        private int Count(int read)
        {
            _delivered += read;
            return read;
        }
    }
}
