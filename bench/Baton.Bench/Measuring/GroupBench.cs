using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Amazon.Runtime;
using Baton.Groups;
using Baton.Leases;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage;
using Baton.Storage.Folder;
using Baton.Storage.S3;

namespace Baton.Bench.Measuring;

/// <summary>
/// Multi-node figures (<c>bench/run group</c>): the group commit's overhead, from the moment the last node's data is
/// durable (its packs and index written) to the step being visible to a reader, on a folder store and on s3rver; and
/// the aggregate push throughput of 1, 2 and 4 simulated nodes pushing their parts of one checkpoint into one folder
/// store at once, beside the disk's own sequential write rate. The nodes are simulated in this process: each has its
/// own repository instance, lease (one job attempt) and group committer, as each node's baton run has.
/// </summary>
internal static class GroupBench
{
    public static async Task<int> RunAsync(string[] args, string root, TextWriter log)
    {
        var work = Option(args, "--work") ?? Path.Combine(Path.GetTempPath(), "baton-bench-group");
        var rounds = int.Parse(Option(args, "--rounds") ?? "10", CultureInfo.InvariantCulture);
        var partMiB = int.Parse(Option(args, "--part-mib") ?? "128", CultureInfo.InvariantCulture);
        if (Directory.Exists(work))
        {
            Directory.Delete(work, recursive: true);
        }

        Directory.CreateDirectory(work);
        await log.WriteLineAsync($"load before: {Load()}");

        var folder = await CommitOverheadAsync(new FolderStore(Path.Combine(work, "overhead-store")), work, rounds, log);
        await log.WriteLineAsync($"group commit overhead, folder store, 2 nodes, {rounds} steps: median {Ms(Median(folder))}, max {Ms(folder.Max())}");

        var s3rver = Path.Combine(root, ".build", "node", "node_modules", ".bin", "s3rver");
        if (File.Exists(s3rver))
        {
            var port = FreePort();
            var data = Path.Combine(work, "s3rver");
            Directory.CreateDirectory(data);
            using var server = StartS3rver(root, port, data);
            try
            {
                await WaitForPortAsync(port);
                var store = new S3Store(new S3StoreOptions
                {
                    Bucket = "bench", Endpoint = new Uri($"http://127.0.0.1:{port}"), Region = "us-east-1",
                    Credentials = new BasicAWSCredentials("S3RVER", "S3RVER"),
                });
                var s3 = await CommitOverheadAsync(store, work, rounds, log);
                await log.WriteLineAsync($"group commit overhead, s3rver on loopback, 2 nodes, {rounds} steps: median {Ms(Median(s3))}, max {Ms(s3.Max())}");
            }
            finally
            {
                server.Kill(entireProcessTree: true);
            }
        }
        else
        {
            await log.WriteLineAsync($"s3rver is not installed at {s3rver} (eng/install-test-deps.sh): its figure is left out");
        }

        var disk = DiskWriteRate(Path.Combine(work, "disk-probe"), 4L * partMiB * 1024 * 1024);
        await log.WriteLineAsync($"disk: sequential write with fsync of {4 * partMiB} MiB: {disk / 1048576:F0} MiB/s");
        foreach (var nodes in new[] { 1, 2, 4 })
        {
            var (seconds, bytes) = await ThroughputAsync(work, nodes, partMiB, log);
            await log.WriteLineAsync($"aggregate push, {nodes} node(s) x {partMiB} MiB part into one folder store: {bytes / 1048576.0 / seconds:F0} MiB/s ({seconds:F1} s for {bytes / 1048576} MiB)");
        }

        await log.WriteLineAsync($"load after: {Load()}");
        return 0;
    }

    // Node 0 pushes its part, then node 1 (the last) pushes its own: the clock runs from the moment node 1's data is
    // durable (its commit callback starts) until a separate reader finds the step.
    private static async Task<List<double>> CommitOverheadAsync(IObjectStore store, string work, int rounds, TextWriter log)
    {
        await using var objects = store;
        var reader = await Repository.OpenOrInitAsync(objects);
        const string run = "overhead";
        var group = $"bench.{Guid.NewGuid():N}";
        var nodes = new List<(Repository Repository, WriterLease Lease, GroupCommitter Committer, string Directory)>();
        for (var rank = 0; rank < 2; rank++)
        {
            var repository = await Repository.OpenAsync(objects);
            var lease = await WriterLease.AcquireAsync(repository, run, new LeaseOptions { GroupId = group, GroupNodes = 2, GroupRank = rank });
            var options = new GroupOptions { Nodes = 2, Rank = rank, GroupId = group };
            nodes.Add((repository, lease, new GroupCommitter(repository, run, options, lease), Path.Combine(work, "overhead", $"node-{rank}")));
        }

        var samples = new List<double>();
        try
        {
            for (var round = 1; round <= rounds; round++)
            {
                var step = round * 10L;
                long durable = 0;
                foreach (var (repository, lease, committer, directory) in nodes)
                {
                    var rank = nodes.FindIndex(n => n.Directory == directory);
                    WritePart(directory, step, rank, 1 << 20, seed: round * 10 + rank);
                    await repository.PushAsync(directory, run, new PushOptions
                    {
                        Step = step,
                        Lease = lease,
                        Commit = (manifest, cancellationToken) =>
                        {
                            durable = Stopwatch.GetTimestamp();
                            return committer.CommitPartAsync(manifest, cancellationToken);
                        },
                    });
                }

                var found = await reader.FindSnapshotAsync(run);
                var elapsed = Stopwatch.GetElapsedTime(durable).TotalSeconds;
                if (found?.Manifest.Step != step)
                {
                    throw new InvalidOperationException($"step {step} is not visible after both parts were pushed (newest: {found?.Manifest.Step})");
                }

                samples.Add(elapsed);
            }
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.Lease.DisposeAsync();
            }
        }

