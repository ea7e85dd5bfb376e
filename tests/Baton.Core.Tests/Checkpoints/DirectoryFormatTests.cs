using Baton.Checkpoints;

namespace Baton.Tests.Checkpoints;

public sealed class DirectoryFormatTests : DetectorTestBase
{
    [Fact]
    public void A_hugging_face_checkpoint_needs_trainer_state_and_a_quiet_period()
    {
        CheckpointFiles.Write(PathOf("checkpoint-500/model.safetensors"), 4000);
        CheckpointFiles.Text(PathOf("checkpoint-500/trainer_state.json"), "{}");
        CheckpointFiles.Write(PathOf("checkpoint-1000/model.safetensors"), 4000);
        var detector = new HfDetector(Options);

        detector.Detect(Directory);
        Clock.Advance(Options.QuietPeriod - TimeSpan.FromSeconds(1));
        Assert.Null(detector.Detect(Directory).Newest);

        Clock.Advance(TimeSpan.FromSeconds(2));
        var found = detector.Detect(Directory).Newest;
        Assert.Equal(500, found?.Step);
        Assert.Equal(["checkpoint-500/model.safetensors", "checkpoint-500/trainer_state.json"], found!.Files);
    }

    [Fact]
    public void An_orbax_step_under_its_temporary_name_is_not_complete()
    {
        CheckpointFiles.Write(PathOf("10/default/data"), 1000);
        CheckpointFiles.Write(PathOf("20.orbax-checkpoint-tmp-1700000000/default/data"), 1000);

        var found = Settle(new OrbaxDetector(Options));

        Assert.Equal(10, found?.Step);
        Assert.Equal(["10/default/data"], found!.Files);
    }

    [Fact]
    public void Where_orbax_writes_commit_markers_a_step_without_one_is_not_complete()
    {
        CheckpointFiles.Write(PathOf("10/default/data"), 1000);
        CheckpointFiles.Text(PathOf("10/commit_success.txt"), "ok");
        CheckpointFiles.Write(PathOf("20/default/data"), 1000);

        Assert.Equal(10, Settle(new OrbaxDetector(Options))?.Step);
    }

    [Fact]
    public void A_keras_backup_takes_its_step_from_the_epoch()
    {
        CheckpointFiles.Write(PathOf("latest.weights.h5"), 3000);
        CheckpointFiles.Text(PathOf("training_metadata.json"), "{\"epoch\": 7, \"batch\": -1}");

        var found = Settle(new KerasDetector(Options));

        Assert.Equal(7, found?.Step);
        Assert.Equal(["latest.weights.h5", "training_metadata.json"], found!.Files);
    }

    [Fact]
    public void A_tf_keras_backup_is_read_as_a_tensorflow_checkpoint_under_chief()
    {
        CheckpointFiles.TfPrefix(PathOf("chief"), "ckpt-4");
        CheckpointFiles.TfState(PathOf("chief"), "ckpt-4");

        var found = Settle(new KerasDetector(Options));

        Assert.Equal("keras", found?.Format);
        Assert.Equal(4, found?.Step);
        Assert.Contains("chief/checkpoint", found!.Files);
    }

    [Fact]
    public void A_pattern_groups_the_files_of_one_step()
    {
        CheckpointFiles.Write(PathOf("step_10/model.bin"), 100);
        CheckpointFiles.Write(PathOf("step_10/optim.bin"), 100);
        CheckpointFiles.Write(PathOf("step_20/model.bin"), 100);
        CheckpointFiles.Write(PathOf("step_20/notes.txt"), 100);

        var found = Settle(new PatternDetector("step_{step}/*.bin", Options));

        Assert.Equal(20, found?.Step);
        Assert.Equal(["step_20/model.bin"], found!.Files);
    }

    [Fact]
    public void A_pattern_file_that_was_being_written_when_its_writer_died_never_counts_until_rewritten()
    {
        CheckpointFiles.Write(PathOf("ckpt-10.bin"), 100);
        var detector = new PatternDetector("ckpt-{step}.bin", Options);
        Settle(detector);
        CheckpointFiles.Write(PathOf("ckpt-20.bin"), 50);
        detector.Detect(Directory);

        Assert.Equal(1, detector.OnWriterDied());
        Clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(10, detector.Detect(Directory).Newest?.Step);
        Assert.Equal(10, detector.Detect(Directory, DetectionMode.Settled).Newest?.Step);

        CheckpointFiles.Write(PathOf("ckpt-20.bin"), 100, seed: 2);
        Assert.Equal(20, Settle(detector)?.Step);
    }

    [Fact]
    public void Auto_picks_the_layout_the_directory_shows_and_keeps_it()
    {
        var detector = new AutoDetector(Options);
        Assert.Null(Settle(detector));
        Assert.Null(detector.Picked);

        CheckpointFiles.TorchZip(PathOf("ckpt-3.pt"));
        Assert.Equal(3, Settle(detector)?.Step);
        Assert.StartsWith("torch", detector.Picked, StringComparison.Ordinal);
        Assert.Equal("torch", detector.Name);
    }

    [Fact]
    public void A_pattern_with_a_fixed_name_is_one_checkpoint_once_it_settles()
    {
        var detector = CheckpointFormats.Create("pattern:last.pt", Options);
        CheckpointFiles.Write(PathOf("last.pt"), 100);
        CheckpointFiles.Write(PathOf("other.pt"), 100);

        Assert.Null(detector.Detect(Directory).Newest);
        var found = Settle(detector);

        Assert.Equal(["last.pt"], found?.Files);
        Assert.Null(found?.Step);
        Assert.Equal("pattern", detector.Name);
    }

    [Fact]
    public void Format_dir_takes_the_whole_directory_after_the_quiet_period_without_baton_s_own_files()
    {
        Options = Options with { StepFrom = new System.Text.RegularExpressions.Regex(@"epoch(\d+)") };
        var detector = CheckpointFormats.Create("dir", Options);
        CheckpointFiles.Write(PathOf("weights/epoch7.bin"), 100);
        CheckpointFiles.Text(PathOf("state.json"), "{}");
        CheckpointFiles.Text(PathOf(".baton/commits/.tmp-1"), "x");

        Assert.Null(detector.Detect(Directory).Newest);
        var found = Settle(detector);

        Assert.Equal(["state.json", "weights/epoch7.bin"], found?.Files);
        Assert.Equal(7, found?.Step);
        Assert.Equal("dir", detector.Name);
    }

    [Theory]
    [InlineData("caffe", "unknown checkpoint format 'caffe'")]
    [InlineData("pattern:", "needs a glob")]
    [InlineData("pattern:../ckpt-{step}", "relative to the checkpoint directory")]
    public void A_bad_format_is_a_usage_error(string format, string message)
    {
        var error = Assert.Throws<UsageException>(() => CheckpointFormats.Create(format, Options));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
