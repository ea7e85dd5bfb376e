using System.Globalization;
using System.Text.RegularExpressions;

namespace Baton;

/// <summary>Where each kind of object lives in a store (docs/FORMAT.md, "Layout").</summary>
public static partial class RepositoryLayout
{
    /// <summary>The repository config.</summary>
    public const string ConfigKey = "config";

    /// <summary>Prefix of index objects.</summary>
    public const string IndexPrefix = "index/";

    /// <summary>Prefix of pack objects.</summary>
    public const string DataPrefix = "data/";

    /// <summary>Prefix of per-run objects.</summary>
    public const string RunsPrefix = "runs/";

    /// <summary>The key of an index object.</summary>
    public static string IndexKey(ContentId id) => IndexPrefix + id;

    /// <summary>Prefix of key slots (encrypted repositories only).</summary>
    public const string KeysPrefix = "keys/";

    /// <summary>The folder of a run's objects, given the run's name as it appears in keys (the name itself, or in an
    /// encrypted repository a keyed hash of it: use <see cref="Repositories.Repository.RunPrefix"/>).</summary>
    public static string RunPrefix(string runInKeys) => $"{RunsPrefix}{runInKeys}/";

    /// <summary>Prefix of a run's snapshot manifests in an unencrypted repository (any repository:
    /// <see cref="Repositories.Repository.SnapshotPrefix"/>).</summary>
    public static string SnapshotPrefix(string run) => $"{RunPrefix(run)}snapshots/";

    /// <summary>The key of a run's numbered snapshot manifest in an unencrypted repository (any repository:
    /// <see cref="Repositories.Repository.SnapshotKey"/>); the number makes create-if-absent a commit point.</summary>
    public static string SnapshotKey(string run, long sequence) => $"{SnapshotPrefix(run)}{sequence:D10}";

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
