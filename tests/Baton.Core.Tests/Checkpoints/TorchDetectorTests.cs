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
        Assert.Equal(["epoch=3-step=1200.ckpt"], found!.Files);
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
    }
}
