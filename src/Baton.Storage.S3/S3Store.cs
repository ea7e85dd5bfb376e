using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Baton.Storage.S3;

/// <summary>
/// A store in an S3 bucket, or in any server that speaks the S3 API (MinIO, R2, B2, Wasabi, Google Cloud Storage's
/// XML API). Objects are written whole (one PUT, or a multipart upload in parallel parts whose object appears only
/// when the upload completes), read with ranged GETs, and created-if-absent with a conditional write. A missing
/// bucket is created on the first write when <see cref="S3StoreOptions.CreateBucket"/> allows; until then it reads as
/// empty. Thread-safe.
/// </summary>
public sealed class S3Store : IObjectStore
{
    private readonly S3StoreOptions _options;
    private readonly Lazy<IAmazonS3> _client;
    private readonly string _root;
    private readonly string _where;

    /// <summary>Creates a store; no request is made until it is used.</summary>
    public S3Store(S3StoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.PartSize, 5 * 1024 * 1024);
        _options = options;
        _root = options.Prefix.Length == 0 ? "" : options.Prefix.Trim('/') + "/";
        Location = $"{options.Scheme}://{options.Bucket}{(_root.Length == 0 ? "" : "/" + _root.TrimEnd('/'))}";
        _where = options.Endpoint is null ? Location : $"{Location} at {options.Endpoint.GetLeftPart(UriPartial.Authority)}";
        _client = new Lazy<IAmazonS3>(() => S3ClientFactory.Create(options));
        // One pack upload at a time: its parts already go up in parallel, and each pack in flight is held in memory.
        Capabilities = new StoreCapabilities(options.AtomicCreate, Math.Max(1, options.Concurrency)) { PackUploads = 1 };
    }

    /// <inheritdoc />
    public string Location { get; }

    /// <inheritdoc />
    public StoreCapabilities Capabilities { get; }

    private IAmazonS3 Client => _client.Value;

    /// <inheritdoc />
    public async Task PutAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        try
        {
            await PutOnceAsync(key, data, mode, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (S3Errors.IsNoSuchBucket(e) && _options.CreateBucket)
        {
            await CreateBucketAsync(cancellationToken).ConfigureAwait(false);
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

        var request = new GetObjectRequest { BucketName = _options.Bucket, Key = _root + key };
        if (length > 0)
        {
            request.ByteRange = new ByteRange(offset, offset + length - 1);
        }
        else if (offset > 0)
        {
            request.ByteRange = new ByteRange($"bytes={offset}-");
        }

        try
        {
            var response = await Client.GetObjectAsync(request, cancellationToken).ConfigureAwait(false);
            return new S3ReadStream(response, e => Classify(e, key, "read"));
        }
        catch (Exception e) when (S3Errors.IsInvalidRange(e))
        {
            // The range starts at or past the end of an existing object: nothing to read.
            return new MemoryStream([], writable: false);
        }
        catch (Exception e) when (S3Errors.IsNotFound(e))
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
            var metadata = await Client.GetObjectMetadataAsync(_options.Bucket, _root + key, cancellationToken).ConfigureAwait(false);
            return new ObjectInfo(key, metadata.ContentLength) { LastModified = Utc(metadata.LastModified), VersionTag = metadata.ETag };
        }
        catch (Exception e) when (S3Errors.IsNotFound(e))
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
        // ListObjects (version 1) is the listing every S3-compatible server implements.
        var request = new ListObjectsRequest { BucketName = _options.Bucket, Prefix = _root + prefix, MaxKeys = 1000 };
        while (true)
        {
            var page = await ListPageAsync(request, cancellationToken).ConfigureAwait(false);
            if (page is null)
            {
                yield break;
            }

            var objects = page.S3Objects ?? [];
            foreach (var item in objects)
            {
                yield return new ObjectInfo(item.Key[_root.Length..], item.Size ?? 0) { LastModified = Utc(item.LastModified), VersionTag = item.ETag };
            }

            if (page.IsTruncated != true || objects.Count == 0)
            {
                yield break;
            }

            request.Marker = page.NextMarker ?? objects[^1].Key;
        }
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        try
        {
            await Client.DeleteObjectAsync(_options.Bucket, _root + key, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (S3Errors.IsNotFound(e))
        {
            // Already gone (or its bucket is): deleting is idempotent.
        }
        catch (Exception e) when (IsStoreFailure(e, cancellationToken))
        {
            throw Classify(e, key, "delete");
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        if (_client.IsValueCreated)
        {
            _client.Value.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    private async Task PutOnceAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken)
    {
        try
        {
            if (mode == PutMode.CreateNew && !_options.AtomicCreate && await StatAsync(key, cancellationToken).ConfigureAwait(false) is not null)
            {
                throw AlreadyExists(key, null);
            }

            // Create-if-absent objects are small (config, manifests) and go up in one conditional PUT.
            if (mode == PutMode.Overwrite && data.Length >= _options.MultipartThreshold)
            {
                await new S3MultipartUpload(Client, _options, _root + key).RunAsync(data, cancellationToken).ConfigureAwait(false);
                return;
            }

            using var body = AsStream(data);
            var request = new PutObjectRequest
            {
                BucketName = _options.Bucket,
                Key = _root + key,
                InputStream = body,
                AutoCloseStream = false,
                ContentType = "application/octet-stream",
                // S3-compatible servers (s3rver among them) store the SDK's chunk-signed payload verbatim.
                UseChunkEncoding = _options.Endpoint is null,
            };
            if (mode == PutMode.CreateNew)
            {
                AddCreateNewCondition(request);
            }

            await Client.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (mode == PutMode.CreateNew && S3Errors.IsPreconditionFailed(e))
        {
            throw AlreadyExists(key, e);
        }
        catch (Exception e) when (!S3Errors.IsNoSuchBucket(e) && IsStoreFailure(e, cancellationToken))
        {
            throw Classify(e, key, "write");
        }
    }

    private void AddCreateNewCondition(PutObjectRequest request)
    {
        if (_options.CreateNewCondition == CreateNewCondition.GoogleGenerationMatch)
        {
            request.Headers["x-goog-if-generation-match"] = "0";
        }
        else
        {
            request.IfNoneMatch = "*";
        }
    }

    private async Task<ListObjectsResponse?> ListPageAsync(ListObjectsRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await Client.ListObjectsAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (S3Errors.IsNoSuchBucket(e))
        {
            return null;
        }
        catch (Exception e) when (IsStoreFailure(e, cancellationToken))
        {
            throw Classify(e, null, "list");
        }
    }

    private async Task CreateBucketAsync(CancellationToken cancellationToken)
    {
        var request = new PutBucketRequest { BucketName = _options.Bucket };
        if (_options.Endpoint is null && _options.Region is { } region && region != "us-east-1")
        {
            request.BucketRegionName = region;
        }

        try
        {
            await Client.PutBucketAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou")
        {
            // Created meanwhile by another writer: fine.
        }
        catch (Exception e) when (IsStoreFailure(e, cancellationToken))
        {
            var cause = Classify(e, null, "create bucket");
            var reason = cause.Reason == StoreErrorReason.Transient ? StoreErrorReason.Transient : StoreErrorReason.Unauthorized;
            throw new StoreException(reason, Location, null,
                $"bucket '{_options.Bucket}' of {_where} does not exist and could not be created ({CodeOf(e)}): create it, or use credentials that may create buckets", e);
        }
    }

    // The SDK gives times as DateTime; one without a kind is UTC as the server sent it.
    private static DateTimeOffset? Utc(DateTime? time) => time is not { } value ? null
        : new DateTimeOffset(value.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(value, DateTimeKind.Utc) : value.ToUniversalTime());

    private static string CodeOf(Exception e) => e is AmazonServiceException { ErrorCode: { Length: > 0 } code } ? code : e.GetType().Name;

    /// <summary>A read-only stream over the bytes, without a copy when they live in an array.</summary>
    internal static MemoryStream AsStream(ReadOnlyMemory<byte> data) =>
        MemoryMarshal.TryGetArray(data, out var segment) && segment.Array is not null
            ? new MemoryStream(segment.Array, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);

    private static bool IsStoreFailure(Exception e, CancellationToken cancellationToken) =>
        e is not StoreException and not ArgumentException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested);

    private StoreException Classify(Exception e, string? key, string operation) => S3Errors.Classify(e, _options, Location, _where, key, operation);

    private StoreException NotFound(string key, Exception? e = null) =>
        new(StoreErrorReason.NotFound, Location, key, $"object '{key}' not found in {_where}", e);

    private StoreException AlreadyExists(string key, Exception? e) =>
        new(StoreErrorReason.AlreadyExists, Location, key, $"object '{key}' already exists in {_where}", e);
}
