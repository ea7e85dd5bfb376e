using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Baton.Checkpoints;
using Baton.Repositories;
using Baton.Snapshots;

namespace Baton.Runs;

/// <summary>A whole directory that a library caller names as the checkpoint of a step, described as it is now.</summary>
internal static class LibraryCheckpoints
{
    /// <summary>The format name such checkpoints carry.</summary>
    public const string Format = "library";

    /// <summary>
    /// Lists <paramref name="directory"/> (files and links, Baton's reserved names left out) with each file's size and
    /// modification time, so that a push started later can tell a file rewritten since from the one the caller meant.
    /// </summary>
    /// <exception cref="UsageException">The directory does not exist or holds a name that cannot be pushed.</exception>
    public static Checkpoint Describe(string directory, long step)
    {
        if (!Directory.Exists(directory))
        {
            throw new UsageException(File.Exists(directory)
                ? $"'{directory}' is a file: a snapshot takes a directory"
                : $"directory '{directory}' does not exist");
        }

        var entries = DirectoryScanner.Scan(Path.GetFullPath(directory), include: null);
        var files = new List<string>();
        var stamps = new Dictionary<string, FileStamp>(StringComparer.Ordinal);
        // The step is part of the identity: the same files offered again at another step are a new snapshot.
        var identity = new StringBuilder(step.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var entry in entries.Where(e => e.Kind is EntryKind.File or EntryKind.Link))
        {
            files.Add(entry.RelativePath);
            if (entry.Kind == EntryKind.File)
            {
                stamps[entry.RelativePath] = new FileStamp(entry.Size, entry.MTime);
            }

            identity.Append(entry.RelativePath).Append('\0').Append(entry.Size).Append('\0').Append(entry.MTime).Append('\0').Append(entry.Target).Append('\n');
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(identity.ToString()));
        return new Checkpoint(Format, step, directory, files, Convert.ToHexStringLower(hash.AsSpan(0, 12))) { Stamps = stamps };
    }
}
