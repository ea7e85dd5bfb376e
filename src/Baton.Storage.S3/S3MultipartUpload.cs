using System.Collections.Concurrent;
using Amazon.S3;
using Amazon.S3.Model;

namespace Baton.Storage.S3;

/// <summary>
/// One multipart upload: parts go up in parallel; the object appears only when the upload completes, so readers never
/// see it partly written. A failed upload is aborted so that its parts do not linger (and cost).
/// </summary>
internal sealed class S3MultipartUpload(IAmazonS3 client, S3StoreOptions options, string key)
{
    public async Task RunAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var started = await client.InitiateMultipartUploadAsync(
            new InitiateMultipartUploadRequest { BucketName = options.Bucket, Key = key, ContentType = "application/octet-stream" },
            cancellationToken).ConfigureAwait(false);
        try
        {
            var parts = await UploadPartsAsync(started.UploadId, data, cancellationToken).ConfigureAwait(false);
            await client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = options.Bucket,
                Key = key,
                UploadId = started.UploadId,
                PartETags = parts,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await AbortAsync(started.UploadId).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<List<PartETag>> UploadPartsAsync(string uploadId, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var count = (int)((data.Length + (long)options.PartSize - 1) / options.PartSize);
        var etags = new ConcurrentBag<PartETag>();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.PartConcurrency), CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, count), parallel, async (index, ct) =>
        {
            var start = index * options.PartSize;
            var slice = data.Slice(start, Math.Min(options.PartSize, data.Length - start));
            using var body = S3Store.AsStream(slice);
            var response = await client.UploadPartAsync(new UploadPartRequest
            {
                BucketName = options.Bucket,
                Key = key,
                UploadId = uploadId,
                PartNumber = index + 1,
                PartSize = slice.Length,
                InputStream = body,
                IsLastPart = index == count - 1,
                UseChunkEncoding = options.Endpoint is null,
            }, ct).ConfigureAwait(false);
            etags.Add(new PartETag(index + 1, response.ETag));
        }).ConfigureAwait(false);
        return [.. etags.OrderBy(p => p.PartNumber)];
    }

    private async Task AbortAsync(string uploadId)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await client.AbortMultipartUploadAsync(
                new AbortMultipartUploadRequest { BucketName = options.Bucket, Key = key, UploadId = uploadId }, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AmazonS3Exception or HttpRequestException or OperationCanceledException or IOException)
        {
            // Best effort: a lifecycle rule on incomplete uploads cleans up what is left.
        }
    }
}
