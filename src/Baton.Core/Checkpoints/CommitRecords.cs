using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Baton.Checkpoints;

/// <summary>
/// Commit records: a trainer (through <c>baton commit</c> or <c>baton.commit()</c>) says exactly when a checkpoint is
/// complete by writing <c>DIR/.baton/commits/step-&lt;N, 20 digits&gt;.json</c> atomically (a temporary name, then a
/// rename). The record names the step and the files (with their sizes) that form the checkpoint; without a file list
/// it means every regular file under DIR at that moment except <c>.baton/</c>. See docs/FORMAT.md, "Commit records".
/// </summary>
public static partial class CommitRecords
{
    /// <summary>The reserved directory under a checkpoint directory; never part of a snapshot.</summary>
    public const string ReservedDirectory = ".baton";

    /// <summary>The record format's version.</summary>
    public const int Version = 1;

    /// <summary>Where the records of <paramref name="directory"/> live.</summary>
    public static string DirectoryOf(string directory) => Path.Combine(directory, ReservedDirectory, "commits");

    /// <summary>The record's file name for <paramref name="step"/>.</summary>
    public static string FileNameOf(long step) => string.Create(CultureInfo.InvariantCulture, $"step-{step:D20}.json");

    /// <summary>
    /// Writes a record for <paramref name="step"/> naming <paramref name="files"/> (relative, '/'-separated), or, when
    /// null, every regular file under <paramref name="directory"/>; each with its size now. Returns the record's path.
    /// </summary>
    /// <exception cref="UsageException">A negative step, or a named file that is missing, not a regular file or outside the directory.</exception>
    public static string Write(string directory, long step, IReadOnlyCollection<string>? files, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (step < 0)
        {
            throw new UsageException($"step {step} is negative: give the training step, 0 or more");
        }

        var root = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(root))
        {
            throw new UsageException($"checkpoint directory '{directory}' does not exist: give the --dir the trainer writes");
        }

