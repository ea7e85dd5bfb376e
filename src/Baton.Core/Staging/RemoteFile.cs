namespace Baton.Staging;

/// <summary>Reads byte ranges of one remote file.</summary>
internal interface IRangeReader
{
    /// <summary>
    /// Opens <paramref name="length"/> bytes at <paramref name="offset"/> (to the end when negative). Throws
    /// <see cref="SourceChangedException"/> when the file no longer matches what was described.
    /// </summary>
    Task<Stream> OpenAsync(long offset, long length, CancellationToken cancellationToken);

    /// <summary>
    /// Throws <see cref="SourceChangedException"/> when the file changed since it was described. Called once all its
    /// bytes are down, for sources whose reads carry no precondition that would have refused a changed file.
    /// </summary>
    Task EnsureUnchangedAsync(CancellationToken cancellationToken);
}

/// <summary>One file of a source, as described before downloading it.</summary>
internal sealed record RemoteFile
{
    /// <summary>The full address: the cache's key (may hold a signed query; never shown or stored).</summary>
    public required string Identity { get; init; }

    /// <summary>The address for messages and the cache record, without secrets.</summary>
    public required string Display { get; init; }

    /// <summary>Where the file goes, relative to the destination folder ('/'-separated).</summary>
    public required string RelativePath { get; init; }

    /// <summary>The size, when the source says.</summary>
    public long? Size { get; init; }

    /// <summary>The source's version tag (an HTTP, S3 or Azure ETag; a folder store's inode and time), if any.</summary>
    public string? ETag { get; init; }

    /// <summary>When the source says the file last changed, if it does.</summary>
    public DateTimeOffset? LastModified { get; init; }

    /// <summary>Checksums the source publishes.</summary>
    public ExpectedDigests Digests { get; init; } = ExpectedDigests.None;

    /// <summary>Whether ranges can be requested (resume and parallel download).</summary>
    public bool SupportsRanges { get; init; }

    /// <summary>How to read it.</summary>
    public required IRangeReader Reader { get; init; }
}

/// <summary>The source changed while it was being downloaded; the download starts over.</summary>
internal sealed class SourceChangedException(string message) : IOException(message);

/// <summary>A passing failure of a request (5xx, 429, a short body) that a retry may fix.</summary>
internal sealed class TransientSourceException(string message, Exception? innerException = null) : IOException(message, innerException);
