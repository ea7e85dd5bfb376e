using Baton.Groups;

namespace Baton.Tests.Groups;

public sealed class GroupEnvironmentTests
{
    [Fact]
    public void Slurm_gives_the_node_count_the_rank_and_a_group_id_per_requeue()
    {
        var group = Resolve(new() { ["SLURM_NNODES"] = "4", ["SLURM_NODEID"] = "2", ["SLURM_JOB_ID"] = "8812", ["SLURM_RESTART_COUNT"] = "1" });

        Assert.Equal(new GroupSetting<int>(4, "SLURM_NNODES"), group.Nodes);
        Assert.Equal(new GroupSetting<int>(2, "SLURM_NODEID"), group.Rank);
        Assert.Equal(new GroupSetting<string?>("8812.1", "SLURM_JOB_ID.SLURM_RESTART_COUNT"), group.GroupId);
        Assert.Equal("8812.0", Resolve(new() { ["SLURM_JOB_ID"] = "8812" }).GroupId.Value);
    }

    [Fact]
    public void Torchrun_and_kubernetes_variables_give_the_rank_and_batons_own_win_over_them()
    {
        Assert.Equal(new GroupSetting<int>(3, "NODE_RANK"), Resolve(new() { ["NNODES"] = "4", ["NODE_RANK"] = "3" }).Rank);
        Assert.Equal(new GroupSetting<int>(1, "GROUP_RANK"), Resolve(new() { ["GROUP_RANK"] = "1" }).Rank);
        Assert.Equal(new GroupSetting<int>(5, "JOB_COMPLETION_INDEX"), Resolve(new() { ["JOB_COMPLETION_INDEX"] = "5" }).Rank);

        var own = Resolve(new() { ["BATON_NODES"] = "8", ["BATON_NODE_RANK"] = "6", ["BATON_GROUP_ID"] = "js-1", ["SLURM_NNODES"] = "4", ["SLURM_NODEID"] = "1", ["SLURM_JOB_ID"] = "9" });
        Assert.Equal((8, 6, "js-1"), (own.Nodes.Value, own.Rank.Value, own.GroupId.Value));

        var flags = GroupEnvironment.Resolve(2, 1, "flagged", name => name == "BATON_NODES" ? "8" : null);
        Assert.Equal(("--nodes", "--node-rank", "--group-id"), (flags.Nodes.Source, flags.Rank.Source, flags.GroupId.Source));
    }

    [Fact]
    public void Nothing_set_is_one_node_and_a_variable_that_is_not_a_number_is_named()
    {
        var none = Resolve([]);
        Assert.Equal((1, 0, (string?)null), (none.Nodes.Value, none.Rank.Value, none.GroupId.Value));
        Assert.Equal("default", none.Nodes.Source);

        var error = Assert.Throws<UsageException>(() => Resolve(new() { ["SLURM_NNODES"] = "four" }));
        Assert.Contains("SLURM_NNODES", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void More_than_one_node_without_a_group_id_is_refused_with_the_flag_to_pass()
    {
        var error = Assert.Throws<UsageException>(() => new GroupOptions { Nodes = 4, Rank = 1 }.Validate());
        Assert.Contains("--group-id", error.Message, StringComparison.Ordinal);
        Assert.Throws<UsageException>(() => new GroupOptions { Nodes = 4, Rank = 4, GroupId = "g" }.Validate());
        new GroupOptions().Validate();
    }

    private static ResolvedGroup Resolve(Dictionary<string, string> variables) =>
        GroupEnvironment.Resolve(null, null, null, name => variables.GetValueOrDefault(name));
}
