using Baton.Checkpoints;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Checkpoints;

/// <summary>A checkpoint is pushed exactly as it was found, or not at all.</summary>
public sealed class StampTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 30_000)]
    public async Task A_state_file_replaced_after_the_checkpoint_was_found_fails_the_push_and_commits_nothing()
    {
        var dir = _temp.Combine("ckpt");
        CheckpointFiles.TfPrefix(dir, "vector-10");
        CheckpointFiles.TfPrefix(dir, "vector-20");
        CheckpointFiles.TfState(dir, "vector-10");
        var found = new TfDetector(new DetectorOptions()).Detect(dir, DetectionMode.Settled).Newest!;

        // TensorFlow replaces the state file atomically when it saves the next checkpoint.
        File.WriteAllText(Path.Combine(dir, "checkpoint.tmp"), "model_checkpoint_path: \"vector-20\"\n");
        File.Move(Path.Combine(dir, "checkpoint.tmp"), Path.Combine(dir, "checkpoint"), overwrite: true);

        await using var store = new FolderStore(_temp.Combine("store"));
        var repository = await Repository.OpenOrInitAsync(store);
        var error = await Assert.ThrowsAsync<CheckpointChangedException>(() =>
            repository.PushAsync(dir, "r", new PushOptions { Step = found.Step, Include = found.Files, Expected = found.Stamps }));

        Assert.Equal("checkpoint", error.Path);
        Assert.Empty(await repository.ListSnapshotsAsync("r"));
    }

    [Fact(Timeout = 30_000)]
    public async Task An_unchanged_checkpoint_is_pushed_with_its_stamps()
    {
        var dir = _temp.Combine("ckpt");
        CheckpointFiles.TfPrefix(dir, "vector-10");
        CheckpointFiles.TfState(dir, "vector-10");
        var found = new TfDetector(new DetectorOptions()).Detect(dir, DetectionMode.Settled).Newest!;

        await using var store = new FolderStore(_temp.Combine("store"));
        var repository = await Repository.OpenOrInitAsync(store);
        var snapshot = await repository.PushAsync(dir, "r", new PushOptions { Step = found.Step, Include = found.Files, Expected = found.Stamps });

        Assert.Equal(found.Files, snapshot.Manifest.Entries.Select(e => e.Path));
    }

    public void Dispose() => _temp.Dispose();
}
