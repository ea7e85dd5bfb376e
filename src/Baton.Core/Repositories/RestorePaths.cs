namespace Baton.Repositories;

/// <summary>The checks that keep a restore inside its target, whatever the manifest says.</summary>
internal static class RestorePaths
{
    // The kernel's own limit on links followed while resolving one path (Linux MAXSYMLINKS).
    private const int MaxLinkExpansions = 40;

    /// <summary>
    /// Refuses a snapshot that could write or point outside its target: an unsafe path, a path listed twice, an entry
    /// below a file or a link of the snapshot, or a link that leaves the root, followed through the snapshot's other
    /// links as the kernel would follow them.
    /// </summary>
    /// <exception cref="IntegrityException">The snapshot is refused; nothing may be written.</exception>
    public static void CheckEntries(IReadOnlyList<SnapshotEntry> entries, string what)
    {
        var kinds = new Dictionary<string, EntryKind>(entries.Count, StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            CheckEntry(entry, what);
            if (!kinds.TryAdd(entry.Path, entry.Kind))
            {
                throw new IntegrityException($"{what}: refusing to restore '{entry.Path}': the snapshot lists it twice");
            }
        }

        var links = entries.Where(e => e.Kind == EntryKind.Link).ToDictionary(e => e.Path, e => e.Target!, StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            for (var slash = entry.Path.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = entry.Path.IndexOf('/', slash + 1))
            {
                var parent = entry.Path[..slash];
                if (kinds.TryGetValue(parent, out var kind) && kind != EntryKind.Directory)
                {
                    throw new IntegrityException(
                        $"{what}: refusing to restore '{entry.Path}': '{parent}' is a {(kind == EntryKind.Link ? "link" : "file")} in the snapshot");
                }
            }

            if (entry.Kind == EntryKind.Link && ResolveLink(entry.Path, entry.Target!, links) is null)
            {
                throw new IntegrityException(
                    $"{what}: refusing to restore link '{entry.Path}' -> '{entry.Target}': it points outside the target directory (or loops)");
            }
        }
    }

    /// <summary>Refuses an entry whose own path is absolute, holds '..' or empty segments, or a link whose target does.</summary>
    /// <exception cref="IntegrityException">The entry is refused.</exception>
    public static void CheckEntry(SnapshotEntry entry, string what)
    {
        if (!IsSafeRelative(entry.Path))
        {
            throw new IntegrityException($"{what}: refusing to restore '{entry.Path}': the path leaves the target directory");
        }

        if (entry.Kind == EntryKind.Link)
        {
            var target = entry.Target ?? "";
            if (target.Length == 0 || target[0] == '/' || target.Contains('\0', StringComparison.Ordinal)
                || NormalizeWithin(ParentOf(entry.Path) + target) is null)
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
    /// Where the link at <paramref name="linkPath"/> leads, relative to the root, following the other
    /// <paramref name="links"/> of the snapshot; <c>null</c> when it leaves the root or loops.
    /// </summary>
    public static string? ResolveLink(string linkPath, string target, IReadOnlyDictionary<string, string> links)
    {
        var remaining = new Stack<string>();
        PushComponents(remaining, ParentOf(linkPath) + target);
        var resolved = new List<string>();
        var expansions = 0;
        while (remaining.TryPop(out var part))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (resolved.Count == 0)
                {
                    return null;
                }

                resolved.RemoveAt(resolved.Count - 1);
                continue;
            }

            resolved.Add(part);
            if (links.TryGetValue(string.Join('/', resolved), out var next))
            {
                // A link component is replaced by its target, read relative to the link's own folder.
                if (++expansions > MaxLinkExpansions || next.Length == 0 || next[0] == '/')
                {
                    return null;
                }

                resolved.RemoveAt(resolved.Count - 1);
                PushComponents(remaining, next);
            }
        }

        return string.Join('/', resolved);
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

    /// <summary>Why <paramref name="path"/> cannot be a snapshot path; null when it can (the rule <c>EntryNames</c> states).</summary>
    internal static string? WhyUnsafe(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0 || path[0] == '/')
        {
            return "the path is empty or absolute";
        }

        if (path.Contains('\\', StringComparison.Ordinal))
        {
            return "the name holds '\\', which a restore would read as a path separator";
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            return "the name holds a NUL character";
        }

        return path.Split('/').Any(s => s is "" or "." or "..") ? "the path leaves the target directory" : null;
    }

    private static bool IsSafeRelative(string path) => WhyUnsafe(path) is null;

    private static string ParentOf(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash < 0 ? "" : path[..(slash + 1)];
    }

    private static void PushComponents(Stack<string> remaining, string path)
    {
        var parts = path.Split('/');
        for (var i = parts.Length - 1; i >= 0; i--)
        {
            remaining.Push(parts[i]);
        }
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
