namespace Baton.Testing;

/// <summary>Deterministic file contents for round-trip tests.</summary>
public static class TestData
{
    /// <summary>Writes <paramref name="size"/> pseudo-random bytes (seeded) to <paramref name="path"/>.</summary>
    public static void WriteRandomFile(string path, long size, int seed)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var random = new Random(seed);
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        var buffer = new byte[1 << 20];
        for (long written = 0; written < size;)
        {
            var n = (int)Math.Min(buffer.Length, size - written);
            random.NextBytes(buffer.AsSpan(0, n));
            file.Write(buffer, 0, n);
            written += n;
        }
    }

    /// <summary>Asserts that two directory trees hold the same files with the same bytes.</summary>
    public static void AssertSameTree(string expected, string actual)
    {
        static List<string> Files(string root) => Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f)).Where(f => !f.StartsWith(".baton-", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();

        var left = Files(expected);
        var right = Files(actual);
        Assert.Equal(left, right);
        foreach (var file in left)
        {
            var a = Path.Combine(expected, file);
            var b = Path.Combine(actual, file);
            Assert.True(FilesEqual(a, b), $"'{file}' differs after the round trip");
        }
    }

    public static bool FilesEqual(string a, string b)
    {
        using var fa = File.OpenRead(a);
        using var fb = File.OpenRead(b);
        if (fa.Length != fb.Length)
        {
            return false;
        }

        var ba = new byte[1 << 20];
        var bb = new byte[1 << 20];
        while (true)
        {
            var na = fa.ReadAtLeast(ba, ba.Length, throwOnEndOfStream: false);
            var nb = fb.ReadAtLeast(bb, bb.Length, throwOnEndOfStream: false);
            if (na != nb || !ba.AsSpan(0, na).SequenceEqual(bb.AsSpan(0, nb)))
            {
                return false;
            }

            if (na == 0)
            {
                return true;
            }
        }
    }
}
