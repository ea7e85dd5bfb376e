using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Run;

/// <summary>Bad input to <c>baton run</c>: one line on stderr, exit 2, and nothing in the store or directory touched.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public static TheoryData<string, string[], string[], string> Cases => new()
    {
        { "no command after --", [], [], "no training command" },
        { "a command that does not exist", [], ["no-such-trainer-5e1b", "--epochs", "3"], "command 'no-such-trainer-5e1b' not found on PATH" },
        { "an unknown format", ["--format", "caffe"], ["sh", "-c", "exit 0"], "unknown checkpoint format 'caffe'" },
        { "a pattern without a glob", ["--format", "pattern:"], ["sh", "-c", "exit 0"], "needs a glob" },
        { "a duration that is not one", ["--grace", "soon"], ["sh", "-c", "exit 0"], "--grace 'soon' is not a duration" },
        { "an unknown signal", ["--signal", "SIGNOPE"], ["sh", "-c", "exit 0"], "--signal 'SIGNOPE' is not a signal" },
        { "an unknown cloud", ["--preemption", "ibm"], ["sh", "-c", "exit 0"], "unknown --preemption 'ibm'" },
        { "an unknown checkpoint signal target", ["--checkpoint-signal-to", "everyone"], ["sh", "-c", "exit 0"], "--checkpoint-signal-to 'everyone' is not trainer or group" },
    };

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Cases))]
    public async Task Bad_input_is_one_line_exit_2_and_loses_nothing(string what, string[] options, string[] trainer, string message)
    {
        var (store, before) = await StoreWithOneSnapshotAsync();
        var dir = _temp.Combine("ckpt");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "ckpt-1.bin"), "mine");

        var result = await BatonCli.RunAsync(["run", "--store", store, "--run", "r", "--dir", dir, .. options, "--", .. trainer]);

        Assert.True(result.ExitCode == 2, $"{what}: {result}");
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains(message, line, StringComparison.Ordinal);
        Assert.StartsWith("baton: ", line, StringComparison.Ordinal);
        await AssertUntouchedAsync(store, before, dir);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_checkpoint_directory_that_cannot_be_written_is_one_line_exit_2()
    {
        var (store, before) = await StoreWithOneSnapshotAsync();
        var file = _temp.Combine("a-file");
        File.WriteAllText(file, "not a directory");

        var result = await BatonCli.RunAsync(["run", "--store", store, "--run", "r", "--dir", Path.Combine(file, "ckpt"), "--", "sh", "-c", "exit 0"]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("is not writable", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
        await AssertUntouchedAsync(store, before, null);
    }

    public void Dispose() => _temp.Dispose();

    private async Task<(string Store, IReadOnlyList<Snapshot> Before)> StoreWithOneSnapshotAsync()
    {
        var store = _temp.Combine("store");
        var source = _temp.Combine("source");
        TestData.WriteRandomFile(Path.Combine(source, "ckpt-1.bin"), 10_000, 1);
        await using var objects = new FolderStore(store);
        var repository = await Repository.OpenOrInitAsync(objects);
        await repository.PushAsync(source, "r", new PushOptions { Step = 1 });
        return (store, await repository.ListSnapshotsAsync("r"));
    }

    private static async Task AssertUntouchedAsync(string store, IReadOnlyList<Snapshot> before, string? dir)
    {
        Assert.Equal(before.Select(s => s.Id), (await RunFixtures.SnapshotsAsync(store)).Select(s => s.Id));
        Assert.Empty(await RunFixtures.LegsAsync(store));
        if (dir is not null)
        {
            Assert.Equal(["ckpt-1.bin"], Directory.GetFiles(dir).Select(Path.GetFileName));
            Assert.Equal("mine", File.ReadAllText(Path.Combine(dir, "ckpt-1.bin")));
        }
    }
}
