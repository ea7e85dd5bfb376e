using Baton.Checkpoints;

namespace Baton.Tests.Checkpoints;

public sealed class TfDetectorTests : DetectorTestBase
{
    [Fact]
    public void The_named_prefix_with_every_shard_is_found_with_its_state_file_and_config()
    {
        CheckpointFiles.TfPrefix(Directory, "vector-500");
        CheckpointFiles.TfPrefix(Directory, "vector-1000", shards: 2);
        CheckpointFiles.TfState(Directory, "vector-1000", "vector-500", "vector-1000");
        CheckpointFiles.Text(PathOf("model_config.json"), "{}");
        CheckpointFiles.Write(PathOf("events.out.tfevents.1700000000.host"), 300);

        var found = Settle(new TfDetector(Options));

        Assert.NotNull(found);
        Assert.Equal(1000, found.Step);
        Assert.Equal("vector-1000", found.Name);
        Assert.Equal(
            ["checkpoint", "model_config.json", "vector-1000.data-00000-of-00002", "vector-1000.data-00001-of-00002", "vector-1000.index", "vector-1000.meta"],
            found.Files);
    }

    [Fact]
    public void A_prefix_missing_a_shard_is_not_complete()
    {
        CheckpointFiles.TfPrefix(Directory, "vector-1000", shards: 2);
        File.Delete(PathOf("vector-1000.data-00001-of-00002"));
        CheckpointFiles.TfState(Directory, "vector-1000");

        Assert.Null(Settle(new TfDetector(Options)));
    }

    [Fact]
    public void A_state_file_cut_off_mid_line_names_nothing()
    {
        CheckpointFiles.TfPrefix(Directory, "vector-1000");
        CheckpointFiles.Text(PathOf("checkpoint"), "model_checkpoint_path: \"vector-10");

        Assert.Null(Settle(new TfDetector(Options)));
    }

    [Fact]
    public void Files_still_changing_are_not_complete_until_they_settle()
    {
        CheckpointFiles.TfPrefix(Directory, "ckpt-7");
        CheckpointFiles.TfState(Directory, "ckpt-7");
        var detector = new TfDetector(Options);

        var first = detector.Detect(Directory);
        Assert.Null(first.Newest);
        Assert.NotNull(first.RecheckIn);

        Clock.Advance(Options.SettlePeriod);
        Assert.Equal(7, detector.Detect(Directory).Newest?.Step);
    }

    [Fact]
    public void An_absolute_path_inside_the_directory_is_read_as_relative()
    {
        CheckpointFiles.TfPrefix(Directory, "model.ckpt-30");
        CheckpointFiles.TfState(Directory, PathOf("model.ckpt-30"));

        var found = Settle(new TfDetector(Options));

        Assert.Equal(30, found?.Step);
        Assert.Contains("model.ckpt-30.index", found!.Files);
    }

    [Fact]
    public void Rewriting_only_the_configuration_keeps_the_checkpoint_the_same()
    {
        CheckpointFiles.TfPrefix(Directory, "vector-5");
        CheckpointFiles.TfState(Directory, "vector-5");
        CheckpointFiles.Text(PathOf("model_config.json"), "{}");
        var detector = new TfDetector(Options);
        var before = Settle(detector);

        File.SetLastWriteTimeUtc(PathOf("model_config.json"), new DateTime(2030, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var after = Settle(detector);

        Assert.Equal(before!.Fingerprint, after!.Fingerprint);
    }

    [Fact]
    public void A_configuration_rewritten_after_the_checkpoint_settled_holds_it_back_until_it_settles_too()
    {
        CheckpointFiles.TfPrefix(Directory, "vector-5");
        CheckpointFiles.TfState(Directory, "vector-5");
        CheckpointFiles.Text(PathOf("model_config.json"), "{}");
        var detector = new TfDetector(Options);
        Assert.Contains("model_config.json", Settle(detector)!.Files);

        // A restarted trainer writes its configuration again before its next checkpoint.
        CheckpointFiles.Text(PathOf("model_config.json"), "{\"layers\": 2}");
        var settling = detector.Detect(Directory);
        Assert.Null(settling.Newest);
        Assert.NotNull(settling.RecheckIn);

        Clock.Advance(Options.SettlePeriod);
        Assert.Contains("model_config.json", detector.Detect(Directory).Newest!.Files);
    }

    [Fact]
    public void A_file_rewritten_at_every_scan_is_left_out_after_a_while_instead_of_holding_checkpoints_back()
    {
        CheckpointFiles.TfPrefix(Directory, "vector-5");
        CheckpointFiles.TfState(Directory, "vector-5");
        var detector = new TfDetector(Options);
        var step = Options.SettlePeriod / 4;
        var start = Clock.GetUtcNow();
        Checkpoint? found = null;
        for (var scan = 0; scan < 40 && found is null; scan++)
        {
            CheckpointFiles.Text(PathOf("metrics.json"), new string('1', scan + 1)); // a new size each time
            found = detector.Detect(Directory).Newest;
            Clock.Advance(step);
        }

        Assert.NotNull(found);
        Assert.DoesNotContain("metrics.json", found.Files);
        Assert.True(Clock.GetUtcNow() - start >= Options.SettlePeriod * 5, "the checkpoint went without the file before it had changed for five settle periods");
    }
}
