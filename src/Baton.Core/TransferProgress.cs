namespace Baton;

/// <summary>A progress report: bytes processed out of a total, files done out of a total.</summary>
public readonly record struct TransferProgress(long Bytes, long TotalBytes, long Files, long TotalFiles);
