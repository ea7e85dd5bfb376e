using Baton.Platform;

namespace Baton.Journal;

/// <summary>Whether a leg ended, is running, or was lost (its supervisor killed without a word), as anyone may judge it.</summary>
public static class LegStates
{
    /// <summary>The leg recorded its end.</summary>
    public const string Ended = "ended";

    /// <summary>The supervisor is alive, as far as can be told: it rewrote the record lately.</summary>
    public const string Running = "running";

    /// <summary>The supervisor is gone without ending the leg: killed, or its machine lost.</summary>
    public const string Lost = "lost";

    /// <summary>How long a supervisor may stay silent and still be called running (it rewrites its leg every minute).</summary>
    public static readonly TimeSpan Silence = TimeSpan.FromMinutes(3);

    /// <summary>
    /// Judges one leg. A leg that did not end is lost when a later leg began, when its supervisor is known to be gone
    /// from this very machine (same host name, boot id and pid namespace, and its pid is free, reused or a zombie), or when it
    /// has not rewritten its record for <see cref="Silence"/>; otherwise it is running.
    /// </summary>
    /// <param name="leg">The leg.</param>
    /// <param name="newest">Whether it is the run's newest leg.</param>
    /// <param name="now">The present, on the reader's clock.</param>
    /// <param name="hostName">This machine's name, as the supervisor records it.</param>
    public static string Of(Leg leg, bool newest, DateTimeOffset now, string hostName)
    {
        ArgumentNullException.ThrowIfNull(leg);
        if (leg.Ended is not null)
        {
            return Ended;
        }

        if (!newest || now - leg.Updated >= Silence)
        {
            return Lost;
        }

        return leg.Pid is { } pid && (LocalProcess.IsGone(leg.Host, pid, leg.BootId, leg.PidNamespace, leg.ProcessStart, hostName) || IsDeadHere(leg, pid, hostName))
            ? Lost
            : Running;
    }

    // A killed supervisor whose parent has not reaped it yet still has its /proc entry, as a zombie: it is dead all the same.
    private static bool IsDeadHere(Leg leg, int pid, string hostName)
    {
        var here = ProcessIdentity.Current;
        if (!string.Equals(leg.Host, hostName, StringComparison.Ordinal) || !here.IsComplete || leg.BootId != here.BootId
            || leg.PidNamespace != here.PidNamespace || leg.ProcessStart is null || ProcessIdentity.ReadStartTime(pid) != leg.ProcessStart)
        {
            return false;
        }

        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat.AsSpan(stat.LastIndexOf(')') + 2);
            return state.Length > 0 && state[0] is 'Z' or 'X';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Whether no later leg replaced leg <paramref name="index"/>: in a single-node run, whether it is the last; in a
    /// multi-node run the nodes' legs run side by side, and a leg is replaced only by a later one of the same node rank
    /// (or a later single-node leg).
    /// </summary>
    public static bool IsNewest(IReadOnlyList<Leg> legs, int index)
    {
        ArgumentNullException.ThrowIfNull(legs);
        var leg = legs[index];
        return !legs.Skip(index + 1).Any(later => later.NodeRank is null || leg.NodeRank is null || later.NodeRank == leg.NodeRank);
    }

    /// <summary>The leg that replaced leg <paramref name="index"/> (see <see cref="IsNewest"/>), if any.</summary>
    public static Leg? Successor(IReadOnlyList<Leg> legs, int index)
    {
        ArgumentNullException.ThrowIfNull(legs);
        var leg = legs[index];
        return legs.Skip(index + 1).FirstOrDefault(later => later.NodeRank is null || leg.NodeRank is null || later.NodeRank == leg.NodeRank);
    }

    /// <summary>Judges every leg of a run (oldest first), by <see cref="Of(Leg, bool, DateTimeOffset, string)"/>.</summary>
    public static IReadOnlyList<string> Of(IReadOnlyList<Leg> legs, DateTimeOffset now, string hostName)
    {
        ArgumentNullException.ThrowIfNull(legs);
        return [.. legs.Select((leg, i) => Of(leg, IsNewest(legs, i), now, hostName))];
    }
}
