using System.Runtime.CompilerServices;
using Polly;
using Polly.Retry;

namespace Baton.Storage.Decorators;

/// <summary>
/// Retries operations that fail with <see cref="StoreErrorReason.Transient"/>, with exponential backoff and jitter
/// (Polly). Reads that break mid-transfer resume where they stopped; listings are retried whole, so no key is seen
/// twice. A create-if-absent write that is retried after a lost response and then finds the object holding exactly
/// its own bytes counts as done: the first attempt did succeed, only its answer was lost.
/// </summary>
public sealed class RetryingStore : ObjectStoreDecorator
{
    private readonly ResiliencePipeline _pipeline;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    public RetryingStore(IObjectStore inner, RetryOptions? options = null)
        : base(inner)
    {
        options ??= new RetryOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxAttempts, 1);
        var builder = new ResiliencePipelineBuilder { TimeProvider = options.TimeProvider };
        if (options.MaxAttempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<StoreException>(e => e.IsTransient),
                MaxRetryAttempts = options.MaxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                Randomizer = options.Randomizer ?? Random.Shared.NextDouble,
            });
        }

        _pipeline = builder.Build();
    }

    /// <inheritdoc />
    public override async Task PutAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken = default)
    {
        var failedBefore = false;
        await _pipeline.ExecuteAsync(async ct =>
        {
            try
            {
                await Inner.PutAsync(key, data, mode, ct).ConfigureAwait(false);
            }
            catch (StoreException e) when (e.IsTransient)
            {
                failedBefore = true;
                throw;
            }
            catch (StoreException e) when (e.Reason == StoreErrorReason.AlreadyExists && failedBefore)
            {
                // An earlier attempt may have written the object with only its response lost: then it holds our bytes.
                if (!await HoldsAsync(key, data, ct).ConfigureAwait(false))
                {
                    throw;
                }
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async Task<Stream> OpenReadAsync(string key, long offset = 0, long length = -1, CancellationToken cancellationToken = default)
    {
        var first = await _pipeline.ExecuteAsync(
            async ct => await Inner.OpenReadAsync(key, offset, length, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        return new ResumingReadStream(first, _pipeline, Location, key, offset, length,
            (position, remaining, ct) => Inner.OpenReadAsync(key, position, remaining, ct));
    }

    /// <inheritdoc />
    public override Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default) =>
        _pipeline.ExecuteAsync(async ct => await Inner.StatAsync(key, ct).ConfigureAwait(false), cancellationToken).AsTask();

    /// <inheritdoc />
    public override async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var all = await _pipeline.ExecuteAsync(
            async ct => await Inner.ListAllAsync(prefix, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        foreach (var info in all)
        {
            yield return info;
        }
    }

    /// <inheritdoc />
    public override Task DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        _pipeline.ExecuteAsync(async ct => await Inner.DeleteAsync(key, ct).ConfigureAwait(false), cancellationToken).AsTask();

    private async Task<bool> HoldsAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        // Through this store, not the inner one: a read that breaks off part-way resumes instead of failing the put.
        var info = await StatAsync(key, cancellationToken).ConfigureAwait(false);
        if (info?.Size != data.Length)
        {
            return false;
        }

        var stored = await this.ReadAllAsync(key, cancellationToken).ConfigureAwait(false);
        return data.Span.SequenceEqual(stored);
    }
}
