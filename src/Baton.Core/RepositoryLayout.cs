using System.Globalization;
using System.Text.RegularExpressions;

namespace Baton;

/// <summary>
/// Every key and key prefix of a repository's objects, the one place they are spelled (docs/FORMAT.md, "Layout").
/// Keys of a run's objects are built from its folder, <see cref="RunPrefix"/>, which in an encrypted repository holds a
/// keyed hash of the run's name rather than the name (<see cref="Repositories.Repository.RunPrefix"/> computes it).
/// </summary>
public static partial class RepositoryLayout
{
    /// <summary>The repository config: <c>config</c>.</summary>
    public const string ConfigKey = "config";

    /// <summary>Prefix of packs: <c>data/</c>.</summary>
    public const string DataPrefix = "data/";

    /// <summary>Prefix of index objects: <c>index/</c>.</summary>
    public const string IndexPrefix = "index/";

    /// <summary>Prefix of the run folders: <c>runs/</c>.</summary>
    public const string RunsPrefix = "runs/";

    /// <summary>Prefix of key slots (encrypted repositories only): <c>keys/</c>.</summary>
    public const string KeysPrefix = "keys/";

    /// <summary>Prefix of in-flight markers of pushes and collections: <c>inflight/</c>.</summary>
    public const string InFlightPrefix = "inflight/";

    /// <summary>Prefix of garbage collection marks: <c>gc/</c>.</summary>
    public const string GcPrefix = "gc/";

    /// <summary>Prefix of the short-lived objects <c>baton doctor</c> writes to probe a store: <c>.baton-doctor/</c>.</summary>
    public const string DoctorPrefix = ".baton-doctor/";

    /// <summary>The folder of a run's snapshot manifests (and fences) inside its run folder.</summary>
    public const string SnapshotsFolder = "snapshots";

    /// <summary>The folder of a run's writer lease claims inside its run folder.</summary>
    public const string EpochsFolder = "epochs";

    /// <summary>The folder of a run's writer heartbeats inside its run folder.</summary>
    public const string HeartbeatsFolder = "heartbeats";

    /// <summary>The folder of a run's tags inside its run folder.</summary>
    public const string TagsFolder = "tags";

    /// <summary>The folder of a run's journal (its legs) inside its run folder.</summary>
    public const string LegsFolder = "legs";

    /// <summary>The folder of the probes a lease writes to read the store's clock, inside its run folder.</summary>
    public const string ClockFolder = "clock";

    /// <summary>Folder of a run's multi-node parts: <c>parts</c>.</summary>
    public const string PartsFolder = "parts";

    /// <summary>Folder of a run's multi-node start-barrier records: <c>ready</c>.</summary>
    public const string ReadyFolder = "ready";

    /// <summary>The key of a pack: <c>data/XX/ID</c>, where XX is the id's first two hex digits.</summary>
    public static string PackKey(ContentId packId)
    {
        var hex = packId.ToString();
        return $"{DataPrefix}{hex[..2]}/{hex}";
    }

    /// <summary>Parses a pack id back from its key, or returns false for other keys.</summary>
    public static bool TryParsePackKey(string key, out ContentId packId)
    {
        ArgumentNullException.ThrowIfNull(key);
        packId = default;
        return key.StartsWith(DataPrefix, StringComparison.Ordinal) && ContentId.TryParse(key[(key.LastIndexOf('/') + 1)..], out packId);
    }

    /// <summary>The key of an index object: <c>index/ID</c>.</summary>
    public static string IndexKey(ContentId id) => IndexPrefix + id;

    /// <summary>The key of a key slot: <c>keys/ID</c>.</summary>
    public static string KeySlotKey(string slotId) => KeysPrefix + slotId;

    /// <summary>The key of an in-flight marker: <c>inflight/ID</c>.</summary>
    public static string InFlightKey(string id) => InFlightPrefix + id;

    /// <summary>The key of a garbage collection mark: <c>gc/ID</c>.</summary>
    public static string GcKey(string id) => GcPrefix + id;

    /// <summary>The folder of a run's objects, <c>runs/RUN/</c>, given the run's name as it appears in keys (the name
    /// itself, or in an encrypted repository a keyed hash of it: use <see cref="Repositories.Repository.RunPrefix"/>).</summary>
    public static string RunPrefix(string runInKeys) => $"{RunsPrefix}{runInKeys}/";

    /// <summary>Prefix of a run's snapshot manifests in an unencrypted repository (any repository:
    /// <see cref="Repositories.Repository.SnapshotPrefix"/>).</summary>
    public static string SnapshotPrefix(string run) => SnapshotsIn(RunPrefix(run));

    /// <summary>The key of a run's numbered snapshot manifest in an unencrypted repository (any repository:
    /// <see cref="Repositories.Repository.SnapshotKey"/>); the number makes create-if-absent a commit point.</summary>
    public static string SnapshotKey(string run, long sequence) => SnapshotKeyIn(RunPrefix(run), sequence);

    /// <summary>Prefix of the snapshot manifests in the run folder <paramref name="runPrefix"/>: <c>runs/RUN/snapshots/</c>.</summary>
    public static string SnapshotsIn(string runPrefix) => $"{runPrefix}{SnapshotsFolder}/";

