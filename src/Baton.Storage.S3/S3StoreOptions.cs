using Amazon.Runtime;

namespace Baton.Storage.S3;

/// <summary>How a create-if-absent write tells the server not to replace an existing object.</summary>
public enum CreateNewCondition
{
    /// <summary>The S3 header <c>If-None-Match: *</c> (AWS S3, MinIO, R2).</summary>
    IfNoneMatch,

    /// <summary>Google Cloud Storage's <c>x-goog-if-generation-match: 0</c>, which its XML API honours on uploads.</summary>
    GoogleGenerationMatch,
}

/// <summary>Settings of an <see cref="S3Store"/>. <see cref="S3StoreProvider"/> fills them from the address and environment.</summary>
public sealed record S3StoreOptions
{
    /// <summary>The bucket.</summary>
    public required string Bucket { get; init; }

    /// <summary>The key prefix every object goes under, without leading or trailing slash; empty for the bucket's root.</summary>
    public string Prefix { get; init; } = "";

    /// <summary>The address scheme shown in <see cref="IObjectStore.Location"/> (<c>s3</c> or <c>gs</c>).</summary>
    public string Scheme { get; init; } = "s3";

    /// <summary>An S3-compatible endpoint (MinIO, R2, B2, GCS); <c>null</c> for AWS S3 itself.</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>The region requests are signed for; <c>null</c> for the SDK's own resolution.</summary>
    public string? Region { get; init; }

    /// <summary>Credentials; <c>null</c> for the SDK's default chain (environment, profile, instance role).</summary>
    public AWSCredentials? Credentials { get; init; }

    /// <summary>
    /// Whether the server enforces create-if-absent (<see cref="CreateNewCondition"/>). When false, a create-if-absent
    /// write first checks that the object is absent, which two racing writers can both pass.
    /// </summary>
    public bool AtomicCreate { get; init; } = true;

    /// <summary>The condition a create-if-absent write sends.</summary>
    public CreateNewCondition CreateNewCondition { get; init; } = CreateNewCondition.IfNoneMatch;

    /// <summary>Whether a missing bucket is created on the first write.</summary>
    public bool CreateBucket { get; init; } = true;

    /// <summary>
    /// Objects at least this large are uploaded in parts, <see cref="PartConcurrency"/> at a time. Below a pack
    /// (32 MiB by default), so that a pack goes up over several connections while one pack buffer is held: rclone and
    /// restic reach the same parallelism with several whole objects in flight, which would cost Baton a pack buffer
    /// each. A single-threaded test server that rewrites parts on completion (s3rver) is faster with one PUT per pack
    /// (a threshold above the pack size: 1.2 to 1.6x on a 0.75 GiB push), but real S3 over a long link is not.
    /// </summary>
    public int MultipartThreshold { get; init; } = 16 * 1024 * 1024;

    /// <summary>The size of each part of a multipart upload (S3 needs at least 5 MiB).</summary>
    public int PartSize { get; init; } = 8 * 1024 * 1024;

    /// <summary>Parts of one object uploaded at once.</summary>
    public int PartConcurrency { get; init; } = 4;

    /// <summary>
    /// Transfers the store serves well at once (<see cref="StoreCapabilities.Concurrency"/>). A pull holds this many
    /// chunks, plus one per core, in memory: with 8 a pull of a 0.75 GiB checkpoint peaked at 281 MiB, over the
    /// 256 MiB bound; 4 ranged reads at once still keep a loopback or nearby endpoint busy.
    /// </summary>
    public int Concurrency { get; init; } = 4;

    /// <summary>What the user should set when credentials are missing or refused.</summary>
    public string CredentialsHint { get; init; } = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE";

    /// <summary>What the user should check when the endpoint cannot be reached.</summary>
    public string EndpointHint { get; init; } = "check AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL and the network";
}
