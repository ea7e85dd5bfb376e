namespace Baton;

/// <summary>A progress report: bytes processed out of a total, files done out of a total.</summary>
/// <param name="Bytes">Bytes done so far (a push counts unchanged files as done without reading them).</param>
/// <param name="TotalBytes">Bytes to do in all.</param>
/// <param name="Files">Files done so far; 0 with <paramref name="TotalFiles"/> 0 where files are not counted
/// (<c>check</c>).</param>
/// <param name="TotalFiles">Files to do in all.</param>
public readonly record struct TransferProgress(long Bytes, long TotalBytes, long Files, long TotalFiles);
