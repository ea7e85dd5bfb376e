using System.Globalization;
using Baton.Testing;

namespace Baton.Tests.Run;

/// <summary>
/// Two nodes of a multi-node run against a real S3-compatible server (s3rver, which ignores If-None-Match: the
/// group's create-if-absent writes are advisory there, and the nodes still commit each step once, whole).
/// </summary>
public sealed class GroupS3Tests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new();
    private S3rver? _s3rver;

    private S3rver Server => _s3rver ?? throw new InvalidOperationException("s3rver is not running");

    [Fact(Timeout = 400_000)]
    public async Task Two_nodes_on_s3_commit_whole_steps_and_resume_together()
    {
        Directory.CreateDirectory(Path.Combine(Server.DataPath, "ckpts"));
        const string store = "s3://ckpts/runs";
        await RunAttemptAsync(store, "job.1", steps: 2);

        var listed = await BatonCli.RunAsync(["ls", "--store", store, "--run", "g", "--json"], _temp.Path, Server.CliEnvironment());
        Assert.True(listed.ExitCode == 0, listed.ToString());
        Assert.Contains("\"step\": 2", listed.StdOut, StringComparison.Ordinal);
        var check = await BatonCli.RunAsync(["check", "--store", store, "--read-data"], _temp.Path, Server.CliEnvironment());
        Assert.True(check.ExitCode == 0, check.ToString());

        var resumed = await RunAttemptAsync(store, "job.2", steps: 1);
        Assert.All(resumed, output => Assert.Contains("node", output, StringComparison.Ordinal));
        Assert.All(resumed, output => Assert.Matches(@"node \d resuming from step 2\n", output));
    }

    public async Task InitializeAsync() => _s3rver = await S3rver.StartAsync();

    public async Task DisposeAsync()
    {
        if (_s3rver is not null)
        {
            await _s3rver.DisposeAsync();
        }

        _temp.Dispose();
    }

    private async Task<string[]> RunAttemptAsync(string store, string group, int steps)
    {
        var runs = Enumerable.Range(0, 2).Select(rank => BatonCli.RunAsync(
        [
            "run", "--store", store, "--run", "g", "--dir", _temp.Combine($"node-{rank}"), "--nodes", "2",
            "--node-rank", rank.ToString(CultureInfo.InvariantCulture), "--group-id", group, "--barrier-timeout", "120s",
            "--quiet-period", "60s", "--scan-interval", "1s",
            "--", "python3", Path.Combine(AppContext.BaseDirectory, "Trainers", "group_trainer.py"), "--steps", steps.ToString(CultureInfo.InvariantCulture),
        ], _temp.Path, Server.CliEnvironment())).ToList();
        var results = await Task.WhenAll(runs);
        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.ToString()));
        return [.. results.Select(r => r.StdOut + r.StdErr)];
    }
}
