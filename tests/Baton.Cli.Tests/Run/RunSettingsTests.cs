using Baton.Snapshots;
using Baton.Testing;

namespace Baton.Tests.Run;

/// <summary>What <c>baton run</c> does besides supervising: data staged first, retention as it goes, defaults from baton.toml.</summary>
public sealed class RunSettingsTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 120_000)]
    public async Task Data_is_staged_before_the_trainer_starts_and_retention_keeps_the_newest_snapshots()
    {
        var payload = new byte[100_000];
        new Random(3).NextBytes(payload);
        await using var server = new LoopbackHttpServer(r => r.Url!.AbsolutePath == "/data/eye.npz"
            ? new HttpReply(200, Convert.ToBase64String(payload))
            : new HttpReply(404));
        var store = _temp.Combine("store");
        await SeedAsync(store, 3);
        var dir = _temp.Combine("ckpt");
        var staged = _temp.Combine("eye.npz");
        var check = $"test -s '{staged}' || {{ echo 'no data'; exit 9; }}; exec python3 '{RunFixtures.Script}' train --layout tf --dir '{dir}' --steps 30 --every 5 --step-ms 20";
        await using var run = SupervisedRun.Start(
            RunFixtures.Run(store, dir, ["--data", $"{new Uri(server.BaseAddress, "data/eye.npz")}={staged}", "--keep-last", "2"], ["sh", "-c", check]),
            _temp.Path,
            new Dictionary<string, string?> { ["BATON_STAGE_CACHE"] = _temp.Combine("cache") });

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(90)) == 0, run.Output);
        Assert.Equal(Convert.ToBase64String(payload), File.ReadAllText(staged));
        Assert.Contains($"baton: staged {staged}: 1 file(s)", run.Output, StringComparison.Ordinal);
        var snapshots = await RunFixtures.SnapshotsAsync(store);
        Assert.Equal(2, snapshots.Count);
        Assert.Equal(30, snapshots[^1].Manifest.Step);
    }

    [Fact(Timeout = 120_000)]
    public async Task The_directory_format_and_resume_arguments_come_from_baton_toml()
    {
        var work = _temp.Combine("work");
        Directory.CreateDirectory(work);
        File.WriteAllText(Path.Combine(work, "baton.toml"), "store = \"store\"\nrun = \"r\"\ndir = \"logs\"\nformat = \"pattern:ckpt-{step}.bin\"\nresume_args = \"--resume\"\n");
        string[] trainer = ["python3", RunFixtures.Script, "train", "--layout", "pattern", "--dir", "logs", "--steps", "10", "--step-ms", "10"];

        var first = await BatonCli.RunAsync(["run", "--quiet-period", "150ms", "--", .. trainer], work);
        Directory.Delete(Path.Combine(work, "logs"), recursive: true);
        var second = await BatonCli.RunAsync(["run", "--quiet-period", "150ms", "--", .. trainer[..^4], "--steps", "20", "--step-ms", "10"], work);

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("resumed at step 10", second.StdOut, StringComparison.Ordinal);
        Assert.Equal(20, (await RunFixtures.SnapshotsAsync(Path.Combine(work, "store")))[^1].Manifest.Step);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_trainer_that_replaces_checkpoints_faster_than_they_settle_is_told_once_and_its_last_one_is_still_pushed()
    {
        var store = _temp.Combine("store");
        var dir = _temp.Combine("ckpt");
        // A checkpoint every 100 ms, each needing a second without change.
        var result = await BatonCli.RunAsync(["run", "--store", store, "--run", "r", "--dir", dir, "--format", "tf", "--quiet-period", "5s", "--",
            .. RunFixtures.DemoTrainer(dir, "--steps", "150", "--every", "5", "--step-ms", "20")]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var warnings = (result.StdOut + result.StdErr).Split('\n').Where(l => l.Contains("replaced before they settle", StringComparison.Ordinal)).ToList();
        Assert.True(warnings.Count == 1, result.ToString());
        Assert.Contains("lower --quiet-period", warnings[0], StringComparison.Ordinal);
        Assert.Equal(150, (await RunFixtures.SnapshotsAsync(store))[^1].Manifest.Step);
    }

    [Fact(Timeout = 60_000)]
    public async Task Data_that_is_not_src_equals_dest_is_a_usage_error()
    {
        var result = await BatonCli.RunAsync(["run", "--store", _temp.Combine("store"), "--run", "r", "--dir", _temp.Combine("d"), "--data", "https://example.invalid/eye.npz", "--", "sh", "-c", "exit 0"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("is not SRC=DEST", result.StdErr, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();

    // Older snapshots of the run, so that retention has something to remove however few checkpoints the run pushes.
    private async Task SeedAsync(string store, int count)
    {
        var source = _temp.Combine("seed");
        await using var objects = new Baton.Storage.Folder.FolderStore(store);
        var repository = await Baton.Repositories.Repository.OpenOrInitAsync(objects);
        for (var step = 1; step <= count; step++)
        {
            TestData.WriteRandomFile(Path.Combine(source, "notes.bin"), 1000, step);
            await repository.PushAsync(source, "r", new Baton.Snapshots.PushOptions { Step = step });
        }
    }
}
