namespace Baton.Checkpoints;

/// <summary>Turns a <c>--format</c> value into its detector.</summary>
public static class CheckpointFormats
{
    /// <summary>The names <c>--format</c> takes, for help and messages.</summary>
    public const string Names = "auto, tf, torch, hf, orbax, keras, dir or pattern:GLOB (e.g. pattern:ckpt-{step}.pt, pattern:last.pt)";

    /// <summary>Creates the detector for <paramref name="format"/>.</summary>
    /// <exception cref="UsageException">The format is unknown or its pattern is malformed.</exception>
    public static CheckpointDetector Create(string format, DetectorOptions options)
    {
        ArgumentNullException.ThrowIfNull(format);
        if (format.StartsWith("pattern:", StringComparison.Ordinal))
        {
            return new PatternDetector(format["pattern:".Length..], options);
        }

        return format switch
        {
            "auto" => new AutoDetector(options),
            "tf" => new TfDetector(options),
            "torch" => new TorchDetector(options),
            "hf" => new HfDetector(options),
            "orbax" => new OrbaxDetector(options),
            "keras" => new KerasDetector(options),
            "dir" => new PatternDetector("**", options, "dir"),
            _ => throw new UsageException($"unknown checkpoint format '{format}': use {Names}"),
        };
    }
}
