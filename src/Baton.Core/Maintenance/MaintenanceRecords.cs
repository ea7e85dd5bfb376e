using System.Text.Json.Serialization;

namespace Baton.Maintenance;

/// <summary>An <c>inflight/ID</c> object: a push is running. Garbage collection deletes nothing while one is live.</summary>
public sealed record InFlightRecord
{
    public required string Id { get; init; }
    public required string Run { get; init; }
    public string Host { get; init; } = "";
    public int ProcessId { get; init; }
    public DateTimeOffset Started { get; init; }
    public DateTimeOffset Heartbeat { get; init; }
}

/// <summary>A <c>gc/ID</c> object: packs found unreferenced, to be deleted by a later sweep once it is safe.</summary>
public sealed record CondemnedPacks
{
    public required string Id { get; init; }
    public DateTimeOffset Created { get; init; }
    public required List<string> Packs { get; init; }
}

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
[JsonSerializable(typeof(InFlightRecord))]
[JsonSerializable(typeof(CondemnedPacks))]
[JsonSerializable(typeof(SnapshotTag))]
internal sealed partial class MaintenanceJson : JsonSerializerContext;
