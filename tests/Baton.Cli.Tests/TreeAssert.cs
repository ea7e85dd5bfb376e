namespace Baton.Tests;

/// <summary>Compares two directory trees entry by entry: kind, bytes, permissions, modification times, link targets.</summary>
internal static class TreeAssert
{
    public static void Same(string expected, string actual)
    {
        var left = Entries(expected);
        var right = Entries(actual);
        Assert.Equal(left.Keys.Order(StringComparer.Ordinal), right.Keys.Order(StringComparer.Ordinal));
        foreach (var (path, a) in left)
        {
            var b = right[path];
            Assert.True(a.GetType() == b.GetType(), $"'{path}' is a {a.GetType().Name} in one tree and a {b.GetType().Name} in the other");
            if (a.LinkTarget is not null)
            {
                Assert.Equal(a.LinkTarget, b.LinkTarget);
                continue;
            }

            Assert.True(a.UnixFileMode == b.UnixFileMode, $"'{path}' has mode {a.UnixFileMode} instead of {b.UnixFileMode}");
            Assert.True(a.LastWriteTimeUtc == b.LastWriteTimeUtc, $"'{path}' has mtime {b.LastWriteTimeUtc:O} instead of {a.LastWriteTimeUtc:O}");
            if (a is FileInfo fa)
            {
                var same = fa.Length < (16 << 20)
                    ? File.ReadAllBytes(fa.FullName).AsSpan().SequenceEqual(File.ReadAllBytes(b.FullName))
                    : Baton.Testing.TestData.FilesEqual(fa.FullName, b.FullName);
                Assert.True(same, $"'{path}' differs");
            }
        }
    }

    private static Dictionary<string, FileSystemInfo> Entries(string root) =>
        new DirectoryInfo(root).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Where(e => !Path.GetRelativePath(root, e.FullName).StartsWith(".baton-", StringComparison.Ordinal))
            .ToDictionary(e => Path.GetRelativePath(root, e.FullName), StringComparer.Ordinal);
}
