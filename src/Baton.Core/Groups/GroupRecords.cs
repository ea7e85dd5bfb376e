using System.Globalization;
using System.Text.Json.Serialization;
using Baton.Repositories;

namespace Baton.Groups;

/// <summary>
/// A <c>runs/RUN/parts/EPOCH/STEP/NODE</c> object: one node's share of a step, written once the node's packs and index
/// are durable. The step is committed (a normal manifest) only when all the attempt's nodes have written theirs.
/// </summary>
public sealed record GroupPart
{
    /// <summary>Format version of the part.</summary>
    public int Version { get; init; } = 1;

    /// <summary>The run.</summary>
    public required string Run { get; init; }

    /// <summary>The attempt's writer epoch.</summary>
    public long Epoch { get; init; }

    /// <summary>The attempt's group id.</summary>
    public required string Group { get; init; }

    /// <summary>The node that wrote it.</summary>
    public int Node { get; init; }

    /// <summary>How many nodes the attempt has.</summary>
    public int Nodes { get; init; }

    /// <summary>The step.</summary>
    public long Step { get; init; }

    /// <summary><c>node</c> or <c>shared</c>.</summary>
    public string Layout { get; init; } = SnapshotGroup.NodeLayout;

    /// <summary>When it was written.</summary>
    public DateTimeOffset Created { get; init; }

    /// <summary>The node's host.</summary>
    public string Host { get; init; } = "";

    /// <summary>The node's labels (format, checkpoint name, leg).</summary>
    public Dictionary<string, string>? Labels { get; init; }

    /// <summary>The node's entries, with paths as in its own directory.</summary>
    public required List<SnapshotEntry> Entries { get; init; }

    /// <summary>What the node's push did.</summary>
    public SnapshotStats Stats { get; init; } = new();
}

/// <summary>A <c>runs/RUN/ready/EPOCH/NODE</c> object: the node restored the agreed step and waits to launch.</summary>
public sealed record GroupReady
{
    /// <summary>The node.</summary>
    public int Node { get; init; }

    /// <summary>The attempt's group id.</summary>
    public string Group { get; init; } = "";

    /// <summary>The step the node will start from (absent: from scratch).</summary>
    public long? Step { get; init; }

    /// <summary>The node's host.</summary>
    public string Host { get; init; } = "";

    /// <summary>When the node became ready.</summary>
    public DateTimeOffset Time { get; init; }

    /// <summary>
    /// Only in <c>ready/EPOCH/decision</c>, written once with create-if-absent: <c>start</c> (every node was ready) or
    /// <c>abort</c> (a node's barrier timed out first). The first word stands for every node of the attempt.
    /// </summary>
    public string? Decision { get; init; }

    /// <summary>Why the decision is <c>abort</c>.</summary>
    public string? Reason { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GroupPart))]
[JsonSerializable(typeof(GroupReady))]
internal sealed partial class GroupJson : JsonSerializerContext;

/// <summary>Object keys of a run's groups.</summary>
public static class GroupKeys
{
    /// <summary>Folder of a run's parts.</summary>
    public static string PartsPrefix(Repository repository, string run) => RepositoryLayout.PartsIn(repository.RunPrefix(run));

    /// <summary>Folder of the parts of one step of one attempt.</summary>
    public static string StepPrefix(Repository repository, string run, long epoch, long step) =>
        RepositoryLayout.PartStepIn(repository.RunPrefix(run), epoch, step);

    /// <summary>The part of node <paramref name="node"/>.</summary>
    public static string PartKey(Repository repository, string run, long epoch, long step, int node) =>
        RepositoryLayout.PartKeyIn(repository.RunPrefix(run), epoch, step, node);

    /// <summary>Folder of an attempt's start-barrier objects.</summary>
    public static string ReadyPrefix(Repository repository, string run, long epoch) =>
        RepositoryLayout.ReadyAttemptIn(repository.RunPrefix(run), epoch);

    /// <summary>Parses <c>EPOCH/STEP/NODE</c> after <see cref="PartsPrefix"/>.</summary>
    public static bool TryParsePart(string rest, out long epoch, out long step, out int node)
    {
        epoch = step = node = 0;
        var parts = rest.Split('/');
        return parts.Length == 3
            && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out epoch)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out step)
            && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out node);
    }
}
