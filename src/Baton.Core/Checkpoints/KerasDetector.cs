using System.Text.Json;

namespace Baton.Checkpoints;

/// <summary>
/// Keras <c>BackupAndRestore</c> backup directories. Keras 3 writes <c>latest.weights.h5</c> and then
/// <c>training_metadata.json</c> (<c>{"epoch": N, ...}</c>): complete when both are there, the metadata parses and
/// neither has changed for the quiet period; the step is the epoch. tf.keras writes a TensorFlow checkpoint under
/// <c>chief/</c>, which is read as <c>tf</c>.
/// </summary>
public sealed class KerasDetector : CheckpointDetector
{
    /// <summary>Keras 3's weights file.</summary>
    public const string WeightsFile = "latest.weights.h5";

    /// <summary>Keras 3's metadata file, written after the weights.</summary>
    public const string MetadataFile = "training_metadata.json";

    private readonly TfDetector _tfKeras;

    /// <summary>Creates the detector.</summary>
    public KerasDetector(DetectorOptions options)
        : base(options)
    {
        _tfKeras = new TfDetector(options, "chief");
    }

    /// <inheritdoc />
    public override string Name => "keras";

    /// <inheritdoc />
    public override string? Recognize(string directory) =>
        File.Exists(Path.Combine(directory, MetadataFile)) || File.Exists(Path.Combine(directory, WeightsFile))
            ? "a Keras BackupAndRestore backup"
            : _tfKeras.Recognize(directory) is not null ? "a tf.keras BackupAndRestore backup (chief/checkpoint)" : null;

    /// <inheritdoc />
    public override DetectionResult Detect(string directory, DetectionMode mode = DetectionMode.Live)
    {
        if (_tfKeras.Recognize(directory) is not null)
        {
            var found = _tfKeras.Detect(directory, mode);
            return found with { Newest = found.Newest is { } c ? c with { Format = Name } : null };
        }

        return base.Detect(directory, mode);
    }

    /// <inheritdoc />
    public override int OnWriterDied() => base.OnWriterDied() + _tfKeras.OnWriterDied();

    internal override Checkpoint? Scan(ScanContext context)
    {
        if (!context.Settled([WeightsFile, MetadataFile], context.Options.QuietPeriod))
        {
            return null;
        }

        long? epoch;
        try
        {
            using var metadata = JsonDocument.Parse(File.ReadAllBytes(context.FullPath(MetadataFile)));
            epoch = metadata.RootElement.TryGetProperty("epoch", out var value) && value.TryGetInt64(out var n) ? n : null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return context.Found(Name, StepOf(MetadataFile, _ => epoch), WeightsFile, [WeightsFile, MetadataFile]);
    }
}