    /// <summary>The key of snapshot <paramref name="sequence"/> in a run folder: <c>runs/RUN/snapshots/SEQUENCE</c> (ten digits).</summary>
    public static string SnapshotKeyIn(string runPrefix, long sequence) => string.Create(CultureInfo.InvariantCulture, $"{SnapshotsIn(runPrefix)}{sequence:D10}");

    /// <summary>Prefix of the lease claims in a run folder: <c>runs/RUN/epochs/</c>.</summary>
    public static string EpochsIn(string runPrefix) => $"{runPrefix}{EpochsFolder}/";

    /// <summary>The key of the lease claim of <paramref name="epoch"/>: <c>runs/RUN/epochs/EPOCH</c> (ten digits).</summary>
    public static string EpochKeyIn(string runPrefix, long epoch) => string.Create(CultureInfo.InvariantCulture, $"{EpochsIn(runPrefix)}{epoch:D10}");

    /// <summary>Prefix of the heartbeats in a run folder: <c>runs/RUN/heartbeats/</c>.</summary>
    public static string HeartbeatsIn(string runPrefix) => $"{runPrefix}{HeartbeatsFolder}/";

    /// <summary>The key of the heartbeat of <paramref name="epoch"/>'s writer: <c>runs/RUN/heartbeats/EPOCH</c> (ten digits).</summary>
    public static string HeartbeatKeyIn(string runPrefix, long epoch) => string.Create(CultureInfo.InvariantCulture, $"{HeartbeatsIn(runPrefix)}{epoch:D10}");

    /// <summary>Prefix of the tags in a run folder: <c>runs/RUN/tags/</c>.</summary>
    public static string TagsIn(string runPrefix) => $"{runPrefix}{TagsFolder}/";

    /// <summary>
    /// The heartbeat key of node <paramref name="node"/> of a multi-node attempt: node 0 beats at
    /// <see cref="HeartbeatKeyIn"/>, node R at <c>runs/RUN/heartbeats/EPOCH.R</c>.
    /// </summary>
    public static string NodeHeartbeatKeyIn(string runPrefix, long epoch, int node) => node == 0
        ? HeartbeatKeyIn(runPrefix, epoch)
        : string.Create(CultureInfo.InvariantCulture, $"{HeartbeatKeyIn(runPrefix, epoch)}.{node}");

    /// <summary>Prefix of the journal's legs in a run folder: <c>runs/RUN/legs/</c>.</summary>
    public static string LegsIn(string runPrefix) => $"{runPrefix}{LegsFolder}/";

    /// <summary>The key of a clock probe in a run folder: <c>runs/RUN/clock/ID</c> (written and deleted at once).</summary>
    public static string ClockProbeKeyIn(string runPrefix, string id) => $"{runPrefix}{ClockFolder}/{id}";

    /// <summary>Prefix of a run's multi-node parts: <c>runs/RUN/parts/</c>.</summary>
    public static string PartsIn(string runPrefix) => $"{runPrefix}{PartsFolder}/";

    /// <summary>Prefix of the parts of one step of one job attempt: <c>runs/RUN/parts/EPOCH/STEP/</c>.</summary>
    public static string PartStepIn(string runPrefix, long epoch, long step) =>
        string.Create(CultureInfo.InvariantCulture, $"{PartsIn(runPrefix)}{epoch:D10}/{step:D20}/");

    /// <summary>The key of node <paramref name="node"/>'s part of a step: <c>runs/RUN/parts/EPOCH/STEP/NODE</c>.</summary>
    public static string PartKeyIn(string runPrefix, long epoch, long step, int node) =>
        string.Create(CultureInfo.InvariantCulture, $"{PartStepIn(runPrefix, epoch, step)}{node}");

    /// <summary>Prefix of a run's start-barrier records: <c>runs/RUN/ready/</c>.</summary>
    public static string ReadyIn(string runPrefix) => $"{runPrefix}{ReadyFolder}/";

    /// <summary>Prefix of one job attempt's start-barrier records: <c>runs/RUN/ready/EPOCH/</c>.</summary>
    public static string ReadyAttemptIn(string runPrefix, long epoch) =>
        string.Create(CultureInfo.InvariantCulture, $"{ReadyIn(runPrefix)}{epoch:D10}/");

    /// <summary>Throws <see cref="UsageException"/> unless <paramref name="run"/> is a valid run name.</summary>
    public static void ValidateRunName(string? run)
    {
        if (string.IsNullOrEmpty(run))
        {
            throw new UsageException("no run name: pass --run NAME or set BATON_RUN");
        }

        if (!RunName().IsMatch(run))
        {
            throw new UsageException(
                $"invalid run name '{Printable(run)}': use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit (no spaces or control characters)");
        }
    }

    // A name shows up in paths and listings; a control character shown raw would split this one-line error.
    private static string Printable(string run) =>
        string.Concat(run.Select(c => char.IsControl(c) ? string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}") : c.ToString()));

    // \z, not $: '$' also matches before a final newline, which let "evil\n" through.
    [GeneratedRegex(@"\A[A-Za-z0-9][A-Za-z0-9._-]{0,127}\z", RegexOptions.CultureInvariant)]
    private static partial Regex RunName();
}
