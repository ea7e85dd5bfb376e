using System.Text.RegularExpressions;

namespace Baton.Snapshots;

/// <summary>
/// The exact names Baton itself leaves in a checkpoint directory; a push leaves out these and nothing else, and says
/// so (README, "Reserved names"). Each carries a random suffix of a fixed length, so a user's own '.baton-...' file is
/// never mistaken for one. Add a new name here, and only here.
/// </summary>
internal static partial class ReservedNames
{
    /// <summary>The folder a restore stages its files in before moving them into place (top level only).</summary>
    public const string RestoreStagingPrefix = ".baton-restore-";

    /// <summary>The journal of a restore that switches the target by moving entries (top level only).</summary>
    public const string RestoreJournal = ".baton-restore-journal";

    /// <summary>Where a journaled restore moves the target's old entries while it switches (top level only).</summary>
    public const string RestoreAsidePrefix = ".baton-restore-old-";

    /// <summary>The previous content of a <c>baton run</c> directory that a restore replaced (top level only).</summary>
    public const string Previous = ".baton-previous";

    /// <summary>A restore's staging folder name: the prefix and 12 lowercase hex digits.</summary>
    public static string NewRestoreStaging() => RestoreStagingPrefix + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The file <c>baton run</c> writes and removes to prove the directory writable (top level only).</summary>
    public static string NewProbe() => ".baton-probe-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>The temporary file a data stage writes next to its destination (any depth).</summary>
    public static string NewStageTemporary() => ".baton-stage-" + Guid.NewGuid().ToString("N");

    /// <summary>A folder for a journaled restore's old entries: the prefix and 12 lowercase hex digits.</summary>
    public static string NewRestoreAside() => RestoreAsidePrefix + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Whether a restore's staging folder is named <paramref name="name"/>.</summary>
    public static bool IsRestoreStaging(string name) => RestoreStaging().IsMatch(name);

    /// <summary>The folder of commit records (<c>baton commit</c>, <c>baton.commit</c>; top level only, never pushed).</summary>
    public const string CommitRecordsDirectory = Checkpoints.CommitRecords.ReservedDirectory;

    /// <summary>Whether <paramref name="relativePath"/> ('/'-separated, from the checkpoint directory) is Baton's own.</summary>
    public static bool IsReserved(string relativePath)
    {
        if (relativePath == CommitRecordsDirectory)
        {
            return true;
        }

        var slash = relativePath.LastIndexOf('/');
        var name = slash < 0 ? relativePath : relativePath[(slash + 1)..];
        return StageTemporary().IsMatch(name)
            || (slash < 0 && (RestoreStaging().IsMatch(name) || Probe().IsMatch(name) || RestoreAside().IsMatch(name)
                || name is RestoreJournal or Previous));
    }

    [GeneratedRegex(@"\A\.baton-restore-[0-9a-f]{12}\z", RegexOptions.CultureInvariant)]
    private static partial Regex RestoreStaging();

    [GeneratedRegex(@"\A\.baton-restore-old-[0-9a-f]{12}\z", RegexOptions.CultureInvariant)]
    private static partial Regex RestoreAside();

    [GeneratedRegex(@"\A\.baton-probe-[0-9a-f]{8}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Probe();

    [GeneratedRegex(@"\A\.baton-stage-[0-9a-f]{32}\z", RegexOptions.CultureInvariant)]
    private static partial Regex StageTemporary();
}
