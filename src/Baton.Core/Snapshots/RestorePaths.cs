namespace Baton.Snapshots;

/// <summary>The checks that keep a restore inside its target, whatever the manifest says.</summary>
internal static class RestorePaths
{
    /// <summary>Refuses absolute paths, '..', empty segments and links that point outside the snapshot root.</summary>
    public static void CheckEntry(SnapshotEntry entry, string what)
    {
        if (!IsSafeRelative(entry.Path))
        {
            throw new IntegrityException($"{what}: refusing to restore '{entry.Path}': the path leaves the target directory");
        }

        if (entry.Kind == EntryKind.Link)
        {
            var target = entry.Target ?? "";
            var joined = NormalizeWithin(ParentOf(entry.Path) + target);
            if (target.Length == 0 || target[0] == '/' || target.Contains('\0', StringComparison.Ordinal) || joined is null)
            {
                throw new IntegrityException($"{what}: refusing to restore link '{entry.Path}' -> '{target}': it points outside the target directory");
            }
        }
        else if (entry.Kind == EntryKind.File && entry.Size < 0)
        {
            throw new IntegrityException($"{what}: file '{entry.Path}' has a negative size");
        }
    }

    /// <summary>
    /// The absolute path of <paramref name="relative"/> under <paramref name="root"/>, refusing any existing
    /// component that is a symbolic link (it could lead the write anywhere).
    /// </summary>
    public static string Resolve(string root, string relative, string what)
    {
        var current = root;
        var parts = relative.Split('/');
        for (var i = 0; i < parts.Length - 1; i++)
        {
            current = Path.Combine(current, parts[i]);
            if (new FileInfo(current).LinkTarget is not null)
            {
                throw new IntegrityException($"{what}: refusing to restore '{relative}': '{string.Join('/', parts[..(i + 1)])}' in the target is a symbolic link");
            }
        }

        return Path.Combine(current, parts[^1]);
    }

    private static bool IsSafeRelative(string path) =>
        path.Length > 0 && path[0] != '/' && !path.Contains('\\', StringComparison.Ordinal) && !path.Contains('\0', StringComparison.Ordinal)
        && path.Split('/').All(s => s.Length > 0 && s != "." && s != "..");

    private static string ParentOf(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash < 0 ? "" : path[..(slash + 1)];
    }

    // Resolves '.' and '..' lexically; null when the path climbs above the root.
    private static string? NormalizeWithin(string path)
    {
        var stack = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (stack.Count == 0)
                {
                    return null;
                }

                stack.RemoveAt(stack.Count - 1);
            }
            else
            {
                stack.Add(part);
            }
        }

        return string.Join('/', stack);
    }
}
