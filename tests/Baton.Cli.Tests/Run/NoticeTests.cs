using System.Text.RegularExpressions;
using Baton.Testing;

namespace Baton.Tests.Run;

/// <summary>Known limits and cloud notices, with the metadata services served from loopback.</summary>
public sealed class NoticeTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 180_000)]
    public async Task A_deadline_asks_for_a_checkpoint_then_stops_well_with_exit_75()
    {
        var store = _temp.Combine("store");
        var dir = _temp.Combine("ckpt");
        // The deadline counts from the supervisor's start: the stop begins 12 s in (20 s less the 6 s grace and a tenth),
        // time enough for Python to start and handle SIGUSR1 on a busy machine (8 s with a 3 s grace once was not).
        await using var run = SupervisedRun.Start(
            RunFixtures.Run(store, dir, ["--format", "torch", "--deadline", "20s", "--grace", "6s", "--checkpoint-signal", "SIGUSR1"],
                RunFixtures.Python("torch", dir, "--steps", "100000", "--every", "100000", "--step-ms", "10", "--checkpoint-on-term")),
            _temp.Path);

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(120)) == 75, run.Output);
        Assert.Contains("sending SIGUSR1 to the trainer", run.Output, StringComparison.Ordinal);
        var snapshots = await RunFixtures.SnapshotsAsync(store);
        Assert.True(snapshots.Count >= 2, run.Output);
        Assert.Equal(StoppedAt(run.Output), snapshots[^1].Manifest.Step);
        Assert.Equal("deadline", Assert.Single(await RunFixtures.LegsAsync(store)).EndReason);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_gce_preemption_notice_stops_the_trainer_and_commits_its_last_checkpoint()
    {
        var preempted = false;
        await using var gce = new LoopbackHttpServer(r =>
            r.Url!.AbsolutePath.EndsWith("/instance/preempted", StringComparison.Ordinal) && r.Headers["Metadata-Flavor"] == "Google"
                ? new HttpReply(200, Volatile.Read(ref preempted) ? "TRUE" : "FALSE")
                : new HttpReply(404));
        var store = _temp.Combine("store");
        var dir = _temp.Combine("ckpt");
        await using var run = SupervisedRun.Start(
            RunFixtures.Run(store, dir, ["--format", "torch", "--preemption", "gce", "--preemption-interval", "200ms"],
                RunFixtures.Python("torch", dir, "--steps", "100000", "--every", "100000", "--step-ms", "10", "--checkpoint-on-term")),
            _temp.Path,
            new Dictionary<string, string?> { ["BATON_GCE_METADATA_URL"] = new Uri(gce.BaseAddress, "computeMetadata/v1").ToString() });
        await run.WaitForLineAsync("^step 20$");

        Volatile.Write(ref preempted, true);

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 75, run.Output);
        Assert.Contains("preemption notice: GCE says this instance is being preempted", run.Output, StringComparison.Ordinal);
        Assert.Equal(StoppedAt(run.Output), Assert.Single(await RunFixtures.SnapshotsAsync(store)).Manifest.Step);
        Assert.Equal("preempted gce", Assert.Single(await RunFixtures.LegsAsync(store)).EndReason);
    }

    [Fact(Timeout = 120_000)]
    public async Task Auto_finds_the_cloud_that_answers_and_acts_on_its_notice()
    {
        var events = "{\"Events\": []}";
        await using var azure = new LoopbackHttpServer(_ => new HttpReply(200, Volatile.Read(ref events)));
        var closed = $"http://127.0.0.1:{FreePort.Next()}/";
        var store = _temp.Combine("store");
        var dir = _temp.Combine("ckpt");
        await using var run = SupervisedRun.Start(
            RunFixtures.Run(store, dir, ["--format", "torch", "--preemption", "auto", "--preemption-interval", "200ms"],
                RunFixtures.Python("torch", dir, "--steps", "100000", "--every", "100000", "--step-ms", "10", "--checkpoint-on-term")),
            _temp.Path,
            new Dictionary<string, string?>
            {
                ["BATON_GCE_METADATA_URL"] = closed, ["BATON_AWS_METADATA_URL"] = closed,
                ["BATON_AZURE_METADATA_URL"] = new Uri(azure.BaseAddress, "metadata").ToString(),
            });
        await run.WaitForLineAsync("^baton: watching azure preemption notices$");
        await run.WaitForLineAsync("^step 20$");

        Volatile.Write(ref events, "{\"Events\": [{\"EventType\": \"Preempt\", \"NotBefore\": \"Mon, 19 Sep 2030 18:29:47 GMT\"}]}");

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 75, run.Output);
        Assert.Equal(StoppedAt(run.Output), Assert.Single(await RunFixtures.SnapshotsAsync(store)).Manifest.Step);
        Assert.Equal("preempted azure", Assert.Single(await RunFixtures.LegsAsync(store)).EndReason);
    }

    public void Dispose() => _temp.Dispose();

    private static long StoppedAt(string output) =>
        long.Parse(Regex.Match(output, @"stopping at step (\d+) after a last checkpoint").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
}
