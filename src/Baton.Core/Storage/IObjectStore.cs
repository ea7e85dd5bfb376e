namespace Baton.Storage;

/// <summary>
/// A flat namespace of immutable-by-convention objects addressed by slash-separated keys.
/// Every store (a folder, S3, Azure Blob, SFTP, rclone) implements this one small contract;
/// retries, concurrency limits, fault injection and metrics are decorators around it.
/// </summary>
/// <remarks>
/// Keys are relative, use '/' as separator and never contain "..", a leading '/' or empty segments.
/// Implementations are thread-safe. Every failure is reported as a <see cref="StoreException"/>
/// whose <see cref="StoreException.Reason"/> says what kind of failure it was.
/// </remarks>
public interface IObjectStore : IAsyncDisposable
{
    /// <summary>Where the store is, for messages. Never contains credentials.</summary>
    string Location { get; }

    /// <summary>What this store guarantees (atomic create, useful concurrency).</summary>
    StoreCapabilities Capabilities { get; }

    /// <summary>
    /// Writes a whole object. With <see cref="PutMode.Overwrite"/> an existing object is replaced; with
    /// <see cref="PutMode.CreateNew"/> the write fails with <see cref="StoreErrorReason.AlreadyExists"/> when the
    /// key exists (atomically where <see cref="StoreCapabilities.AtomicCreate"/> is set). Readers never see a
    /// partially written object: the object appears whole or not at all. Idempotent for
    /// <see cref="PutMode.Overwrite"/>.
    /// </summary>
    Task PutAsync(string key, ReadOnlyMemory<byte> data, PutMode mode, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens a stream over <paramref name="length"/> bytes of the object starting at <paramref name="offset"/>
    /// (the rest of the object when <paramref name="length"/> is negative). Fails with
    /// <see cref="StoreErrorReason.NotFound"/> when the object does not exist. The caller disposes the stream.
    /// </summary>
    Task<Stream> OpenReadAsync(string key, long offset = 0, long length = -1, CancellationToken cancellationToken = default);

    /// <summary>Returns the object's size and version validators, or <c>null</c> when it does not exist.</summary>
    Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists every object whose key starts with <paramref name="prefix"/>, in no particular order.
    /// The empty prefix lists every object; a prefix under which nothing exists lists nothing (no error).
    /// </summary>
    IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Deletes an object. Deleting an absent object succeeds (idempotent).</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Describes the first thing at the store's location that <see cref="ListAsync"/> does not show (an empty folder,
    /// a temporary file) and that makes the location unfit for a new repository; null when there is none. A store
    /// whose listing shows everything it holds keeps this default.
    /// </summary>
    Task<string?> FindUnlistedEntryAsync(CancellationToken cancellationToken = default) => Task.FromResult<string?>(null);
}

/// <summary>How <see cref="IObjectStore.PutAsync"/> treats an existing object.</summary>
public enum PutMode
{
    /// <summary>Replace the object if it exists.</summary>
    Overwrite,

    /// <summary>Fail with <see cref="StoreErrorReason.AlreadyExists"/> if the object exists.</summary>
    CreateNew,
}

/// <summary>
/// An object's key and size, and what tells one version of it from the next, each where the store reports it in the
/// same answer (no extra request per object). Equal validators on two calls mean the object was not replaced in
/// between, within the store's <see cref="StoreCapabilities.ChangeResolution"/>.
/// </summary>
/// <param name="Key">The object's full key, with its prefix (<c>data/…</c>, <c>runs/…</c>).</param>
/// <param name="Size">Length in bytes.</param>
public readonly record struct ObjectInfo(string Key, long Size)
{
    /// <summary>When the object last changed, at the store's resolution (whole seconds on SFTP).</summary>
    public DateTimeOffset? LastModified { get; init; }

    /// <summary>An opaque tag that changes whenever the object is replaced (an S3 or Azure ETag), or null.</summary>
    public string? VersionTag { get; init; }
}

/// <summary>What a store guarantees; a value, not a set of marker interfaces.</summary>
/// <param name="AtomicCreate">
/// <see cref="PutMode.CreateNew"/> is enforced by the store itself, so two racing writers cannot both succeed.
/// When false, Baton falls back to a weaker, documented guarantee and says so.
/// </param>
/// <param name="Concurrency">How many transfers at once the store serves well.</param>
public sealed record StoreCapabilities(bool AtomicCreate, int Concurrency)
{
    /// <summary>
    /// How far apart two overwrites of an object must be for its <see cref="ObjectInfo"/> validators to differ: zero
    /// when every overwrite changes them (a version tag), else the resolution of the store's only validator, its
    /// modification time (one second over SFTP version 3).
    /// </summary>
    public TimeSpan ChangeResolution { get; init; }

    /// <summary>
    /// Packs a push uploads at once, each held whole in memory until it is stored: two by default, so that one
    /// upload's final flush or round trip overlaps the next; one for a store whose single write already sends
    /// parallel parts (S3), which keeps a push's memory within its bound.
    /// </summary>
    public int PackUploads { get; init; } = 2;

    /// <summary>
    /// The store is on a local or mounted file system: writing to it costs CPU, not network bandwidth, so a push
    /// under <see cref="Compression.CompressionChoice.Auto"/> takes the fast codecs.
    /// </summary>
    public bool Local { get; init; }
}
