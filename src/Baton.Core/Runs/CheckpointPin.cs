using Baton.Checkpoints;
using Baton.Platform;

namespace Baton.Runs;

/// <summary>
/// Hard links of one checkpoint's files in a private folder beside the checkpoint directory, held while the
/// checkpoint is pushed. A trainer that keeps only its last N checkpoints may delete this one before a slow upload
/// ends; through the links its bytes stay readable, so the push still completes instead of being abandoned. A file
/// rewritten in place shares its inode with the link and is still caught by the push's stamps, except the small files
/// the detector read (<see cref="Checkpoint.Contents"/>: a pointer such as DeepSpeed's <c>latest</c>, rewritten at
/// every save), which the pin holds as copies of what was read. Where links cannot be made (another file system, a
/// mount without hard links), there is no pin and the checkpoint is pushed from its own folder.
/// </summary>
internal sealed class CheckpointPin : IDisposable
{
    private CheckpointPin(string path) => Path = path;

    /// <summary>The folder holding the links, laid out like the checkpoint directory.</summary>
    public string Path { get; }

    /// <summary>Where the pins of <paramref name="directory"/> live: a hidden sibling folder, or null at the root.</summary>
    public static string? RootFor(string directory)
    {
        var full = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(directory));
        var parent = System.IO.Path.GetDirectoryName(full);
        return parent is null ? null : System.IO.Path.Combine(parent, $".{System.IO.Path.GetFileName(full)}.baton-pins");
    }

    /// <summary>Removes pins left by a supervisor that was killed mid-push.</summary>
    public static void RemoveLeftovers(string directory)
    {
        if (RootFor(directory) is { } root)
        {
            TryDelete(root);
        }
    }

    /// <summary>Links every file of <paramref name="checkpoint"/>; null when any link cannot be made.</summary>
    public static CheckpointPin? TryCreate(string directory, Checkpoint checkpoint)
    {
        if (RootFor(directory) is not { } root)
        {
            return null;
        }

        var pin = new CheckpointPin(System.IO.Path.Combine(root, Guid.NewGuid().ToString("N")[..12]));
        try
        {
            foreach (var file in checkpoint.Files)
            {
                var target = System.IO.Path.Combine(pin.Path, file);
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
                if (checkpoint.Contents.TryGetValue(file, out var bytes) && checkpoint.Stamps.TryGetValue(file, out var stamp))
                {
                    WriteAsFound(System.IO.Path.Combine(directory, file), target, bytes, stamp);
                }
                else if (!PosixFile.TryHardLink(System.IO.Path.Combine(directory, file), target))
                {
                    pin.Dispose();
                    return null;
                }
            }

            return pin;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            pin.Dispose();
            return null;
        }
    }

    // A copy of what the detector read, stamped as it was found, so the push's checks see the file it judged.
    private static void WriteAsFound(string source, string target, byte[] bytes, Snapshots.FileStamp stamp)
    {
        File.WriteAllBytes(target, bytes);
        if (!OperatingSystem.IsWindows() && File.Exists(source))
        {
            File.SetUnixFileMode(target, File.GetUnixFileMode(source));
        }

        File.SetLastWriteTimeUtc(target, new DateTime(DateTime.UnixEpoch.Ticks + stamp.MTime, DateTimeKind.Utc));
    }

    /// <summary>Removes the links (the checkpoint's own files are untouched).</summary>
    public void Dispose()
    {
        TryDelete(Path);
        if (System.IO.Path.GetDirectoryName(Path) is { } root && Directory.Exists(root) && !Directory.EnumerateFileSystemEntries(root).Any())
        {
            TryDelete(root);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A pin that cannot be removed costs disk space only; the next start removes it.
        }
    }
}
