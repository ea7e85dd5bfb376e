using Baton.Repositories;

namespace Baton.Groups;

/// <summary>
/// Where this <c>baton run</c> stands in a multi-node job: one supervisor per node, <see cref="Nodes"/> of them, all
/// naming the same <see cref="GroupId"/> (docs/DESIGN.md, "Multi-node runs"). One node (the default) is a plain
/// single-node run.
/// </summary>
public sealed record GroupOptions
{
    /// <summary>How many nodes the job has (1: a single-node run).</summary>
    public int Nodes { get; init; } = 1;

    /// <summary>This node's rank, 0 to <see cref="Nodes"/> − 1.</summary>
    public int Rank { get; init; }

    /// <summary>The job attempt's id, the same on every node of the attempt and new for each attempt.</summary>
    public string? GroupId { get; init; }

    /// <summary>Every node sees every checkpoint file (a shared file system): each pushes a disjoint share.</summary>
    public bool SharedDirectory { get; init; }

    /// <summary>How long a node waits for all nodes at the start barrier before none starts.</summary>
    public TimeSpan BarrierTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How often the store is asked whether the other nodes are there.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Whether this is a multi-node run.</summary>
    public bool IsGroup => Nodes > 1;

    /// <summary>The manifest layout name: <c>shared</c> or <c>node</c>.</summary>
    public string Layout => SharedDirectory ? SnapshotGroup.SharedLayout : SnapshotGroup.NodeLayout;

    /// <summary>The single-node default.</summary>
    public static GroupOptions Single { get; } = new();

    /// <summary>Refuses inconsistent settings with a one-line usage error.</summary>
    /// <exception cref="UsageException">A bad node count, rank or group id.</exception>
    public void Validate()
    {
        if (Nodes < 1 || Nodes > 4096)
        {
            throw new UsageException($"--nodes must be between 1 and 4096, not {Nodes}");
        }

        if (Rank < 0 || Rank >= Nodes)
        {
            throw new UsageException($"--node-rank must be between 0 and {Nodes - 1} for {Nodes} node(s), not {Rank}");
        }

        if (!IsGroup)
        {
            return;
        }

        if (string.IsNullOrEmpty(GroupId))
        {
            throw new UsageException($"a {Nodes}-node run needs a group id shared by its nodes: pass --group-id ID (or set BATON_GROUP_ID), new for each job attempt");
        }

        if (GroupId.Length > 128 || GroupId.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')))
        {
            throw new UsageException($"group id '{GroupId}' must be 1-128 characters from A-Z, a-z, 0-9, '.', '_' and '-'");
        }
    }
}
