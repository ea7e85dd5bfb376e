using System.Security.Cryptography;
using System.Text;
using Baton.Snapshots;

namespace Baton.Checkpoints;

/// <summary>One scan of a checkpoint directory: file lookups, the stability verdicts and when to look again.</summary>
internal sealed class ScanContext(string root, DetectionMode mode, FileStability stability, DetectorOptions options)
{
    private readonly Dictionary<string, (long Size, long MTime)> _states = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Size, long MTime, byte[] Bytes)> _read = new(StringComparer.Ordinal);

    public string Root { get; } = root;

    public DetectorOptions Options { get; } = options;

    /// <summary>The shortest wait after which a file seen in this scan may have settled.</summary>
    public TimeSpan? RecheckIn { get; private set; }

    /// <summary>A checkpoint the scan saw whole but not yet settled (set by detectors that know one).</summary>
    public string? Pending { get; set; }

    public string FullPath(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>
    /// Whether every file exists and has stayed the same for <paramref name="required"/> (always observing all of
    /// them, so the next scan knows their history). In <see cref="DetectionMode.Settled"/> only taint counts.
    /// </summary>
    public bool Settled(IEnumerable<string> files, TimeSpan required)
    {
        var settled = true;
        foreach (var file in files)
        {
            settled &= Observe(file, required) is { } age && IsSettled(age, required);
        }

        return settled;
    }

    /// <summary>
    /// For a file that travels along with a checkpoint without being part of it: whether it has settled (take it),
    /// is settling (wait for it), or has kept changing for <paramref name="churning"/> (leave it out rather than hold
    /// checkpoints back for a file that is rewritten all the time). In <see cref="DetectionMode.Settled"/> it has
    /// settled unless its writer died while writing it.
    /// </summary>
    public Companion Companion(string file, TimeSpan required, TimeSpan churning)
    {
        if (Observe(file, required) is not { } age || age.Stable is null)
        {
            return Checkpoints.Companion.Left;
        }

        if (IsSettled(age, required))
        {
            return Checkpoints.Companion.Settled;
        }

        return age.Changing >= churning ? Checkpoints.Companion.Left : Checkpoints.Companion.Settling;
    }

    /// <summary>
    /// Whether a zip-framed file is whole right now: its end-of-central-directory record closes it, and its size and
    /// modification time did not move while the record was read. Records the state it was whole in, which the push
    /// checks again before and after reading the file.
    /// </summary>
    public bool ZipComplete(string file)
    {
        var full = FullPath(file);
        var before = new FileInfo(full);
        if (!before.Exists || !ZipTrailer.IsComplete(full))
        {
            return false;
        }

        var after = new FileInfo(full);
        if (!after.Exists || after.Length != before.Length || after.LastWriteTimeUtc != before.LastWriteTimeUtc)
        {
            return false;
        }

        _states[file] = (after.Length, after.LastWriteTimeUtc.Ticks);
        return true;
    }

    /// <summary>Records the file's state; returns how long it has looked like this (null when gone or cut off by a dead writer).</summary>
    public TimeSpan? StableFor(string file, TimeSpan required) => Observe(file, required)?.Stable;

    /// <summary>Asks for another scan within <paramref name="wait"/> (something seen may be whole by then).</summary>
    public void RecheckWithin(TimeSpan wait) => RecheckIn = RecheckIn is { } current && current < wait ? current : wait;

    /// <summary>Whether scans may wait for writers (<see cref="DetectionMode.Live"/>).</summary>
    public bool Live => mode == DetectionMode.Live;

    private FileAge? Observe(string file, TimeSpan required)
    {
        var info = new FileInfo(FullPath(file));
        if (!info.Exists)
        {
            return null;
        }

        var state = (info.Length, info.LastWriteTimeUtc.Ticks);
        _states[file] = state;
        return stability.Observe(file, state.Length, state.Ticks, required);
    }

    private bool IsSettled(FileAge age, TimeSpan required)
    {
        if (age.Stable is not { } stable)
        {
            return false;
        }

        if (mode == DetectionMode.Live && stable < required)
        {
            var wait = required - stable;
            RecheckIn = RecheckIn is { } current && current < wait ? current : wait;
            return false;
        }

        return true;
    }

    /// <summary>Regular files under a relative directory (recursively), skipping Baton's own staging names.</summary>
    public List<string> FilesUnder(string relativeDirectory) =>
        CheckpointFiles.Under(Root, relativeDirectory.Length == 0 ? Root : FullPath(relativeDirectory));

    /// <summary>Names of the directory's immediate entries of one kind, skipping Baton's own staging names.</summary>
    public List<string> Names(string relativeDirectory, bool directories)
    {
        var path = relativeDirectory.Length == 0 ? Root : FullPath(relativeDirectory);
        try
        {
            var entries = directories
                ? new DirectoryInfo(path).EnumerateDirectories().Where(d => d.LinkTarget is null).Select(d => d.Name)
                : new DirectoryInfo(path).EnumerateFiles().Where(f => f.LinkTarget is null).Select(f => f.Name);
            var prefix = relativeDirectory.Length == 0 ? "" : relativeDirectory.TrimEnd('/') + "/";
            return entries.Where(n => !Snapshots.ReservedNames.IsReserved(prefix + n)).Order(StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>
    /// Builds the checkpoint. Its fingerprint covers the states this scan saw of <paramref name="identity"/> (all the
    /// files when not given): files that merely travel along, such as a configuration the trainer rewrites at each
    /// start, do not make the same checkpoint look new.
    /// </summary>
    public Checkpoint Found(string format, long? step, string name, IEnumerable<string> files, IEnumerable<string>? identity = null)
    {
        var sorted = files.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var text = new StringBuilder();
        foreach (var file in identity?.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList() ?? sorted)
        {
            var (size, mtime) = _states.TryGetValue(file, out var s) ? s : (-1, -1);
            text.Append(file).Append('\0').Append(size).Append('\0').Append(mtime).Append('\n');
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()));
        var stamps = new Dictionary<string, FileStamp>(StringComparer.Ordinal);
        foreach (var file in sorted)
        {
            if (!_states.TryGetValue(file, out var state))
            {
                var info = new FileInfo(FullPath(file));
                state = info.Exists ? (info.Length, info.LastWriteTimeUtc.Ticks) : (-1, -1);
            }

            stamps[file] = new FileStamp(state.Size, state.MTime - DateTime.UnixEpoch.Ticks);
        }

        // A file read whole in the state it is stamped with goes into the snapshot as read (see Checkpoint.Contents).
        var contents = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var file in sorted)
        {
            if (_read.TryGetValue(file, out var read) && _states.TryGetValue(file, out var state) && state == (read.Size, read.MTime))
            {
                contents[file] = read.Bytes;
            }
        }

        return new Checkpoint(format, step, name, sorted, Convert.ToHexStringLower(hash.AsSpan(0, 12))) { Stamps = stamps, Contents = contents };
    }

    /// <summary>
    /// Reads a small file and records the state of exactly the file it read (it may be replaced right after), and its
    /// bytes when it did not change while read.
    /// </summary>
    public string? ReadText(string relative)
    {
        try
        {
            using var handle = File.OpenHandle(FullPath(relative), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var length = RandomAccess.GetLength(handle);
            var modified = File.GetLastWriteTimeUtc(handle);
            var buffer = new byte[Math.Min(length, 1 << 20)];
            var read = RandomAccess.Read(handle, buffer, 0);
            _states[relative] = (length, modified.Ticks);
            if (read == length && RandomAccess.GetLength(handle) == length && File.GetLastWriteTimeUtc(handle) == modified)
            {
                _read[relative] = (length, modified.Ticks, buffer);
            }

            return Encoding.UTF8.GetString(buffer, 0, read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>What a scan makes of a file that travels along with a checkpoint.</summary>
internal enum Companion
{
    /// <summary>It has settled: it goes along.</summary>
    Settled,

    /// <summary>It changed a moment ago: the checkpoint waits for it.</summary>
    Settling,

    /// <summary>It is gone, was cut off by a dead writer, or keeps changing: the checkpoint goes without it.</summary>
    Left,
}
