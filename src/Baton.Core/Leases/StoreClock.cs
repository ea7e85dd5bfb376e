using Baton.Storage;

namespace Baton.Leases;

/// <summary>
/// Ages judged by the store's own clock. A judge writes an object of its own first; the store stamps it and every
/// other object with one clock, so the difference of two modification times is an age that no client clock (shifted,
/// stepped, or frozen while the client was paused) can distort.
/// </summary>
internal static class StoreClock
{
    /// <summary>
    /// How long before <paramref name="reference"/> (an object the judge has just written) <paramref name="other"/> was
    /// last written, by the store's clock; <c>null</c> when the store reports no modification times.
    /// </summary>
    public static TimeSpan? AgeOf(ObjectInfo other, ObjectInfo reference) =>
        reference.LastModified is { } now && other.LastModified is { } then ? now - then : null;
}
