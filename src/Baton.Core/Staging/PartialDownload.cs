using System.Globalization;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace Baton.Staging;

/// <summary>One range of a download and how much of it is on disk.</summary>
internal sealed class DownloadPart
{
    public long Start { get; set; }

    /// <summary>The end (exclusive), or -1 while the size is unknown.</summary>
    public long End { get; set; }

    /// <summary>Bytes of the range already written, from <see cref="Start"/>.</summary>
    public long Done { get; set; }

    public bool Complete => End >= 0 && Start + Done >= End;
}

/// <summary>The saved progress of a download, so that an interrupted one resumes where it stopped.</summary>
internal sealed class DownloadState
{
    /// <summary>The source version the bytes on disk belong to; any other version starts over.</summary>
    public string Validator { get; set; } = "";

    public long? Size { get; set; }

    public List<DownloadPart> Parts { get; set; } = [];
}

/// <summary>
/// A download in progress in the cache: the data file (<c>.part</c>, written at offsets) and its state file
/// (<c>.json</c>). State is saved only after the data it describes is flushed, so it never claims bytes that a crash lost.
/// </summary>
internal sealed class PartialDownload
{
    private readonly Lock _gate = new();

    private PartialDownload(string basePath, DownloadState state)
    {
        DataPath = basePath + ".part";
        StatePath = basePath + ".json";
        State = state;
    }

    public string DataPath { get; }

    public string StatePath { get; }

    public DownloadState State { get; }

    /// <summary>Bytes already on disk.</summary>
    public long BytesDone => State.Parts.Sum(p => p.Done);

    /// <summary>Resumes the saved download of this version of the file, or starts a new one split into parts.</summary>
    public static PartialDownload Open(string basePath, RemoteFile file, StageOptions options)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(basePath)!);
        var validator = ValidatorOf(file);
        var saved = Load(basePath + ".json");
        if (saved is not null && file.SupportsRanges && saved.Validator == validator && File.Exists(basePath + ".part"))
        {
            return new PartialDownload(basePath, saved);
        }

        var state = new DownloadState { Validator = validator, Size = file.Size, Parts = Split(file, options) };
        var fresh = new PartialDownload(basePath, state);
        File.Delete(fresh.DataPath);
        using (var data = new FileStream(fresh.DataPath, FileMode.CreateNew, FileAccess.Write))
        {
            if (file.Size is { } size)
            {
                data.SetLength(size);
            }
        }

        fresh.Save();
        return fresh;
    }

    /// <summary>Writes the state (of a download with nothing on disk yet).</summary>
    public void Save() => Write(JsonSerializer.SerializeToUtf8Bytes(State, StagingJson.Default.DownloadState));

    /// <summary>
    /// Saves the progress: the state is captured first and written after the data file is flushed, so the saved state
    /// never claims bytes that a crash of the machine could lose.
    /// </summary>
    public void Checkpoint(SafeFileHandle data)
    {
        lock (_gate)
        {
            var bytes = JsonSerializer.SerializeToUtf8Bytes(State, StagingJson.Default.DownloadState);
            RandomAccess.FlushToDisk(data);
            Write(bytes);
        }
    }

    private void Write(byte[] bytes)
    {
        var temp = StatePath + ".tmp";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, StatePath, overwrite: true);
    }

    /// <summary>Forgets the download (it finished, or its bytes were found wrong).</summary>
    public void Discard()
    {
        File.Delete(DataPath);
        File.Delete(StatePath);
    }

    /// <summary>Removes the state once the data file has been moved into the cache.</summary>
    public void Finish() => File.Delete(StatePath);

    // A validator that changes with the file: size plus ETag or modification time, the time at full precision (a
    // store may report fractions of a second). Without either (a source that reports only sizes), resuming is still
    // allowed: the whole file's checksums are verified at the end.
    private static string ValidatorOf(RemoteFile file) =>
        string.Create(CultureInfo.InvariantCulture, $"{file.Size}|{file.ETag}|{file.LastModified?.UtcTicks}");

    private static List<DownloadPart> Split(RemoteFile file, StageOptions options)
    {
        if (file.Size is not { } size)
        {
            return [new DownloadPart { Start = 0, End = -1 }];
        }

        if (!file.SupportsRanges || size < options.ParallelThreshold)
        {
            return [new DownloadPart { Start = 0, End = size }];
        }

        var parts = new List<DownloadPart>();
        for (long start = 0; start < size; start += options.PartSize)
        {
            parts.Add(new DownloadPart { Start = start, End = Math.Min(size, start + options.PartSize) });
        }

        return parts;
    }

    private static DownloadState? Load(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllBytes(path), StagingJson.Default.DownloadState) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