        await log.WriteLineAsync($"  samples (ms): {string.Join(' ', samples.Select(s => (s * 1000).ToString("F0", CultureInfo.InvariantCulture)))}");
        return samples;
    }

    // Each node pushes its own part of one step (fresh random data, so nothing deduplicates) at the same time.
    private static async Task<(double Seconds, long Bytes)> ThroughputAsync(string work, int nodes, int partMiB, TextWriter log)
    {
        var storePath = Path.Combine(work, $"throughput-{nodes}");
        await using var objects = new FolderStore(storePath);
        await Repository.OpenOrInitAsync(objects);
        const string run = "throughput";
        const long step = 100;
        var group = $"bench.{nodes}";
        var members = new List<(Repository Repository, WriterLease Lease, GroupCommitter Committer, string Directory)>();
        for (var rank = 0; rank < nodes; rank++)
        {
            var repository = await Repository.OpenAsync(objects);
            var lease = await WriterLease.AcquireAsync(repository, run, nodes > 1 ? new LeaseOptions { GroupId = group, GroupNodes = nodes, GroupRank = rank } : new LeaseOptions());
            var directory = Path.Combine(work, $"throughput-{nodes}-data", $"node-{rank}");
            WritePart(directory, step, rank, partMiB << 20, seed: 1000 * nodes + rank);
            members.Add((repository, lease, nodes > 1 ? new GroupCommitter(repository, run, new GroupOptions { Nodes = nodes, Rank = rank, GroupId = group }, lease) : null!, directory));
        }

        var clock = Stopwatch.StartNew();
        try
        {
            await Task.WhenAll(members.Select(m => Task.Run(() => m.Repository.PushAsync(m.Directory, run, new PushOptions
            {
                Step = step,
                Lease = m.Lease,
                Commit = m.Committer is null ? null : m.Committer.CommitPartAsync,
            }))));
        }
        finally
        {
            foreach (var member in members)
            {
                await member.Lease.DisposeAsync();
            }
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var reader = await Repository.OpenAsync(objects);
        if ((await reader.FindSnapshotAsync(run))?.Manifest.Step != step)
        {
            throw new InvalidOperationException($"{nodes} nodes: the step was not committed");
        }

        await log.WriteLineAsync($"  {nodes} node(s): load {Load()}");
        return (seconds, (long)nodes * partMiB << 20);
    }

    private static void WritePart(string directory, long step, int rank, int bytes, int seed)
    {
        var folder = Path.Combine(directory, $"step_{step}");
        Directory.CreateDirectory(folder);
        var data = new byte[bytes];
        new Random(seed).NextBytes(data);
        File.WriteAllBytes(Path.Combine(folder, $"__{rank}_0.distcp"), data);
        if (rank == 0)
        {
            File.WriteAllBytes(Path.Combine(folder, ".metadata"), [1, 2, 3]);
        }
    }

    private static double DiskWriteRate(string path, long bytes)
    {
        var buffer = new byte[8 << 20];
        new Random(1).NextBytes(buffer);
        var clock = Stopwatch.StartNew();
        using (var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            for (long written = 0; written < bytes; written += buffer.Length)
            {
                stream.Write(buffer);
            }

            stream.Flush(flushToDisk: true);
        }

        var rate = bytes / clock.Elapsed.TotalSeconds;
        File.Delete(path);
        return rate;
    }

    private static string? Option(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Ms(double seconds) => $"{seconds * 1000:F0} ms";

    /// <summary>The 1, 5 and 15 minute load averages.</summary>
    internal static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    /// <summary>Starts s3rver through <c>eng/s3rver.cjs</c> (which mends its put-and-delete crash) on <paramref name="port"/>.</summary>
    internal static Process StartS3rver(string root, int port, string data) =>
        Process.Start(new ProcessStartInfo("node", [Path.Combine(root, "eng", "s3rver.cjs"), "--address", "127.0.0.1", "--port", $"{port}", "--directory", data, "--silent"])
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("s3rver did not start");

    /// <summary>A loopback port nothing listens on.</summary>
    internal static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits up to a minute until 127.0.0.1:<paramref name="port"/> accepts connections.</summary>
    internal static async Task WaitForPortAsync(int port)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (SocketException) when (clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(100);
            }
        }
    }
}
