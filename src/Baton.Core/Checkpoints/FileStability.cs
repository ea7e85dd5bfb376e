namespace Baton.Checkpoints;

/// <summary>
/// Remembers, across scans, since when each file has looked the same (size and modification time), since when it has
/// kept changing without settling in between, and which files were still changing when their writer died: such a file
/// is never taken as complete until it is rewritten.
/// </summary>
internal sealed class FileStability(TimeProvider timeProvider)
{
    private readonly Dictionary<string, Observation> _entries = new(StringComparer.Ordinal);
    private long _generation;

    public void BeginScan() => _generation++;

    /// <summary>Forgets files the last scan did not look at, so memory follows the directory.</summary>
    public void EndScan()
    {
        foreach (var key in _entries.Where(e => e.Value.Generation != _generation).Select(e => e.Key).ToList())
        {
            _entries.Remove(key);
        }
    }

    /// <summary>
    /// Records the file's current state; returns how long it has looked like this (null if it is tainted) and how long
    /// it has been changing without ever settling for <paramref name="required"/> (zero once it has settled).
    /// </summary>
    public FileAge Observe(string path, long size, long mtime, TimeSpan required)
    {
        var now = timeProvider.GetTimestamp();
        if (!_entries.TryGetValue(path, out var entry) || entry.Size != size || entry.MTime != mtime)
        {
            // A change that ends a settled stretch starts a new run of changes; one that does not extends the run.
            var changingSince = entry is not null && timeProvider.GetElapsedTime(entry.Since, now) < entry.Required ? entry.ChangingSince : now;
            entry = new Observation { Size = size, MTime = mtime, Since = now, ChangingSince = changingSince };
            _entries[path] = entry;
        }

        entry.Generation = _generation;
        entry.Required = required;
        var stable = timeProvider.GetElapsedTime(entry.Since, now);
        var changing = stable >= required ? TimeSpan.Zero : timeProvider.GetElapsedTime(entry.ChangingSince, now);
        return new FileAge(entry.Tainted ? null : stable, changing);
    }

    /// <summary>Marks every file that had not yet settled: its writer died while it may have been writing it.</summary>
    public int TaintUnsettled()
    {
        var now = timeProvider.GetTimestamp();
        var count = 0;
        foreach (var entry in _entries.Values.Where(e => !e.Tainted && timeProvider.GetElapsedTime(e.Since, now) < e.Required))
        {
            entry.Tainted = true;
            count++;
        }

        return count;
    }

    private sealed class Observation
    {
        public long Size { get; init; }

        public long MTime { get; init; }

        public long Since { get; init; }

        public long ChangingSince { get; init; }

        public long Generation { get; set; }

        public TimeSpan Required { get; set; }

        public bool Tainted { get; set; }
    }
}

/// <summary>
/// How long a file has looked the same (null when its writer died mid-write), and how long it has kept changing
/// without settling in between.
/// </summary>
internal readonly record struct FileAge(TimeSpan? Stable, TimeSpan Changing);
