
namespace Baton.Staging;

/// <summary>Thread-safe progress counters reported as <see cref="TransferProgress"/>.</summary>
internal sealed class StageProgress(IProgress<TransferProgress>? sink, long totalBytes, long totalFiles)
{
    private long _bytes;
    private long _files;

    public void AddBytes(long count)
    {
        if (count == 0)
        {
            return;
        }

        var bytes = Interlocked.Add(ref _bytes, count);
        sink?.Report(new TransferProgress(bytes, totalBytes, Interlocked.Read(ref _files), totalFiles));
    }

    public void FileDone()
    {
        var files = Interlocked.Increment(ref _files);
        sink?.Report(new TransferProgress(Interlocked.Read(ref _bytes), totalBytes, files, totalFiles));
    }
}
