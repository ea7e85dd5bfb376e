using Baton.Cli.Rendering;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Tests.Progress;

public sealed class TransferMeterTests
{
    private const long MiB = 1 << 20;
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void No_rate_or_eta_is_given_before_the_transfer_has_run_for_a_second()
    {
        var meter = new TransferMeter(_time);
        _time.Advance(TimeSpan.FromMilliseconds(3));

        var reading = meter.Update(new TransferProgress(4 * MiB, 100 * MiB, 1, 10));

        Assert.Null(reading.BytesPerSecond);
        Assert.Null(reading.Remaining);
    }

    [Fact]
    public void After_a_second_the_rate_is_the_average_so_far_and_the_eta_follows_from_it()
    {
        var meter = new TransferMeter(_time);
        _time.Advance(TimeSpan.FromSeconds(2));

        var reading = meter.Update(new TransferProgress(4 * MiB, 10 * MiB, 1, 4));

        Assert.Equal(2.0 * MiB, reading.BytesPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(3), reading.Remaining);
    }

    [Fact]
    public void A_burst_moves_the_smoothed_rate_only_part_of_the_way()
    {
        var meter = new TransferMeter(_time);
        _time.Advance(TimeSpan.FromSeconds(2));
        meter.Update(new TransferProgress(2 * MiB, 100 * MiB, 0, 1));

        _time.Advance(TimeSpan.FromSeconds(1));
        var reading = meter.Update(new TransferProgress(12 * MiB, 100 * MiB, 0, 1));

        // The instant rate was 10 MiB/s after 1 MiB/s: the shown rate rises, but stays well below the burst.
        Assert.InRange(reading.BytesPerSecond!.Value, 1.5 * MiB, 5.0 * MiB);
    }

    [Fact]
    public void Reports_that_arrive_out_of_order_never_move_bytes_or_files_backwards()
    {
        var meter = new TransferMeter(_time);
        meter.Update(new TransferProgress(800, 1000, 3, 4));

        var reading = meter.Update(new TransferProgress(500, 1000, 2, 4));

        Assert.Equal(new TransferProgress(800, 1000, 3, 4), reading.Progress);
    }
}