        var listed = (files ?? ListAll(root)).Select(f => new CommitFile(f, SizeOf(root, f))).ToList();
        var record = new CommitRecord
        {
            Version = Version, Step = step, Time = timeProvider.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture), Files = listed,
        };
        var commits = DirectoryOf(root);
        System.IO.Directory.CreateDirectory(commits);
        var temporary = Path.Combine(commits, ".tmp-" + Guid.NewGuid().ToString("N")[..12]);
        var target = Path.Combine(commits, FileNameOf(step));
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(record, CommitJson.Default.CommitRecord));
        File.Move(temporary, target, overwrite: true);
        return target;
    }

    /// <summary>
    /// Checks a path given on a command line (absolute, or relative to the current directory) and returns it relative
    /// to <paramref name="directory"/>, '/'-separated.
    /// </summary>
    /// <exception cref="UsageException">The file is missing, not a regular file, outside the directory or inside <c>.baton/</c>.</exception>
    public static string RelativeFile(string directory, string file)
    {
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        var full = Path.GetFullPath(file);
        if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new UsageException($"'{file}' is outside the checkpoint directory '{directory}': name files inside it");
        }

        var relative = Path.GetRelativePath(root, full).Replace(Path.DirectorySeparatorChar, '/');
        if (relative == ReservedDirectory || relative.StartsWith(ReservedDirectory + "/", StringComparison.Ordinal))
        {
            throw new UsageException($"'{file}' is inside '{ReservedDirectory}/', which Baton reserves: name the checkpoint's own files");
        }

        var info = new FileInfo(full);
        if (!info.Exists || info.LinkTarget is not null)
        {
            throw new UsageException(System.IO.Directory.Exists(full)
                ? $"'{file}' is a directory: name the files of the checkpoint (or none, for every file in the directory)"
                : info.Exists ? $"'{file}' is a symbolic link: name the file itself" : $"'{file}' does not exist: name files the checkpoint consists of");
        }

        return relative;
    }

    /// <summary>The records present, oldest step first (temporary files and foreign names are skipped).</summary>
    public static List<(long Step, string Path)> List(string directory)
    {
        var commits = DirectoryOf(directory);
        var result = new List<(long, string)>();
        try
        {
            foreach (var path in System.IO.Directory.EnumerateFiles(commits))
            {
                var match = RecordName().Match(Path.GetFileName(path));
                if (match.Success && StepNumbers.Parse(match.Groups[1].Value) is { } step)
                {
                    result.Add((step, path));
                }
            }
        }
        catch (Exception e) when (e is DirectoryNotFoundException or IOException or UnauthorizedAccessException)
        {
            return [];
        }

        result.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return result;
    }

    /// <summary>Reads a record; throws <see cref="InvalidDataException"/> naming what is wrong with it.</summary>
    public static CommitRecord Read(string path)
    {
        CommitRecord? record;
        try
        {
            record = JsonSerializer.Deserialize(File.ReadAllBytes(path), CommitJson.Default.CommitRecord);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"commit record '{Path.GetFileName(path)}' is not valid JSON ({e.Message})", e);
        }

        if (record is null || record.Version is not Version)
        {
            throw new InvalidDataException($"commit record '{Path.GetFileName(path)}' has version {record?.Version}; this baton reads version {Version}: upgrade baton");
        }

        if (record.Step < 0 || FileNameOf(record.Step) != Path.GetFileName(path))
        {
            throw new InvalidDataException($"commit record '{Path.GetFileName(path)}' says step {record.Step}, which its name does not");
        }

        foreach (var file in record.Files ?? [])
        {
            if (string.IsNullOrEmpty(file.Path) || file.Path.StartsWith('/') || file.Path.Contains('\\', StringComparison.Ordinal)
                || file.Path.Split('/').Any(s => s is "" or "." or "..") || file.Path.Split('/')[0] == ReservedDirectory || file.Size < 0)
            {
                throw new InvalidDataException($"commit record '{Path.GetFileName(path)}' names '{file.Path}', which is not a relative path inside the directory");
            }
        }

        return record;
    }

    /// <summary>Deletes the records of steps up to <paramref name="step"/> (pushed, or superseded by a pushed one).</summary>
    public static int DeleteUpTo(string directory, long step)
    {
        var deleted = 0;
        foreach (var (_, path) in List(directory).Where(r => r.Step <= step))
        {
            try
            {
                File.Delete(path);
                deleted++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Left for the next push to remove; a record that stays is pushed again at most once per start.
            }
        }

        return deleted;
    }

    /// <summary>Every regular file under <paramref name="root"/> except Baton's reserved and internal names.</summary>
    public static List<string> ListAll(string root) => CheckpointFiles.Under(root, root);

    private static long SizeOf(string root, string relative)
    {
        var info = new FileInfo(Path.Combine(root, relative.Replace('/', Path.DirectorySeparatorChar)));
        return info.Exists ? info.Length : throw new UsageException($"'{relative}' disappeared before it could be committed: commit after the file is written");
    }

    [GeneratedRegex(@"^step-(\d{20})\.json$")]
    private static partial Regex RecordName();
}

/// <summary>One commit record (docs/FORMAT.md, "Commit records").</summary>
public sealed record CommitRecord
{
    /// <summary>The record format's version (1).</summary>
    public int Version { get; init; }

    /// <summary>The training step of the checkpoint.</summary>
    public long Step { get; init; }

    /// <summary>When the trainer committed it (ISO 8601, UTC).</summary>
    public string? Time { get; init; }

    /// <summary>The checkpoint's files with their sizes; null means every regular file under the directory.</summary>
    public IReadOnlyList<CommitFile>? Files { get; init; }
}

/// <summary>A file named by a commit record.</summary>
/// <param name="Path">Relative to the checkpoint directory, '/'-separated.</param>
/// <param name="Size">Its size in bytes when the checkpoint was committed.</param>
public sealed record CommitFile(string Path, long Size);

/// <summary>Source-generated JSON for commit records.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CommitRecord))]
internal sealed partial class CommitJson : JsonSerializerContext;
