using Baton.Supervision;
using Baton.Testing;

namespace Baton.Tests.Supervision;

/// <summary>The trainer's save stall, from the files of a checkpoint as the supervisor finds them.</summary>
public sealed class SaveTimesTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact]
    public void The_stall_runs_from_the_first_file_the_save_created_to_the_last_modification_and_is_unknown_without_a_previous_save()
    {
        // A config written once and an index rewritten in place belong to every checkpoint; only the data file is new.
        File.WriteAllText(_temp.Combine("config.json"), "{}");
        File.WriteAllText(_temp.Combine("checkpoint"), "model-1");
        var previous = new PreviousSave(new HashSet<string>(["config.json", "checkpoint", "model-1.data"], StringComparer.Ordinal), DateTimeOffset.MaxValue);
        File.WriteAllText(_temp.Combine("model-2.data"), "weights");
        var created = new FileInfo(_temp.Combine("model-2.data")).CreationTimeUtc;
        File.WriteAllText(_temp.Combine("checkpoint"), "model-2");
        File.SetLastWriteTimeUtc(_temp.Combine("checkpoint"), created.AddSeconds(2));
        File.SetLastWriteTimeUtc(_temp.Combine("config.json"), created);
        string[] files = ["checkpoint", "config.json", "model-2.data"];

        var (written, stall) = SaveTimes.Of(_temp.Path, files, previous);
        var (_, first) = SaveTimes.Of(_temp.Path, files, null);

        Assert.Equal(new DateTimeOffset(created.AddSeconds(2), TimeSpan.Zero), written);
        Assert.Equal(2.0, stall);
        Assert.Null(first);
        Assert.Equal((null, null), SaveTimes.Of(_temp.Path, ["gone"], previous));
    }

    public void Dispose() => _temp.Dispose();
}
