using System.Text.RegularExpressions;
using Baton.Checkpoints;

namespace Baton.Tests.Checkpoints;

public sealed class TorchDetectorTests : DetectorTestBase
{
    [Fact]
    public void A_lightning_checkpoint_takes_its_step_from_the_name()
    {
        CheckpointFiles.TorchZip(PathOf("epoch=2-step=800.ckpt"));
        CheckpointFiles.TorchZip(PathOf("epoch=3-step=1200.ckpt"));

        var found = Settle(new TorchDetector(Options));

        Assert.Equal(1200, found?.Step);
        Assert.Equal(["epoch=2-step=800.ckpt", "epoch=3-step=1200.ckpt"], found!.Files);
    }

    [Fact]
    public void A_file_without_its_zip_trailer_is_never_complete_and_the_older_one_is_used()
    {
        CheckpointFiles.TorchZip(PathOf("ckpt-100.pt"));
        CheckpointFiles.TruncatedTorchZip(PathOf("ckpt-200.pt"));

        var found = Settle(new TorchDetector(Options));

        Assert.Equal(100, found?.Step);
    }

    [Fact]
    public void Step_from_reads_the_step_with_a_regular_expression()
    {
        Options = Options with { StepFrom = new Regex(@"iter(\d+)") };
        CheckpointFiles.TorchZip(PathOf("run/model_iter0042_final.pth"));

        var found = Settle(new TorchDetector(Options));

        Assert.Equal(42, found?.Step);
        Assert.Equal(["run/model_iter0042_final.pth"], found!.Files);
    }

    [Fact]
    public void Without_steps_in_names_the_most_recently_written_file_wins()
    {
        CheckpointFiles.TorchZip(PathOf("best.ckpt"));
        CheckpointFiles.TorchZip(PathOf("last.ckpt"));
        File.SetLastWriteTimeUtc(PathOf("best.ckpt"), new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc));

        var found = Settle(new TorchDetector(Options));

        Assert.Null(found?.Step);
        Assert.Equal("last.ckpt", found?.Name);
        Assert.Equal(["best.ckpt", "last.ckpt"], found!.Files);
    }

    [Fact]
    public void The_snapshot_holds_every_complete_checkpoint_file_and_its_side_files_at_the_newest_step()
    {
        // Lightning's layout: last.ckpt beside the step-named files a keep-last-k rotation leaves, hparams beside them.
        CheckpointFiles.TorchZip(PathOf("checkpoints/epoch=1-step=400.ckpt"));
        CheckpointFiles.TorchZip(PathOf("checkpoints/epoch=2-step=800.ckpt"));
        CheckpointFiles.TorchZip(PathOf("checkpoints/last.ckpt"));
        CheckpointFiles.Text(PathOf("checkpoints/hparams.yaml"), "lr: 0.1\n");
        CheckpointFiles.TruncatedTorchZip(PathOf("checkpoints/epoch=3-step=1200.ckpt"));

        var found = Settle(new TorchDetector(Options));

        Assert.Equal(800, found?.Step);
        Assert.Equal(
            ["checkpoints/epoch=1-step=400.ckpt", "checkpoints/epoch=2-step=800.ckpt", "checkpoints/hparams.yaml", "checkpoints/last.ckpt"],
            found!.Files);
    }

    [Fact]
    public void A_complete_zip_is_taken_at_once_without_waiting_for_it_to_settle()
    {
        CheckpointFiles.TorchZip(PathOf("last.pt"));

        var found = new TorchDetector(Options).Detect(Directory).Newest;

        Assert.Equal(["last.pt"], found?.Files);
    }

    [Fact]
    public void A_fixed_name_being_rewritten_holds_the_snapshot_back_until_it_is_whole_or_stays_cut_short()
    {
        var detector = new TorchDetector(Options);
        CheckpointFiles.TorchZip(PathOf("best.pt"));
        CheckpointFiles.TruncatedTorchZip(PathOf("last.pt"));

        var writing = detector.Detect(Directory);
        Assert.Null(writing.Newest);
        Assert.Equal("last.pt", writing.Pending);
        Assert.NotNull(writing.RecheckIn);

        Clock.Advance(Options.QuietPeriod + TimeSpan.FromSeconds(1));
        Assert.Equal(["best.pt"], detector.Detect(Directory).Newest?.Files);

        File.Delete(PathOf("last.pt"));
        CheckpointFiles.TorchZip(PathOf("last.pt"), size: 6000);
        Assert.Equal(["best.pt", "last.pt"], detector.Detect(Directory).Newest?.Files);
    }
}
