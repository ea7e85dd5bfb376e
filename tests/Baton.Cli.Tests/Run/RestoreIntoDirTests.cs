using Baton.Testing;

namespace Baton.Tests.Run;

/// <summary>What the trainer finds in --dir after <c>baton run</c> restored into it.</summary>
public sealed class RestoreIntoDirTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 180_000)]
    public async Task After_a_restore_the_directory_is_exactly_the_snapshot_and_its_previous_content_is_kept_aside()
    {
        var store = _temp.Combine("store");
        var source = _temp.Combine("src");
        await File.WriteAllTextAsync(Path.Combine(Directory.CreateDirectory(Path.Combine(source, "checkpoint-500")).FullName, "trainer_state.json"), "{\"global_step\": 500}");
        TestData.WriteRandomFile(Path.Combine(source, "checkpoint-500", "model.safetensors"), 100_000, 1);
        await Cli.SucceedAsync("push", source, "--store", store, "--run", "r", "--step", "500", "--quiet");

        // An older complete checkpoint, and a newer one torn before its trainer_state.json was written: Baton does not
        // count it, but a trainer that resumes from the highest checkpoint-N would.
        var dir = _temp.Combine("ckpt");
        await File.WriteAllTextAsync(Path.Combine(Directory.CreateDirectory(Path.Combine(dir, "checkpoint-300")).FullName, "trainer_state.json"), "{\"global_step\": 300}");
        TestData.WriteRandomFile(Path.Combine(dir, "checkpoint-900", "model.safetensors"), 1000, 2);
        var listing = _temp.Combine("listing.txt");

        var run = await BatonCli.RunAsync(
            RunFixtures.Run(store, dir, ["--format", "hf"], ["sh", "-c", "ls \"$0\" > \"$1\"", dir, listing]),
            timeout: TimeSpan.FromMinutes(2));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["checkpoint-500"], (await File.ReadAllLinesAsync(listing)).Where(l => l.Length > 0));
        TestData.AssertSameTree(source, dir);
        Assert.True(File.Exists(Path.Combine(dir, ".baton-previous", "checkpoint-900", "model.safetensors")), "the previous content was lost");
        Assert.True(File.Exists(Path.Combine(dir, ".baton-previous", "checkpoint-300", "trainer_state.json")), "the previous content was lost");
    }

    public void Dispose() => _temp.Dispose();
}
