namespace Baton.Staging;

/// <summary>
/// A local or mounted file or folder (a Drive mount, a Kaggle input folder). Nothing crosses a network, so nothing is
/// cached: files are copied (through a temporary name) and a destination with the same size and time is left alone.
/// </summary>
internal static class LocalSource
{
    public static async Task<StageResult> StageAsync(string path, string destination, StageOptions options, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(path);
        List<(FileInfo File, string Target)> plan;
        string shown;
        if (File.Exists(full))
        {
            var target = Layout.SingleTarget(destination, Path.GetFileName(full));
            plan = [(new FileInfo(full), target)];
            shown = target;
        }
        else if (Directory.Exists(full))
        {
            Layout.CheckFolderDestination(destination);
            var options2 = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = false };
            plan = new DirectoryInfo(full).EnumerateFiles("*", options2)
                .Select(f => (f, Layout.FolderTarget(destination, Path.GetRelativePath(full, f.FullName).Replace(Path.DirectorySeparatorChar, '/'), path)))
                .ToList();
            shown = destination;
        }
        else
        {
            throw new UsageException($"nothing at '{path}': no such file or folder");
        }

        var progress = new StageProgress(options.Progress, plan.Sum(p => p.File.Length), plan.Count);
        long unchanged = 0;
        foreach (var (file, target) in plan)
        {
            var stamp = new DateTimeOffset(file.LastWriteTimeUtc);
            var copied = await Materializer.PlaceAsync(file.FullName, null, file.Length, stamp, target, progress.AddBytes, mayBeInPlace: true, cancellationToken).ConfigureAwait(false);
            if (!copied)
            {
                unchanged++;
                progress.AddBytes(file.Length);
            }

            progress.FileDone();
        }

        return new StageResult(shown, plan.Count, plan.Sum(p => p.File.Length), 0, 0, unchanged);
    }
}
