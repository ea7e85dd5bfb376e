using System.Text;
using System.Text.Json;
using Baton.Repositories;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Baton.Tests.Snapshots;

public sealed class ManifestProperties
{
    // Any text that is valid UTF-16: names on disk come back from the OS as such (JSON cannot carry lone surrogates).
    private static readonly Gen<string> Text = ArbMap.Default.GeneratorFor<string>()
        .Where(s => s is not null && IsValidUtf16(s));

    private static readonly Gen<string> Hex = Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), 32).Select(Convert.ToHexStringLower);

    private static readonly Gen<SnapshotEntry> Entry =
        from path in Text
        from kind in Gen.Elements(EntryKind.File, EntryKind.Directory, EntryKind.Link)
        from size in ArbMap.Default.GeneratorFor<long>()
        from mode in Gen.Choose(0, 0xFFF)
        from mtime in ArbMap.Default.GeneratorFor<long>()
        from inode in ArbMap.Default.GeneratorFor<ulong>()
        from target in Text
        from chunks in Gen.ListOf(Hex)
        select new SnapshotEntry
        {
            Path = path,
            Kind = kind,
            Size = size,
            Mode = mode,
            MTime = mtime,
            Inode = inode,
            Target = kind == EntryKind.Link ? target : null,
            Chunks = kind == EntryKind.File ? chunks.ToList() : null,
        };

    private static readonly Gen<SnapshotManifest> Manifest =
        from sequence in Gen.Choose(1, int.MaxValue)
        from step in ArbMap.Default.GeneratorFor<long?>()
        from ticks in ArbMap.Default.GeneratorFor<long>()
        from offsetMinutes in Gen.Choose(-14 * 60, 14 * 60)
        from host in Text
        from parent in Gen.OneOf(Gen.Constant<string?>(null), Hex.Select(h => (string?)h[..16]))
        from epoch in ArbMap.Default.GeneratorFor<long>()
        from labels in Gen.ListOf(Gen.Zip(Text, Text))
        from entries in Gen.ListOf(Entry)
        from stats in Gen.ArrayOf(ArbMap.Default.GeneratorFor<long>(), 5)
        select new SnapshotManifest
        {
            Run = "run-1",
            Sequence = sequence,
            Step = step,
            Created = new DateTimeOffset(DateTime.UnixEpoch.Ticks + (Math.Abs(ticks % (3000L * 365 * TimeSpan.TicksPerDay)) / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute), TimeSpan.FromMinutes(offsetMinutes)),
            Host = host,
            Parent = parent,
            Epoch = epoch,
            Labels = labels.Count == 0 ? null : labels.DistinctBy(l => l.Item1).ToDictionary(l => l.Item1, l => l.Item2),
            Entries = entries.ToList(),
            Stats = new SnapshotStats { Files = stats[0], Bytes = stats[1], BytesRead = stats[2], BytesNew = stats[3], BytesStored = stats[4], Seconds = 1.5 },
        };

    [Property(MaxTest = 200)]
    public Property A_manifest_survives_json_and_its_envelope_unchanged() => Prop.ForAll(Arb.From(Manifest), manifest =>
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(manifest, BatonJson.Default.SnapshotManifest);
        var (unwrapped, _) = MetadataEnvelope.Unwrap(MetadataEnvelope.Wrap(json), "test manifest");
        var back = JsonSerializer.Deserialize(unwrapped, BatonJson.Default.SnapshotManifest)!;

        AssertSame(manifest, back);
        Assert.Equal(json, JsonSerializer.SerializeToUtf8Bytes(back, BatonJson.Default.SnapshotManifest));
    });

    [Property(MaxTest = 200)]
    public Property A_flipped_bit_anywhere_in_a_stored_manifest_is_an_integrity_error()
    {
        var cases = from manifest in Manifest from position in Gen.Choose(0, int.MaxValue) from bit in Gen.Choose(0, 7) select (manifest, position, bit);
        return Prop.ForAll(Arb.From(cases), c =>
        {
            var stored = MetadataEnvelope.Wrap(JsonSerializer.SerializeToUtf8Bytes(c.manifest, BatonJson.Default.SnapshotManifest));
            stored[c.position % stored.Length] ^= (byte)(1 << c.bit);
            var error = Assert.Throws<IntegrityException>(() => MetadataEnvelope.Unwrap(stored, "manifest 'runs/r/snapshots/1'"));
            Assert.Contains("manifest 'runs/r/snapshots/1'", error.Message, StringComparison.Ordinal);
        });
    }

    private static void AssertSame(SnapshotManifest expected, SnapshotManifest actual)
    {
        Assert.Equal(expected.Version, actual.Version);
        Assert.Equal(expected.Run, actual.Run);
        Assert.Equal(expected.Sequence, actual.Sequence);
        Assert.Equal(expected.Step, actual.Step);
        Assert.Equal(expected.Created, actual.Created);
        Assert.Equal(expected.Created.Offset, actual.Created.Offset);
        Assert.Equal(expected.Host, actual.Host);
        Assert.Equal(expected.Parent, actual.Parent);
        Assert.Equal(expected.Epoch, actual.Epoch);
        Assert.Equal(expected.Labels, actual.Labels);
        Assert.Equal(expected.Stats, actual.Stats);
        Assert.Equal(expected.Entries.Count, actual.Entries.Count);
        for (var i = 0; i < expected.Entries.Count; i++)
        {
            var (e, a) = (expected.Entries[i], actual.Entries[i]);
            Assert.Equal(e with { Chunks = null }, a with { Chunks = null });
            Assert.Equal(e.Chunks, a.Chunks);
        }
    }

    private static bool IsValidUtf16(string s) =>
        Encoding.UTF8.GetString(new UTF8Encoding(false, throwOnInvalidBytes: false).GetBytes(s)) == s;
}
