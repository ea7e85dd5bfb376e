using System.Text.Json.Serialization;

namespace Baton.Maintenance;

/// <summary>
/// An <c>inflight/ID</c> object: a push (or a garbage collection that writes packs) is running. Garbage collection
/// deletes nothing while one is live.
/// </summary>
public sealed record InFlightRecord
{
    /// <summary>The <see cref="Kind"/> of a garbage collection's record; a push's record has none.</summary>
    public const string CollectionKind = "collection";

    /// <summary>32 hex digits; the last segment of the record's key.</summary>
    public required string Id { get; init; }

    /// <summary>The run being pushed; empty for a collection.</summary>
    public required string Run { get; init; }

    /// <summary>What is running: <c>null</c> for a push, <see cref="CollectionKind"/> for a collection.</summary>
    public string? Kind { get; init; }

    /// <summary>The writer's host name.</summary>
    public string Host { get; init; } = "";

    /// <summary>The writer's process id on <see cref="Host"/>.</summary>
    public int ProcessId { get; init; }

    /// <summary>The writer's boot id, pid namespace and process start time (<c>null</c> in records of older versions):
    /// a marker is judged gone at once only when all three say its process is no longer there.</summary>
    public string? BootId { get; init; }

    /// <inheritdoc cref="BootId"/>
    public long? PidNamespace { get; init; }

    /// <inheritdoc cref="BootId"/>
    public long? ProcessStart { get; init; }

    /// <summary>When the record was first written, by the writer's clock.</summary>
    public DateTimeOffset Started { get; init; }

    /// <summary>When the writer last rewrote the record, by its clock; the record's age is read from the store's
    /// modification times, and from this only where a store reports none.</summary>
    public DateTimeOffset Heartbeat { get; init; }
}

/// <summary>
/// A <c>gc/ID</c> object: packs to be deleted by a later sweep once it is safe. Pushes treat every pack listed in
/// <see cref="Packs"/> as absent; those also in <see cref="Repack"/> still hold live blobs, which the sweep copies into
/// new packs before it deletes them.
/// </summary>
public sealed record CondemnedPacks
{
    /// <summary>The last segment of the object's key: the time it was written (<c>20261127T051000-…</c>), then a
    /// unique suffix.</summary>
    public required string Id { get; init; }

    /// <summary>When the mark was written, by the collector's clock.</summary>
    public DateTimeOffset Created { get; init; }

    /// <summary>The ids (64 hex digits) of the marked packs; the sweep deletes every one of them.</summary>
    public required List<string> Packs { get; init; }

    /// <summary>The packs of <see cref="Packs"/> marked to be rewritten rather than found unreferenced.</summary>
    public List<string>? Repack { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(InFlightRecord))]
[JsonSerializable(typeof(CondemnedPacks))]
internal sealed partial class MaintenanceJson : JsonSerializerContext;
