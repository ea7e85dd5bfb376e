using Baton.Repositories;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Baton.Tests.Snapshots;

public sealed class RestorePathsProperties
{
    private const string What = "snapshot test";

    private static readonly Gen<string> Name = Gen.Elements("a", "b", "ckpt", "model.bin", "ünï", "x y", "...", "..a", ".hidden", "a..");

    private static readonly Gen<string> AnySegment = Gen.Frequency(
        (6, Name), (1, Gen.Constant("..")), (1, Gen.Constant(".")), (1, Gen.Constant("")));

    private static readonly Gen<string> SafePath = Gen.Choose(1, 5).SelectMany(n => Gen.ArrayOf(Name, n)).Select(s => string.Join('/', s));

    private static readonly Gen<string> AnyPath =
        from absolute in Gen.Elements(false, false, false, true)
        from segments in Gen.Choose(1, 6).SelectMany(n => Gen.ArrayOf(AnySegment, n))
        select (absolute ? "/" : "") + string.Join('/', segments);

    [Property(MaxTest = 1000)]
    public Property A_path_is_accepted_exactly_when_every_segment_is_a_plain_name() => Prop.ForAll(Arb.From(AnyPath), Arb.From(Gen.Elements(EntryKind.File, EntryKind.Directory)), (path, kind) =>
    {
        var safe = !path.StartsWith('/') && path.Split('/').All(s => s.Length > 0 && s != "." && s != "..");
        var refused = Refuses([new SnapshotEntry { Path = path, Kind = kind }]);
        Assert.Equal(!safe, refused);
    });

    [Property(MaxTest = 1000)]
    public Property A_lone_link_is_accepted_exactly_when_its_target_neither_climbs_above_the_root_nor_loops() => Prop.ForAll(Arb.From(SafePath), Arb.From(AnyPath), (path, target) =>
    {
        var refused = Refuses([new SnapshotEntry { Path = path, Kind = EntryKind.Link, Target = target }]);
        Assert.Equal(Climbs(path, target), refused);
    });

    [Property(MaxTest = 500)]
    public Property Safe_trees_of_files_and_directories_are_accepted() => Prop.ForAll(Arb.From(Gen.ListOf(SafePath)), paths =>
    {
        // Every prefix of a file's path is a directory, as a scan records them.
        var directories = paths.SelectMany(Prefixes).ToHashSet(StringComparer.Ordinal);
        var files = paths.Where(p => !directories.Contains(p)).ToHashSet(StringComparer.Ordinal);
        var entries = directories.Select(d => new SnapshotEntry { Path = d, Kind = EntryKind.Directory })
            .Concat(files.Select(f => new SnapshotEntry { Path = f, Kind = EntryKind.File })).ToList();
        RestorePaths.CheckEntries(entries, What);
    });

    [Theory]
    [InlineData("s", ".", "t", "s/../escape")] // s is the root itself, so s/.. is the root's parent
    [InlineData("s", "a/..", "t", "s/../escape")]
    [InlineData("deep", "a/b/c", "up", "deep/../../../..")]
    [InlineData("loop1", "loop2", "loop2", "loop1")]
    [InlineData("self", "self", "other", "a")]
    [InlineData("s", ".", "t", "s/s/s/s/../x")]
    public void Links_that_escape_through_other_links_are_refused(string link1, string target1, string link2, string target2)
    {
        Assert.True(Refuses([
            new SnapshotEntry { Path = link1, Kind = EntryKind.Link, Target = target1 },
            new SnapshotEntry { Path = link2, Kind = EntryKind.Link, Target = target2 },
        ]));
    }

    [Theory]
    [InlineData("latest", "ckpt-5", "ckpt-5", "real")]
    [InlineData("a/l", "../b", "b", "c/d")]
    [InlineData("s", ".", "t", "s/s/x")]
    public void Links_that_stay_inside_through_other_links_are_accepted(string link1, string target1, string link2, string target2)
    {
        Assert.False(Refuses([
            new SnapshotEntry { Path = link1, Kind = EntryKind.Link, Target = target1 },
            new SnapshotEntry { Path = link2, Kind = EntryKind.Link, Target = target2 },
        ]));
    }

    [Fact]
    public void Entries_below_a_link_or_a_file_and_repeated_paths_are_refused()
    {
        Assert.True(Refuses([
            new SnapshotEntry { Path = "d", Kind = EntryKind.Link, Target = "real" },
            new SnapshotEntry { Path = "d/f", Kind = EntryKind.File },
        ]));
        Assert.True(Refuses([
            new SnapshotEntry { Path = "f", Kind = EntryKind.File },
            new SnapshotEntry { Path = "f/g", Kind = EntryKind.File },
        ]));
        Assert.True(Refuses([
            new SnapshotEntry { Path = "f", Kind = EntryKind.File },
            new SnapshotEntry { Path = "f", Kind = EntryKind.File },
        ]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a\0b")]
    [InlineData("a\\..\\b")]
    public void Odd_names_are_refused(string path) => Assert.True(Refuses([new SnapshotEntry { Path = path, Kind = EntryKind.File }]));

    private static bool Refuses(List<SnapshotEntry> entries)
    {
        try
        {
            RestorePaths.CheckEntries(entries, What);
            return false;
        }
        catch (IntegrityException e)
        {
            Assert.StartsWith(What + ": refusing", e.Message, StringComparison.Ordinal);
            return true;
        }
    }

    // The model: a target is refused when it is absolute, when resolving it segment by segment from the link's
    // folder ever climbs above the root, or when it passes through the link itself (a loop).
    private static bool Climbs(string linkPath, string target)
    {
        if (target.Length == 0 || target.StartsWith('/'))
        {
            return true;
        }

        var resolved = linkPath.Split('/').SkipLast(1).ToList();
        foreach (var segment in target.Split('/'))
        {
            if (segment == "..")
            {
                if (resolved.Count == 0)
                {
                    return true;
                }

                resolved.RemoveAt(resolved.Count - 1);
            }
            else if (segment is not ("" or "."))
            {
                resolved.Add(segment);
                if (string.Join('/', resolved) == linkPath)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static IEnumerable<string> Prefixes(string path)
    {
        for (var slash = path.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = path.IndexOf('/', slash + 1))
        {
            yield return path[..slash];
        }
    }
}
