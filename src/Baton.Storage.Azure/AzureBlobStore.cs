using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Baton.Storage.Decorators;

namespace Baton.Storage.Azure;

/// <summary>
/// A store in an Azure Blob Storage container. Blobs are written whole (one request, or blocks in parallel that
/// become visible only when the block list is committed), read with ranged GETs, and created-if-absent with
/// <c>If-None-Match: *</c>, which the service enforces. A missing container is created on the first write when
/// <see cref="AzureBlobStoreOptions.CreateContainer"/> allows; until then it reads as empty. Thread-safe.
/// </summary>
public sealed class AzureBlobStore : IObjectStore
{
    private readonly AzureBlobStoreOptions _options;
    private readonly BlobContainerClient _container;
    private readonly string _root;
    private readonly string _where;

    /// <summary>Creates a store; no request is made until it is used.</summary>
    public AzureBlobStore(AzureBlobStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _container = options.Service.GetBlobContainerClient(options.Container);
        _root = options.Prefix.Length == 0 ? "" : options.Prefix.Trim('/') + "/";
        Location = $"az://{options.Container}{(_root.Length == 0 ? "" : "/" + _root.TrimEnd('/'))}";
        _where = $"{Location} (account {options.Service.AccountName})";
        Capabilities = new StoreCapabilities(AtomicCreate: true, Math.Max(1, options.Concurrency));
    }

    /// <inheritdoc />
    public string Location { get; }

    /// <inheritdoc />
    public StoreCapabilities Capabilities { get; }

    /// <inheritdoc />
    public async Task PutAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        try
        {
            await PutOnceAsync(key, data, mode, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (AzureErrors.IsContainerMissing(e) && _options.CreateContainer)
        {
            await CreateContainerAsync(cancellationToken).ConfigureAwait(false);
            await PutOnceAsync(key, data, mode, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(string key, long offset = 0, long length = -1, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length == 0)
        {
            _ = await StatAsync(key, cancellationToken).ConfigureAwait(false) ?? throw NotFound(key);
            return new MemoryStream([], writable: false);
        }

        // A range from 0 to the end is left out: services refuse "bytes=0-" on an empty blob.
        var range = offset == 0 && length < 0 ? default : new HttpRange(offset, length < 0 ? null : length);
        try
        {
            var response = await Blob(key).DownloadStreamingAsync(new BlobDownloadOptions { Range = range }, cancellationToken).ConfigureAwait(false);
            return new DownloadStream(response.Value);
        }
        catch (RequestFailedException e) when (e.Status == 416)
        {
            // The range starts at or past the end of an existing blob: nothing to read.
            return new MemoryStream([], writable: false);
        }
        catch (Exception e) when (AzureErrors.IsNotFound(e))
        {
            throw NotFound(key, e);
        }
        catch (Exception e) when (IsStoreFailure(e, cancellationToken))
        {
            throw Classify(e, key, "read");
        }
    }

    /// <inheritdoc />
    public async Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        try
        {
            var properties = await Blob(key).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return new ObjectInfo(key, properties.Value.ContentLength) { LastModified = properties.Value.LastModified, VersionTag = properties.Value.ETag.ToString("H") };
        }
        catch (Exception e) when (AzureErrors.IsNotFound(e))
        {
            return null;
        }
        catch (Exception e) when (IsStoreFailure(e, cancellationToken))
        {
            throw Classify(e, key, "stat");
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var pages = _container.GetBlobsAsync(new GetBlobsOptions { Prefix = _root + prefix }, cancellationToken).AsPages().GetAsyncEnumerator(cancellationToken);
        await using var _ = pages.ConfigureAwait(false);
        while (await NextPageAsync(pages, cancellationToken).ConfigureAwait(false))
        {
            foreach (var item in pages.Current.Values)
            {
                yield return new ObjectInfo(item.Name[_root.Length..], item.Properties.ContentLength ?? 0)
                {
                    LastModified = item.Properties.LastModified,
                    VersionTag = item.Properties.ETag?.ToString("H"), // quoted, as Stat gives it (a listing gives it bare)
                };
            }
        }
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        try
        {
            await Blob(key).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (AzureErrors.IsNotFound(e))
        {
            // The container is gone too: deleting is idempotent.
        }
        catch (Exception e) when (IsStoreFailure(e, cancellationToken))
        {
            throw Classify(e, key, "delete");
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private BlobClient Blob(string key) => _container.GetBlobClient(_root + key);

    private async Task PutOnceAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken)
    {
        var options = new BlobUploadOptions
        {
            TransferOptions = new StorageTransferOptions
            {
                InitialTransferSize = _options.SingleUploadLimit,
                MaximumTransferSize = _options.BlockSize,
                MaximumConcurrency = Math.Max(1, _options.BlockConcurrency),
            },
            // The service enforces this on the single upload and on the block-list commit alike.
            Conditions = mode == PutMode.CreateNew ? new BlobRequestConditions { IfNoneMatch = ETag.All } : null,
        };
        try
        {
            await Blob(key).UploadAsync(BinaryData.FromBytes(data), options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (mode == PutMode.CreateNew && AzureErrors.IsAlreadyExists(e))
        {
            throw new StoreException(StoreErrorReason.AlreadyExists, Location, key, $"object '{key}' already exists in {_where}", e);
        }
        catch (Exception e) when (!AzureErrors.IsContainerMissing(e) && IsStoreFailure(e, cancellationToken))
        {
            throw Classify(e, key, "write");
        }
    }

    private async Task<bool> NextPageAsync(IAsyncEnumerator<Page<BlobItem>> pages, CancellationToken cancellationToken)
    {
        try
        {
            return await pages.MoveNextAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (AzureErrors.IsContainerMissing(e))
        {
            return false;
        }
        catch (Exception e) when (IsStoreFailure(e, cancellationToken))
        {
            throw Classify(e, null, "list");
        }
    }

    private async Task CreateContainerAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsStoreFailure(e, cancellationToken))
        {
            var cause = Classify(e, null, "create container");
            var reason = cause.Reason == StoreErrorReason.Transient ? StoreErrorReason.Transient : StoreErrorReason.Unauthorized;
            var code = e is RequestFailedException { ErrorCode: { } errorCode } ? errorCode : e.GetType().Name;
            throw new StoreException(reason, Location, null,
                $"container '{_options.Container}' of {_where} does not exist and could not be created ({code}): create it, or use credentials that may create containers", e);
        }
    }

    private static bool IsStoreFailure(Exception e, CancellationToken cancellationToken) =>
        e is not StoreException and not ArgumentException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested);

    private StoreException Classify(Exception e, string? key, string operation) => AzureErrors.Classify(e, _options, Location, _where, key, operation);

    private StoreException NotFound(string key, Exception? e = null) =>
        new(StoreErrorReason.NotFound, Location, key, $"object '{key}' not found in {_where}", e);

    /// <summary>The body of a download; disposing it closes the response.</summary>
    private sealed class DownloadStream(BlobDownloadStreamingResult result) : ReadStreamDecorator(result.Content)
    {
        protected override void OnDisposed() => result.Dispose();
    }
}
