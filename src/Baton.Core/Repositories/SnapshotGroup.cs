namespace Baton.Repositories;

/// <summary>The <c>group</c> field of a manifest committed by a multi-node group (docs/FORMAT.md).</summary>
public sealed record SnapshotGroup
{
    /// <summary>Entries of node R lie under <c>node-R/</c>.</summary>
    public const string NodeLayout = "node";

    /// <summary>Entries are the one tree every node sees.</summary>
    public const string SharedLayout = "shared";

    /// <summary>The job attempt that committed it.</summary>
    public required string Id { get; init; }

    /// <summary>How many nodes' parts make it up.</summary>
    public int Nodes { get; init; }

    /// <summary><see cref="NodeLayout"/> or <see cref="SharedLayout"/>.</summary>
    public string Layout { get; init; } = NodeLayout;

    /// <summary>The entry prefix of node <paramref name="rank"/> in the node layout.</summary>
    public static string NodePrefix(int rank) => $"node-{rank.ToString(System.Globalization.CultureInfo.InvariantCulture)}/";
}
