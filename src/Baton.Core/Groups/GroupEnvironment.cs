using System.Globalization;

namespace Baton.Groups;

/// <summary>A setting and where its value came from (a flag, an environment variable, or <c>default</c>).</summary>
/// <param name="Value">The value.</param>
/// <param name="Source">The flag or variable that gave it, or <c>default</c>.</param>
public sealed record GroupSetting<T>(T Value, string Source);

/// <summary>The node count, rank and group id of a multi-node run, each with its source.</summary>
/// <param name="Nodes">How many nodes the job has (1: a single-node run).</param>
/// <param name="Rank">This node's rank, 0 to <paramref name="Nodes"/> − 1.</param>
/// <param name="GroupId">The job attempt's id, the same on every node of the attempt; <c>null</c> when nothing gave
/// one.</param>
public sealed record ResolvedGroup(GroupSetting<int> Nodes, GroupSetting<int> Rank, GroupSetting<string?> GroupId)
{
    /// <summary>As options (the rest at their defaults).</summary>
    public GroupOptions ToOptions() => new() { Nodes = Nodes.Value, Rank = Rank.Value, GroupId = GroupId.Value };
}

/// <summary>
/// Reads a node's place in a multi-node job from flags, else from the environment the launchers set: Baton's own
/// <c>BATON_NODES</c>, <c>BATON_NODE_RANK</c>, <c>BATON_GROUP_ID</c> first; then SLURM (<c>SLURM_NNODES</c>,
/// <c>SLURM_NODEID</c>, group id <c>SLURM_JOB_ID.SLURM_RESTART_COUNT</c>); then torchrun-style (<c>NNODES</c>,
/// <c>NODE_RANK</c> or <c>GROUP_RANK</c>); then a Kubernetes indexed Job or JobSet (<c>JOB_COMPLETION_INDEX</c> as the
/// rank; its node count and group id through <c>BATON_NODES</c> and <c>BATON_GROUP_ID</c>).
/// </summary>
public static class GroupEnvironment
{
    private static readonly string[] NodeVariables = ["BATON_NODES", "SLURM_NNODES", "NNODES"];
    private static readonly string[] RankVariables = ["BATON_NODE_RANK", "SLURM_NODEID", "NODE_RANK", "GROUP_RANK", "JOB_COMPLETION_INDEX"];

    /// <summary>Resolves the settings; flags win over variables.</summary>
    /// <param name="nodes">--nodes, if given.</param>
    /// <param name="rank">--node-rank, if given.</param>
    /// <param name="groupId">--group-id, if given.</param>
    /// <param name="variable">Reads an environment variable (empty or <c>null</c>: unset).</param>
    /// <exception cref="UsageException">A variable that should hold a number does not.</exception>
    public static ResolvedGroup Resolve(int? nodes, int? rank, string? groupId, Func<string, string?> variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        return new ResolvedGroup(
            nodes is { } n ? new GroupSetting<int>(n, "--nodes") : Number(NodeVariables, variable, 1),
            rank is { } r ? new GroupSetting<int>(r, "--node-rank") : Number(RankVariables, variable, 0),
            !string.IsNullOrEmpty(groupId) ? new GroupSetting<string?>(groupId, "--group-id") : GroupIdFrom(variable));
    }

    /// <summary>Resolves from the process's environment.</summary>
    public static ResolvedGroup Resolve(int? nodes, int? rank, string? groupId) => Resolve(nodes, rank, groupId, Environment.GetEnvironmentVariable);

    private static GroupSetting<string?> GroupIdFrom(Func<string, string?> variable)
    {
        if (variable("BATON_GROUP_ID") is { Length: > 0 } own)
        {
            return new GroupSetting<string?>(own, "BATON_GROUP_ID");
        }

        if (variable("SLURM_JOB_ID") is { Length: > 0 } job)
        {
            // A requeued job keeps its id; its restart count tells the attempts apart.
            var restarts = variable("SLURM_RESTART_COUNT") is { Length: > 0 } count ? count : "0";
            return new GroupSetting<string?>($"{job}.{restarts}", "SLURM_JOB_ID.SLURM_RESTART_COUNT");
        }

        return new GroupSetting<string?>(null, "unset");
    }

    private static GroupSetting<int> Number(string[] names, Func<string, string?> variable, int fallback)
    {
        foreach (var name in names)
        {
            if (variable(name) is not { Length: > 0 } text)
            {
                continue;
            }

            return int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                ? new GroupSetting<int>(value, name)
                : throw new UsageException($"{name}='{text}' is not a number: set it to a whole number, or pass the value as a flag");
        }

        return new GroupSetting<int>(fallback, "default");
    }
}
