namespace Baton.Checkpoints;

/// <summary>
/// Remembers, across scans, since when each file has looked the same (size and modification time), and which files
/// were still changing when their writer died: such a file is never taken as complete until it is rewritten.
/// </summary>
internal sealed class FileStability(TimeProvider timeProvider)
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
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

    /// <summary>Records the file's current state; returns how long it has looked like this, or null if it is tainted.</summary>
    public TimeSpan? Observe(string path, long size, long mtime, TimeSpan required)
    {
        var now = timeProvider.GetTimestamp();
        if (!_entries.TryGetValue(path, out var entry) || entry.Size != size || entry.MTime != mtime)
        {
            entry = new Entry { Size = size, MTime = mtime, Since = now };
            _entries[path] = entry;
        }

        entry.Generation = _generation;
        entry.Required = required;
        return entry.Tainted ? null : timeProvider.GetElapsedTime(entry.Since, now);
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

    private sealed class Entry
    {
        public long Size { get; init; }

        public long MTime { get; init; }

        public long Since { get; init; }

        public long Generation { get; set; }

        public TimeSpan Required { get; set; }

        public bool Tainted { get; set; }
    }
}
