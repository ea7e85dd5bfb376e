using Baton.Repositories;

namespace Baton.Tests.Snapshots;

public sealed class ManifestValidatorTests
{
    private const string What = "snapshot manifest 'runs/r/snapshots/0000000001'";
    private static readonly string Chunk = ContentId.Compute("x"u8).ToString();

    private static readonly SnapshotEntry File = new() { Path = "d/f", Kind = EntryKind.File, Size = 10, Mode = 0x1A4, MTime = 1, Chunks = [Chunk] };

    public static TheoryData<string, string> Forgeries => new()
    {
        { "kind", "kind 9" },
        { "mode", "mode" },
        { "negative mtime", "modification time" },
        { "huge mtime", "modification time" },
        { "negative size", "size -1" },
        { "bytes without chunks", "chunk(s) cannot hold" },
        { "more chunks than bytes", "chunk(s) cannot hold" },
        { "chunk id", "chunk id 'zz'" },
        { "chunks on a directory", "has no size or chunks" },
        { "target on a file", "a target on an entry that is not a link" },
        { "link without target", "a link without a target" },
        { "sequence", "sequence" },
        { "fence with files", "a fence holds no files" },
        { "stats", "stats" },
        { "path", "leaves the target directory" },
    };

    [Fact]
    public void A_manifest_as_a_push_writes_it_passes() => ManifestValidator.Validate(Manifest(), What);

    [Theory]
    [MemberData(nameof(Forgeries))]
    public void Each_forged_field_is_an_integrity_error_naming_the_object_and_the_field(string forgery, string named)
    {
        var manifest = forgery switch
        {
            "kind" => With(File with { Kind = (EntryKind)9 }),
            "mode" => With(File with { Mode = 0x10000 }),
            "negative mtime" => With(File with { MTime = long.MinValue }),
            "huge mtime" => With(File with { MTime = long.MaxValue }),
            "negative size" => With(File with { Size = -1 }),
            "bytes without chunks" => With(File with { Chunks = null }),
            "more chunks than bytes" => With(File with { Size = 1, Chunks = [Chunk, Chunk] }),
            "chunk id" => With(File with { Chunks = ["zz"] }),
            "chunks on a directory" => With(new SnapshotEntry { Path = "d", Kind = EntryKind.Directory, Chunks = [Chunk] }),
            "target on a file" => With(File with { Target = "x" }),
            "link without target" => With(new SnapshotEntry { Path = "l", Kind = EntryKind.Link }),
            "sequence" => Manifest() with { Sequence = 0 },
            "fence with files" => Manifest() with { Fence = true },
            "stats" => Manifest() with { Stats = new SnapshotStats { Bytes = -5 } },
            _ => With(File with { Path = "../f" }),
        };

        var error = Assert.Throws<IntegrityException>(() => ManifestValidator.Validate(manifest, What));

        Assert.Contains(What, error.Message, StringComparison.Ordinal);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    private static SnapshotManifest Manifest() => new()
    {
        Run = "r",
        Sequence = 1,
        Entries =
        [
            new SnapshotEntry { Path = "d", Kind = EntryKind.Directory, Mode = 0x1ED },
            File,
            new SnapshotEntry { Path = "d/empty", Kind = EntryKind.File },
            new SnapshotEntry { Path = "d/l", Kind = EntryKind.Link, Target = "f" },
        ],
    };

    // The manifest with one entry forged: the directory "d" when the forgery is a directory, else the file "d/f".
    private static SnapshotManifest With(SnapshotEntry forged) =>
        Manifest() with { Entries = [.. Manifest().Entries.Select(e => e.Path == (forged.Path == "d" ? "d" : "d/f") ? forged : e)] };
}
