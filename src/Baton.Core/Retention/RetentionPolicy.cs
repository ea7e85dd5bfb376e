namespace Baton.Retention;

/// <summary>
/// Which snapshots of a run to keep. A snapshot is kept when any rule keeps it; the newest snapshot and tagged
/// snapshots are always kept. A policy with no rule keeps everything.
/// </summary>
public sealed record RetentionPolicy
{
    /// <summary>Keep the newest N snapshots.</summary>
    public int? KeepLast { get; init; }

    /// <summary>Keep the newest snapshot of every span of this many training steps (step / N buckets).</summary>
    public long? KeepEvery { get; init; }

    /// <summary>Keep every snapshot committed within this duration of now.</summary>
    public TimeSpan? KeepWithin { get; init; }

    /// <summary>Whether the policy has no rule (and so keeps everything).</summary>
    public bool IsEmpty => KeepLast is null && KeepEvery is null && KeepWithin is null;

    /// <summary>Throws <see cref="UsageException"/> for values that make no sense.</summary>
    public void Validate()
    {
        if (KeepLast is < 1)
        {
            throw new UsageException("--keep-last must be at least 1");
        }

        if (KeepEvery is < 1)
        {
            throw new UsageException("--keep-every must be at least 1 step");
        }

        if (KeepWithin is { } within && within <= TimeSpan.Zero)
        {
            throw new UsageException("--keep-within must be a positive duration such as 12h or 7d");
        }
    }

    /// <summary>A short description such as "last 3, every 1000 steps, within 1.00:00:00".</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (KeepLast is { } last)
        {
            parts.Add($"last {last}");
        }

        if (KeepEvery is { } every)
        {
            parts.Add($"every {every} steps");
        }

        if (KeepWithin is { } within)
        {
            parts.Add($"within {within}");
        }

        return parts.Count == 0 ? "keep everything" : string.Join(", ", parts);
    }
}
