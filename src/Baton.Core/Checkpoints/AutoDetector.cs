namespace Baton.Checkpoints;

/// <summary>
/// Picks a layout from what the directory holds, the first time it recognizes one, and keeps it; until then it
/// finds nothing. <see cref="Picked"/> says which it chose and why.
/// </summary>
/// <param name="options">Settings shared by the detectors: quiet period, step pattern, node rank and count, clock.</param>
public sealed class AutoDetector(DetectorOptions options) : CheckpointDetector(options)
{
    // The distributed layouts first: each is recognized by files of its own, some of which (DeepSpeed's and Megatron's
    // *.pt files, NeMo's *.ckpt files) the generic torch detector would also take. Megatron comes before dcp, whose
    // *.distcp files its torch_dist format writes; Accelerate and NeMo before hf, whose checkpoint-N name they may share.
    private readonly CheckpointDetector[] _candidates =
    [
        new MegatronDetector(options), new DeepSpeedDetector(options), new NemoDetector(options), new AccelerateDetector(options), new DcpDetector(options),
        new TfDetector(options), new KerasDetector(options), new HfDetector(options), new OrbaxDetector(options), new TorchDetector(options),
    ];

    /// <summary>The detector chosen, once the directory showed a known layout.</summary>
    public CheckpointDetector? Chosen { get; private set; }

    /// <summary>"tf (a TensorFlow 'checkpoint' state file)" once chosen.</summary>
    public string? Picked { get; private set; }

    /// <inheritdoc />
    public override string Name => Chosen?.Name ?? "auto";

    /// <inheritdoc />
    public override string? Recognize(string directory) =>
        _candidates.Select(c => c.Recognize(directory) is { } why ? $"{c.Name} ({why})" : null).FirstOrDefault(r => r is not null);

    /// <inheritdoc />
    public override DetectionResult Detect(string directory, DetectionMode mode = DetectionMode.Live)
    {
        if (Chosen is null && Directory.Exists(directory))
        {
            foreach (var candidate in _candidates)
            {
                if (candidate.Recognize(directory) is { } why)
                {
                    Chosen = candidate;
                    Picked = $"{candidate.Name} ({why})";
                    break;
                }
            }
        }

        return Chosen?.Detect(directory, mode) ?? DetectionResult.None;
    }

    /// <inheritdoc />
    public override int OnWriterDied() => Chosen?.OnWriterDied() ?? 0;

    internal override Checkpoint? Scan(ScanContext context) => null;
}
