using System.Text.Json;
using Baton.Checkpoints;
using Baton.Supervision;
using Baton.Testing;
using Baton.Tests.Supervision;

namespace Baton.Tests.Checkpoints;

public sealed class CommitRecordsTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public CommitRecordsTests() => Directory.CreateDirectory(Dir);

    private string Dir => _temp.Combine("ckpt");

    [Fact]
    public void A_record_is_the_documented_json_under_its_twenty_digit_name()
    {
        CheckpointFiles.Write(Path.Combine(Dir, "model.bin"), 123);
        CheckpointFiles.Write(Path.Combine(Dir, "sub/opt.bin"), 45);

        var path = CommitRecords.Write(Dir, 42, ["model.bin", "sub/opt.bin"], TimeProvider.System);

        Assert.Equal(Path.Combine(Dir, ".baton", "commits", "step-00000000000000000042.json"), path);
        Assert.Equal([Path.GetFileName(path)], Directory.GetFiles(CommitRecords.DirectoryOf(Dir)).Select(Path.GetFileName));
        using var json = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = json.RootElement;
        Assert.Equal(1, root.GetProperty("version").GetInt32());
        Assert.Equal(42, root.GetProperty("step").GetInt64());
        Assert.EndsWith("Z", root.GetProperty("time").GetString(), StringComparison.Ordinal);
        Assert.Equal(["model.bin:123", "sub/opt.bin:45"],
            root.GetProperty("files").EnumerateArray().Select(f => $"{f.GetProperty("path").GetString()}:{f.GetProperty("size").GetInt64()}"));
    }

    [Fact]
    public void Without_a_file_list_the_record_lists_every_file_but_baton_s_own()
    {
        CheckpointFiles.Write(Path.Combine(Dir, "a.bin"), 10);
        CheckpointFiles.Write(Path.Combine(Dir, "b/c.bin"), 20);
        CommitRecords.Write(Dir, 1, null, TimeProvider.System);

        var record = CommitRecords.Read(CommitRecords.Write(Dir, 2, null, TimeProvider.System));

        Assert.Equal([new CommitFile("a.bin", 10), new CommitFile("b/c.bin", 20)], record.Files);
    }

    [Theory]
    [InlineData("../outside.bin", "outside the checkpoint directory")]
    [InlineData("missing.bin", "does not exist")]
    [InlineData(".baton/commits/x", "reserves")]
    public void A_bad_file_is_a_usage_error(string file, string message)
    {
        CheckpointFiles.Write(_temp.Combine("outside.bin"), 5);
        CheckpointFiles.Write(Path.Combine(Dir, ".baton/commits/x"), 5);

        var error = Assert.Throws<UsageException>(() => CommitRecords.RelativeFile(Dir, Path.Combine(Dir, file)));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_naming_a_path_outside_the_directory_is_refused_when_read()
    {
        Directory.CreateDirectory(CommitRecords.DirectoryOf(Dir));
        var path = Path.Combine(CommitRecords.DirectoryOf(Dir), CommitRecords.FileNameOf(3));
        File.WriteAllText(path, """{"version":1,"step":3,"time":"2026-01-01T00:00:00Z","files":[{"path":"../etc/passwd","size":1}]}""");

        var error = Assert.Throws<InvalidDataException>(() => CommitRecords.Read(path));

        Assert.Contains("not a relative path inside the directory", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void With_records_the_newest_is_the_checkpoint_with_the_recorded_sizes_and_a_push_removes_it_and_older_ones()
    {
        var log = new RecordingLog();
        var scanner = new CheckpointScanner(new TorchDetector(new DetectorOptions()), Dir, log);
        CheckpointFiles.TorchZip(Path.Combine(Dir, "last.pt"));
        Assert.Equal("torch", scanner.Scan(DetectionMode.Settled).Newest?.Format);

        CheckpointFiles.Write(Path.Combine(Dir, "model.bin"), 100);
        CommitRecords.Write(Dir, 5, ["model.bin"], TimeProvider.System);
        CommitRecords.Write(Dir, 7, ["model.bin", "last.pt"], TimeProvider.System);
        File.WriteAllText(Path.Combine(CommitRecords.DirectoryOf(Dir), CommitRecords.FileNameOf(9)), "{ torn");

        var found = scanner.Scan(DetectionMode.Live).Newest;

        Assert.Equal(7, found?.Step);
        Assert.Equal(CheckpointScanner.CommitFormat, found?.Format);
        Assert.Equal(["last.pt", "model.bin"], found!.Files);
        Assert.Equal(100, found.Stamps["model.bin"].Size);
        Assert.Contains(log.Lines, l => l.Contains("ignoring the commit record of step 9", StringComparison.Ordinal));

        scanner.Committed(found);
        Assert.Equal([9L], CommitRecords.List(Dir).Select(r => r.Step));
        File.Delete(CommitRecords.List(Dir)[0].Path);

        // The records stay the source of truth once seen: the torch file alone is not a checkpoint any more.
        Assert.Null(scanner.Scan(DetectionMode.Live).Newest);
    }

    [Fact]
    public void A_record_is_judged_once_and_a_file_written_after_it_can_never_match()
    {
        var scanner = new CheckpointScanner(new TorchDetector(new DetectorOptions()), Dir, new RecordingLog());
        CheckpointFiles.Write(Path.Combine(Dir, "model.bin"), 100);
        CheckpointFiles.Write(Path.Combine(Dir, "opt.bin"), 10);
        var record = CommitRecords.Write(Dir, 5, ["model.bin", "opt.bin"], TimeProvider.System);
        // The trainer rewrites opt.bin for the next step (same size) before baton run first looks.
        File.SetLastWriteTimeUtc(Path.Combine(Dir, "opt.bin"), File.GetLastWriteTimeUtc(record).AddSeconds(1));

        var first = scanner.Scan(DetectionMode.Live).Newest!;
        File.SetLastWriteTimeUtc(Path.Combine(Dir, "model.bin"), File.GetLastWriteTimeUtc(record).AddSeconds(2));
        var again = scanner.Scan(DetectionMode.Live).Newest!;

        Assert.Equal(100, first.Stamps["model.bin"].Size);
        Assert.Equal(-1, first.Stamps["opt.bin"].Size);
        Assert.Equal(first.Fingerprint, again.Fingerprint);
    }

    public void Dispose() => _temp.Dispose();
}
