namespace Baton.Checkpoints;

/// <summary>Checks that a distributed checkpoint's files cover every rank that wrote one.</summary>
internal static class Ranks
{
    /// <summary>
    /// Whether <paramref name="ranks"/> is a run without gaps: <c>0..max</c> when <paramref name="fromZero"/>, else
    /// <c>min..max</c> (a node of a node-local run sees only its own, consecutive ranks), and at least
    /// <paramref name="worldSize"/> ranks when one is known.
    /// </summary>
    public static bool Complete(IEnumerable<int> ranks, bool fromZero, int worldSize = 0)
    {
        var set = ranks.ToHashSet();
        if (set.Count == 0)
        {
            return false;
        }

        var first = fromZero ? 0 : set.Min();
        var last = Math.Max(set.Max(), fromZero ? worldSize - 1 : first);
        for (var rank = first; rank <= last; rank++)
        {
            if (!set.Contains(rank))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Parses a rank number out of a regular-expression group; null when it is not a small non-negative number.</summary>
    public static int? Parse(string digits) =>
        int.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : null;
}
