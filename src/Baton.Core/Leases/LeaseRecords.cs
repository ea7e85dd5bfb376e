using System.Text.Json.Serialization;

namespace Baton.Leases;

/// <summary>A <c>runs/RUN/epochs/EPOCH</c> object: the claim that made a writer the run's writer for that epoch.</summary>
public sealed record LeaseClaim
{
    /// <summary>The epoch this claim takes (from 1); also the last segment of its key.</summary>
    public long Epoch { get; init; }

    /// <summary>The claiming machine's host name, for messages and for telling a local holder that is gone.</summary>
    public string Host { get; init; } = "";

    /// <summary>The claiming process's id on <see cref="Host"/>.</summary>
    public int ProcessId { get; init; }

    /// <summary>The holder's boot id, pid namespace and process start time (<c>null</c> in claims of older versions):
    /// a holder is judged gone at once only when all three say its process is no longer there.</summary>
    public string? BootId { get; init; }

    /// <inheritdoc cref="BootId"/>
    public long? PidNamespace { get; init; }

    /// <inheritdoc cref="BootId"/>
    public long? ProcessStart { get; init; }

    /// <summary>Who claimed, as shown in conflict messages (e.g. <c>baton push</c>); empty when not said.</summary>
    public string Holder { get; init; } = "";

    /// <summary>When the claim was written, by the writer's clock; stands for the first heartbeat until one is
    /// written.</summary>
    public DateTimeOffset Acquired { get; init; }

    /// <summary>A multi-node job attempt's group id: nodes naming it join this epoch instead of claiming another.</summary>
    public string? Group { get; init; }

    /// <summary>How many nodes the attempt has (with <see cref="Group"/>).</summary>
    public int? Nodes { get; init; }

    /// <summary>The sequence of the snapshot every node of the attempt restores (absent: none, start from scratch).</summary>
    public long? StartSequence { get; init; }

    /// <summary>That snapshot's step.</summary>
    public long? StartStep { get; init; }
}

/// <summary>A <c>runs/RUN/heartbeats/EPOCH</c> object, rewritten by the holder while it lives.</summary>
public sealed record LeaseHeartbeat
{
    /// <summary>The epoch whose holder beats.</summary>
    public long Epoch { get; init; }

    /// <summary>When the beat was written, by the holder's clock; readers use it only where the store reports no
    /// modification time.</summary>
    public DateTimeOffset Time { get; init; }

    /// <summary><c>true</c> once the holder has let go: the next writer may claim at once, without a fence.</summary>
    public bool Released { get; init; }

    /// <summary>The newest sequence this writer committed, so that a newest manifest that vanishes is noticed.</summary>
    public long? Committed { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LeaseClaim))]
[JsonSerializable(typeof(LeaseHeartbeat))]
internal sealed partial class LeaseJson : JsonSerializerContext;
