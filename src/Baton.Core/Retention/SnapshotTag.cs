using System.Text.Json.Serialization;

namespace Baton.Retention;

/// <summary>A <c>runs/RUN/tags/NAME</c> object: a named snapshot, kept forever by retention.</summary>
public sealed record SnapshotTag
{
    public required string Name { get; init; }
    public required string Run { get; init; }
    public required string SnapshotId { get; init; }
    public long Sequence { get; init; }
    public DateTimeOffset Created { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SnapshotTag))]
internal sealed partial class RetentionJson : JsonSerializerContext;
