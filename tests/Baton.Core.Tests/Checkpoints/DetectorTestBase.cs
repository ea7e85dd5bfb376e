using Baton.Checkpoints;
using Baton.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Baton.Tests.Checkpoints;

public abstract class DetectorTestBase : IDisposable
{
    private readonly TempDirectory _temp = new();

    protected DetectorTestBase()
    {
        Directory = _temp.Combine("ckpt");
        System.IO.Directory.CreateDirectory(Directory);
        Options = new DetectorOptions { QuietPeriod = TimeSpan.FromSeconds(5), TimeProvider = Clock };
    }

    protected FakeTimeProvider Clock { get; } = new();

    protected string Directory { get; }

    protected DetectorOptions Options { get; set; }

    protected string PathOf(string relative) => System.IO.Path.Combine(Directory, relative);

    /// <summary>Scans twice, far enough apart that every file that did not change has settled.</summary>
    protected Checkpoint? Settle(CheckpointDetector detector)
    {
        detector.Detect(Directory);
        Clock.Advance(Options.QuietPeriod + TimeSpan.FromSeconds(1));
        return detector.Detect(Directory).Newest;
    }

    public void Dispose()
    {
        _temp.Dispose();
        GC.SuppressFinalize(this);
    }
}
