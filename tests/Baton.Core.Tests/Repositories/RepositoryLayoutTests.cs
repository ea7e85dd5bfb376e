using System.Text.RegularExpressions;
using Baton.Testing;

namespace Baton.Tests.Repositories;

/// <summary>Every kind of key <see cref="RepositoryLayout"/> builds, with an example, against docs/FORMAT.md's layout table.</summary>
public sealed partial class RepositoryLayoutTests
{
    private static readonly ContentId Id = ContentId.Parse("ab" + new string('0', 62));
    private const string Run = "runs/r1/";

    /// <summary>Kind, the key as built, and the row of FORMAT.md's table it is an instance of.</summary>
    public static TheoryData<string, string, string> Keys() => new()
    {
        { "config", RepositoryLayout.ConfigKey, "config" },
        { "pack", RepositoryLayout.PackKey(Id), "data/<2 hex>/<64 hex>" },
        { "index", RepositoryLayout.IndexKey(Id), "index/<64 hex>" },
        { "snapshot manifest", RepositoryLayout.SnapshotKeyIn(Run, 7), "runs/<run>/snapshots/<10 digits>" },
        { "snapshot manifest by name", RepositoryLayout.SnapshotKey("r1", 7), "runs/<run>/snapshots/<10 digits>" },
        { "lease claim", RepositoryLayout.EpochKeyIn(Run, 3), "runs/<run>/epochs/<10 digits>" },
        { "heartbeat", RepositoryLayout.HeartbeatKeyIn(Run, 3), "runs/<run>/heartbeats/<10 digits>" },
        { "tag", RepositoryLayout.TagsIn(Run) + "best", "runs/<run>/tags/<name>" },
        { "leg", RepositoryLayout.LegsIn(Run) + "0123456789abcdef", "runs/<run>/legs/<leg id>" },
        { "clock probe", RepositoryLayout.ClockProbeKeyIn(Run, new string('c', 32)), "runs/<run>/clock/<32 hex>" },
        { "node heartbeat", RepositoryLayout.NodeHeartbeatKeyIn(Run, 3, 2), "runs/<run>/heartbeats/<10 digits>.<node>" },
        { "multi-node part", RepositoryLayout.PartKeyIn(Run, 3, 1200, 2), "runs/<run>/parts/<10 digits>/<20 digits>/<node>" },
        { "start-barrier record", RepositoryLayout.ReadyAttemptIn(Run, 3) + "2", "runs/<run>/ready/<10 digits>/<node>" },
        { "key slot", RepositoryLayout.KeySlotKey("0123456789abcdef"), "keys/<16 hex>" },
        { "in-flight marker", RepositoryLayout.InFlightKey(new string('f', 32)), "inflight/<32 hex>" },
        { "collection mark", RepositoryLayout.GcKey(new string('9', 32)), "gc/<32 characters>" },
        { "doctor probe", RepositoryLayout.DoctorPrefix + "0123456789ab/object", ".baton-doctor/<12 hex>/<name>" },
    };

    [Theory]
    [MemberData(nameof(Keys))]
    public void A_key_has_the_shape_the_format_documents(string kind, string key, string row)
    {
        Assert.True(Pattern(row).IsMatch(key), $"{kind}: '{key}' does not have the shape '{row}'");
        Assert.Contains(row, LayoutRows());
    }

    [Fact]
    public void Every_row_of_the_format_layout_has_a_key_built_here()
    {
        var covered = Keys().Select(k => (string)k[2]).ToHashSet(StringComparer.Ordinal);

        Assert.All(LayoutRows(), r => Assert.Contains(r, covered));
    }

    [Fact]
    public void The_examples_are_exact()
    {
        Assert.Equal("data/ab/ab" + new string('0', 62), RepositoryLayout.PackKey(Id));
        Assert.Equal("runs/r1/snapshots/0000000007", RepositoryLayout.SnapshotKey("r1", 7));
        Assert.Equal("runs/r1/epochs/0000000003", RepositoryLayout.EpochKeyIn(Run, 3));
        Assert.Equal("runs/r1/heartbeats/0000000003", RepositoryLayout.HeartbeatKeyIn(Run, 3));
        Assert.True(RepositoryLayout.TryParsePackKey(RepositoryLayout.PackKey(Id), out var parsed));
        Assert.Equal(Id, parsed);
        Assert.False(RepositoryLayout.TryParsePackKey(RepositoryLayout.IndexKey(Id), out _));
    }

    // The first column of the code block under "## Layout" in docs/FORMAT.md.
    private static List<string> LayoutRows()
    {
        var text = File.ReadAllText(System.IO.Path.Combine(RepositoryRoot.Path, "docs", "FORMAT.md"));
        var block = LayoutBlock().Match(text);
        Assert.True(block.Success, "docs/FORMAT.md has no code block under '## Layout'");
        return [.. block.Groups[1].Value.Split('\n').Where(l => l.Length > 0 && l[0] != ' ').Select(l => l.Split("  ")[0].Trim())];
    }

    // '<...>' placeholders stand for one or more characters other than '/'.
    private static Regex Pattern(string row) =>
        new("^" + string.Join("[^/]+", row.Split('<').Select((part, i) => Regex.Escape(i == 0 ? part : part[(part.IndexOf('>', StringComparison.Ordinal) + 1)..]))) + "$");

    [GeneratedRegex(@"## Layout\s*```\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex LayoutBlock();
}
