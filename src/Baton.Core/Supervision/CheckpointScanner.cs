using Baton.Checkpoints;

namespace Baton.Supervision;

/// <summary>Serializes scans of one directory (the watcher and the supervisor both scan) and says once which format auto picked.</summary>
internal sealed class CheckpointScanner(CheckpointDetector detector, string directory, ISupervisorLog log)
{
    private readonly Lock _gate = new();
    private bool _announced;

    public CheckpointDetector Detector { get; } = detector;

    public string Directory { get; } = directory;

    /// <summary>The format in use: the detector's name, or auto's pick once made.</summary>
    public string Format => Detector.Name;

    public DetectionResult Scan(DetectionMode mode)
    {
        lock (_gate)
        {
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
            Detector.Detect(Directory, DetectionMode.Live);
            if (!trusted)
            {
                Detector.OnWriterDied();
            }

            return Detector.Detect(Directory, DetectionMode.Settled);
        }
    }
}
