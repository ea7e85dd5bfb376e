using System.Security.Cryptography;
using System.Text;
using Baton.Checkpoints;
using Baton.Repositories;
using Baton.Snapshots;

namespace Baton.Supervision;

/// <summary>
/// Serializes scans of one directory (the watcher and the supervisor both scan) and says once which format auto picked.
/// Once the directory holds commit records (<see cref="CommitRecords"/>), they are the source of truth for it: the
/// newest record is the checkpoint, and detection by quiet period is off for the rest of the run.
/// </summary>
internal sealed class CheckpointScanner(CheckpointDetector detector, string directory, ISupervisorLog log)
{
    /// <summary>The format label of snapshots pushed from commit records.</summary>
    public const string CommitFormat = "commit";

    private readonly Lock _gate = new();
    private readonly HashSet<string> _badRecords = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Checkpoint> _seen = new(StringComparer.Ordinal);
    private bool _announced;
    private bool _committing;

    public CheckpointDetector Detector { get; } = detector;

    public string Directory { get; } = directory;

    /// <summary>The format in use: the detector's name, or auto's pick once made.</summary>
    public string Format => _committing ? CommitFormat : Detector.Name;

    /// <summary>Whether the directory has shown commit records: they are its checkpoints, and need no settling.</summary>
    public bool Committing => Volatile.Read(ref _committing);

    public DetectionResult Scan(DetectionMode mode)
    {
        lock (_gate)
        {
            if (FromRecords() is { } committed)
            {
                return committed;
            }

            var result = Detector.Detect(Directory, mode);
            if (!_announced && Detector is AutoDetector { Picked: { } picked })
            {
                _announced = true;
                log.Info($"checkpoint format: {picked}");
            }

            return result;
        }
    }

    /// <summary>
    /// The scan after the trainer exited. A <paramref name="trusted"/> exit (code 0, or any code after a stop request)
    /// finished what it wrote, so markers alone decide; otherwise files that had not settled were cut off by its death
    /// and are marked so that they never count as complete.
    /// </summary>
    public DetectionResult ScanAfterExit(bool trusted)
    {
        lock (_gate)
        {
            if (FromRecords() is { } committed)
            {
                return committed;
            }

            Detector.Detect(Directory, DetectionMode.Live);
            if (!trusted)
            {
                Detector.OnWriterDied();
            }

            return Detector.Detect(Directory, DetectionMode.Settled);
        }
    }

    /// <summary>After a push committed: removes the records it pushed or superseded, so that the folder stays small.</summary>
    public void Committed(Checkpoint checkpoint)
    {
        if (checkpoint.CommitRecord is not null && checkpoint.Step is { } step)
        {
            CommitRecords.DeleteUpTo(Directory, step);
        }
    }

    /// <summary>
    /// After a snapshot pushed from a commit record was restored: records it again, so that the trainer resumes from
    /// it (the record itself is never part of a snapshot) and the directory stays in commit mode.
    /// </summary>
    public void Restored(SnapshotManifest manifest, TimeProvider timeProvider)
    {
        if (manifest.Step is { } step && manifest.Labels?.GetValueOrDefault("format") == CommitFormat)
        {
            var files = manifest.Entries.Where(e => e.Kind == EntryKind.File).Select(e => e.Path).ToList();
            try
            {
                CommitRecords.Write(Directory, step, files, timeProvider);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or UsageException)
            {
                // The files are restored either way; without the record the trainer is only not told to resume.
                log.Warn($"cannot record the restored step {step} in {CommitRecords.ReservedDirectory}/commits ({e.Message}): the trainer may not be told to resume from it");
            }
        }
    }

    // The newest readable record as the checkpoint; null when the directory has never held one.
    private DetectionResult? FromRecords()
    {
        var records = CommitRecords.List(Directory);
        if (records.Count == 0)
        {
            return _committing ? DetectionResult.None : null;
        }

        if (!_committing)
        {
            _committing = true;
            log.Info($"commit records in {Path.Combine(CommitRecords.ReservedDirectory, "commits")}: checkpoints are pushed as the trainer commits them");
        }

        for (var i = records.Count - 1; i >= 0; i--)
        {
            var (step, path) = records[i];
            try
            {
                // A record is judged once, when first seen: what the trainer writes afterwards belongs to later steps.
                var recordedAt = File.GetLastWriteTimeUtc(path);
                var key = Path.GetFileName(path) + "@" + recordedAt.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (!_seen.TryGetValue(key, out var checkpoint))
                {
                    checkpoint = ToCheckpoint(CommitRecords.Read(path), Path.GetFileName(path), recordedAt);
                    _seen.Clear(); // only the newest matters; older ones are superseded
                    _seen[key] = checkpoint;
                }

                return new DetectionResult(checkpoint, null);
            }
            catch (FileNotFoundException)
            {
                // superseded and removed meanwhile
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                if (_badRecords.Add(path))
                {
                    log.Warn($"ignoring the commit record of step {step}: {e.Message}");
                }
            }
        }

        return DetectionResult.None;
    }

    // The files as the record names them: the stamps hold the record's sizes, and a file written after the record
    // (a later step's, rewritten in place) gets a stamp no file can match; either way such a push fails, never mixes.
    private Checkpoint ToCheckpoint(CommitRecord record, string name, DateTime recordedAt)
    {
        var files = record.Files ?? CommitRecords.ListAll(Directory).Select(f => new CommitFile(f, new FileInfo(Path.Combine(Directory, f)).Length)).ToList();
        var stamps = new Dictionary<string, FileStamp>(StringComparer.Ordinal);
        var identity = new StringBuilder(name).Append('\0').Append(recordedAt.Ticks).Append('\n');
        foreach (var file in files.DistinctBy(f => f.Path).OrderBy(f => f.Path, StringComparer.Ordinal))
        {
            var info = new FileInfo(Path.Combine(Directory, file.Path));
            var mtime = info.Exists ? info.LastWriteTimeUtc.Ticks - DateTime.UnixEpoch.Ticks : -1;
            var writtenAfter = info.Exists && info.LastWriteTimeUtc > recordedAt;
            stamps[file.Path] = new FileStamp(writtenAfter ? -1 : file.Size, mtime);
            identity.Append(file.Path).Append('\0').Append(file.Size).Append('\0').Append(mtime).Append('\n');
        }

        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity.ToString())).AsSpan(0, 12));
        return new Checkpoint(CommitFormat, record.Step, name, [.. stamps.Keys], fingerprint)
        {
            Stamps = stamps, CommitRecord = name, RecordedAt = new DateTimeOffset(recordedAt, TimeSpan.Zero),
        };
    }
}
