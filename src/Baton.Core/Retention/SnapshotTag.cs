using System.Text.Json.Serialization;

namespace Baton.Retention;

/// <summary>A <c>runs/RUN/tags/NAME</c> object: a named snapshot, kept forever by retention.</summary>
public sealed record SnapshotTag
{
    /// <summary>The tag's name (the rules of run names); the last segment of its key.</summary>
    public required string Name { get; init; }

    /// <summary>The run whose snapshot is tagged.</summary>
    public required string Run { get; init; }

    /// <summary>The tagged snapshot's id, to check that the manifest at <see cref="Sequence"/> is still that
    /// one.</summary>
    public required string SnapshotId { get; init; }

    /// <summary>The sequence of the tagged snapshot's manifest in <see cref="Run"/>.</summary>
    public long Sequence { get; init; }

    /// <summary>When the tag was written (tagging again moves it and renews this), by the tagger's clock.</summary>
    public DateTimeOffset Created { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SnapshotTag))]
internal sealed partial class RetentionJson : JsonSerializerContext;
