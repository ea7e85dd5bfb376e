using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Baton.Staging;

/// <summary>What the cache knows about one source: the validator it was fetched under and the content it had.</summary>
internal sealed record SourceRecord(
    string Source, long Size, string? ETag, DateTimeOffset? LastModified, string Sha256, string? Md5, string? Crc32C, DateTimeOffset FirstStaged)
{
    /// <summary>Whether a fresh description of the source shows the same version.</summary>
    public bool Matches(RemoteFile file) => file.Size == Size && file.ETag == ETag && file.LastModified == LastModified;
}

/// <summary>
/// The staging cache: downloaded files kept once by content (<c>objects/SHA256</c>), a record per source saying
/// which content it had under which validator (<c>sources/</c>), an MD5 index so that a new address of known content
/// needs no download (<c>md5/</c>), and interrupted downloads with their progress (<c>partial/</c>).
/// </summary>
internal sealed class StageCache
{
    public StageCache(string root)
    {
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }

    public string ObjectPath(string sha256) => Path.Combine(Root, "objects", sha256[..2], sha256);

    public string PartialPath(string identity) => Path.Combine(Root, "partial", IdOf(identity));

    public SourceRecord? ReadRecord(string identity)
    {
        var path = RecordPath(identity);
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllBytes(path), StagingJson.Default.SourceRecord) : null;
        }
        catch (JsonException)
        {
            return null; // A damaged record only costs a download.
        }
    }

    public void WriteRecord(string identity, SourceRecord record)
    {
        WriteAtomically(RecordPath(identity), JsonSerializer.SerializeToUtf8Bytes(record, StagingJson.Default.SourceRecord));
        if (record.Md5 is not null)
        {
            WriteAtomically(Md5Path(record.Md5), Encoding.ASCII.GetBytes(record.Sha256));
        }
    }

    /// <summary>The content with this MD5, when the cache holds it.</summary>
    public string? FindByMd5(string md5)
    {
        var path = Md5Path(md5);
        if (!File.Exists(path))
        {
            return null;
        }

        var sha = File.ReadAllText(path).Trim();
        return sha.Length == 64 && File.Exists(ObjectPath(sha)) ? sha : null;
    }

    /// <summary>Moves a finished download into the content store (keeping the copy already there, if any).</summary>
    public string Commit(string downloaded, string sha256)
    {
        var target = ObjectPath(sha256);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (File.Exists(target))
        {
            File.Delete(downloaded);
        }
        else
        {
            File.Move(downloaded, target, overwrite: true);
        }

        return target;
    }

    /// <summary>Removes a cached object found to be damaged.</summary>
    public void Evict(string sha256) => File.Delete(ObjectPath(sha256));

    /// <summary>
    /// Holds the source's lock, waiting while another process stages the same source (two jobs on a shared home
    /// folder); the lock is released by the operating system even if the holder is killed.
    /// </summary>
    public async Task<IDisposable> LockAsync(string identity, CancellationToken cancellationToken)
    {
        var path = Path.Combine(Root, "locks", IdOf(identity));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private string RecordPath(string identity) => Path.Combine(Root, "sources", IdOf(identity) + ".json");

    private string Md5Path(string md5) => Path.Combine(Root, "md5", md5.ToLowerInvariant());

    // Sources are named by a hash of their full address: it may hold a signature, and must never be written out.
    private static string IdOf(string identity) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)));

    private static void WriteAtomically(string path, byte[] bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
    }
}
