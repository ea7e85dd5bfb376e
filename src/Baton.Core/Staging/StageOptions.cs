using Baton.Storage;

namespace Baton.Staging;

/// <summary>How <see cref="DataStager"/> fetches, caches and verifies data.</summary>
public sealed class StageOptions
{
    /// <summary>Environment variable naming the cache folder (default <c>~/.cache/baton/stage</c>).</summary>
    public const string CacheVariable = "BATON_STAGE_CACHE";

    /// <summary>Where downloads are cached by source and by content; null for <see cref="DefaultCacheDirectory"/>.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>
    /// The stores that <c>s3://</c>, <c>az://</c>, <c>sftp://</c>, <c>rclone:</c> (and private <c>gs://</c>) sources are
    /// read through; the command line passes its own registry. Folders and http(s) need none.
    /// </summary>
    public StoreRegistry? Stores { get; init; }

    /// <summary>Receives bytes done and to do, and files done and to do.</summary>
    public IProgress<TransferProgress>? Progress { get; init; }

    /// <summary>How many ranged requests run at once (across files).</summary>
    public int Connections { get; init; } = 4;

    /// <summary>Files at least this large, from sources that serve ranges, download as several ranges at once.</summary>
    public long ParallelThreshold { get; init; } = 32L << 20;

    /// <summary>The size of each range of a parallel download (also the unit of resumption).</summary>
    public long PartSize { get; init; } = 16L << 20;

    /// <summary>How many times a failing range is tried before the stage fails (each try resumes where the last stopped).</summary>
    public int MaxAttempts { get; init; } = 6;

    /// <summary>The first pause between tries; later ones grow exponentially, with jitter.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A transfer that receives nothing for this long is dropped and resumed.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Ask the source again even when the cached copy matches (the cached bytes are still reused by content).</summary>
    public bool Refresh { get; init; }

    /// <summary>The endpoint public <c>gs://</c> objects are read from.</summary>
    public Uri GcsEndpoint { get; init; } = new("https://storage.googleapis.com");

    /// <summary>The HTTP handler to use (tests, proxies); null for a default one that never decompresses.</summary>
    public HttpMessageHandler? HttpHandler { get; init; }

    /// <summary>The clock for retry delays.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The cache folder: <c>$BATON_STAGE_CACHE</c>, else <c>$XDG_CACHE_HOME/baton/stage</c>, else <c>~/.cache/baton/stage</c>.</summary>
    public static string DefaultCacheDirectory(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (environment(CacheVariable) is { Length: > 0 } explicitFolder)
        {
            return Path.GetFullPath(explicitFolder);
        }

        var cacheHome = environment("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(cacheHome, "baton", "stage");
    }
}

/// <summary>What a stage did.</summary>
/// <param name="Destination">The file or folder the data is in.</param>
/// <param name="Files">Files staged.</param>
/// <param name="Bytes">Their total size.</param>
/// <param name="BytesDownloaded">Bytes that crossed the network (zero when everything came from the cache).</param>
/// <param name="FilesFromCache">Files served by the cache without downloading.</param>
/// <param name="FilesUnchanged">Files whose destination already held the same bytes (nothing was copied).</param>
public sealed record StageResult(string Destination, long Files, long Bytes, long BytesDownloaded, long FilesFromCache, long FilesUnchanged);
