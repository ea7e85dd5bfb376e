using System.Reflection;
using Baton.Storage;

namespace Baton.Staging;

/// <summary>
/// Brings data to the machine: <c>baton stage SRC DEST</c> and <c>baton run --data SRC=DEST</c>. Sources are
/// http(s) URLs, <c>gs://</c> (public objects over HTTPS, private ones through a registered store), any scheme of the
/// store registry (<c>s3://</c>, <c>az://</c>, <c>sftp://</c>, <c>rclone:</c>) and local folders. Downloads are cached
/// by source and content, resumed after interruption, verified against the source's checksums, and skipped when the
/// source has not changed.
/// </summary>
public static class DataStager
{
    /// <summary>Stages <paramref name="source"/> at <paramref name="destination"/> (a file, or a folder for folder sources).</summary>
    /// <exception cref="UsageException">The source or destination is malformed, or nothing is at the source.</exception>
    /// <exception cref="StoreException">The source cannot be reached or refuses access.</exception>
    /// <exception cref="IntegrityException">The downloaded bytes do not match the source's checksums.</exception>
    public static async Task<StageResult> StageAsync(string source, string destination, StageOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        ArgumentException.ThrowIfNullOrWhiteSpace(destination);
        options ??= new StageOptions();
        var uri = StoreUri.Parse(source);
        if (uri.Scheme == "file")
        {
            var path = source.StartsWith("file://", StringComparison.OrdinalIgnoreCase) ? Uri.UnescapeDataString(source[7..]) : source;
            return await LocalSource.StageAsync(path, destination, options, cancellationToken).ConfigureAwait(false);
        }

        using var http = CreateHttpClient(options);
        var opened = new List<IObjectStore>();
        try
        {
            var (files, folder) = await SourceResolver.DescribeAsync(uri, options, http, opened, cancellationToken).ConfigureAwait(false);
            if (folder)
            {
                Layout.CheckFolderDestination(destination);
            }

            var targets = files.Select(f => folder
                ? Layout.FolderTarget(destination, f.RelativePath, f.Display)
                : Layout.SingleTarget(destination, f.RelativePath)).ToList();
            var session = new StageSession(options, files.Sum(f => f.Size ?? 0), files.Count);
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Connections), CancellationToken = cancellationToken };
            await Parallel.ForEachAsync(Enumerable.Range(0, files.Count), parallel,
                async (i, token) => await session.StageFileAsync(files[i], targets[i], token).ConfigureAwait(false)).ConfigureAwait(false);
            return session.Result(folder ? destination : targets[0]);
        }
        finally
        {
            foreach (var store in opened)
            {
                await store.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static HttpClient CreateHttpClient(StageOptions options)
    {
        var handler = options.HttpHandler ?? new SocketsHttpHandler
        {
            // Checksums describe the stored bytes: never let the client decompress them.
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            MaxConnectionsPerServer = Math.Max(1, options.Connections) + 2,
        };
        var client = new HttpClient(handler, disposeHandler: options.HttpHandler is null) { Timeout = Timeout.InfiniteTimeSpan };
        var version = typeof(DataStager).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0";
        client.DefaultRequestHeaders.UserAgent.ParseAdd($"baton/{version}");
        return client;
    }
}
