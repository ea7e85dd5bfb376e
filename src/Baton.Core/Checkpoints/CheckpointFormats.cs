namespace Baton.Checkpoints;

/// <summary>Turns a <c>--format</c> value into its detector. A new format is one line in <see cref="Detectors"/>.</summary>
public static class CheckpointFormats
{
    private const string PatternPrefix = "pattern:";

    // The named formats, in the order help lists them.
    private static readonly (string Name, Func<DetectorOptions, CheckpointDetector> Create)[] Detectors =
    [
        ("auto", options => new AutoDetector(options)),
        ("tf", options => new TfDetector(options)),
        ("torch", options => new TorchDetector(options)),
        ("hf", options => new HfDetector(options)),
        ("orbax", options => new OrbaxDetector(options)),
        ("keras", options => new KerasDetector(options)),
        ("dcp", options => new DcpDetector(options)),
        ("deepspeed", options => new DeepSpeedDetector(options)),
        ("megatron", options => new MegatronDetector(options)),
        ("nemo", options => new NemoDetector(options)),
        ("accelerate", options => new AccelerateDetector(options)),
        ("dir", options => new PatternDetector("**", options, "dir")),
    ];

    /// <summary>The names <c>--format</c> takes, for help and messages.</summary>
    public static string Names { get; } =
        $"{string.Join(", ", Detectors.Select(d => d.Name))} or {PatternPrefix}GLOB (e.g. {PatternPrefix}ckpt-{{step}}.pt, {PatternPrefix}last.pt)";

    /// <summary>Creates the detector for <paramref name="format"/>.</summary>
    /// <exception cref="UsageException">The format is unknown or its pattern is malformed.</exception>
    public static CheckpointDetector Create(string format, DetectorOptions options)
    {
        ArgumentNullException.ThrowIfNull(format);
        if (format.StartsWith(PatternPrefix, StringComparison.Ordinal))
        {
            return new PatternDetector(format[PatternPrefix.Length..], options);
        }

        foreach (var (name, create) in Detectors)
        {
            if (name == format)
            {
                return create(options);
            }
        }

        throw new UsageException($"unknown checkpoint format '{format}': use {Names}");
    }
}
