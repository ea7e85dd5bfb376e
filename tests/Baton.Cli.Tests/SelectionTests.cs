using System.Globalization;
using System.Text.Json;
using Baton.Testing;

namespace Baton.Tests;

public sealed class SelectionTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 120_000)]
    public async Task Pull_restores_the_newest_the_given_step_or_the_given_snapshot()
    {
        var source = _temp.Combine("src");
        var store = _temp.Combine("store");
        var ids = new Dictionary<int, string>();
        foreach (var step in new[] { 10, 20, 30 })
        {
            await File.WriteAllTextAsync(Path.Combine(Directory.CreateDirectory(source).FullName, "step.txt"), $"{step}");
            TestData.WriteRandomFile(Path.Combine(source, "model.bin"), 100_000, step);
            ids[step] = (await Cli.PushAsync(source, store, "r", "--step", $"{step}")).GetProperty("id").GetString()!;
        }

        async Task<string> PulledStep(params string[] selection)
        {
            var target = _temp.Combine("dst-" + Guid.NewGuid().ToString("N"));
            await Cli.SucceedAsync(["pull", target, "--store", store, "--quiet", .. selection]);
            return await File.ReadAllTextAsync(Path.Combine(target, "step.txt"));
        }

        Assert.Equal("30", await PulledStep("--run", "r"));
        Assert.Equal("20", await PulledStep("--run", "r", "--step", "20"));
        Assert.Equal("10", await PulledStep("--snapshot", ids[10]));
        Assert.Equal("10", await PulledStep("--run", "r", "--snapshot", ids[10][..8]));
        Cli.AssertOneLineError(await Cli.RunAsync("pull", _temp.Combine("x"), "--store", store, "--run", "r", "--step", "25"), 2, "step 25");
        Cli.AssertOneLineError(await Cli.RunAsync("pull", _temp.Combine("x"), "--store", store, "--snapshot", "0000000000"), 2, "'0000000000'");
        Cli.AssertOneLineError(await Cli.RunAsync("pull", _temp.Combine("x"), "--store", store, "--snapshot", "not-hex"), 2, "'not-hex'");
        Cli.AssertOneLineError(await Cli.RunAsync("pull", _temp.Combine("x"), "--store", store, "--run", "r", "--step", "10", "--snapshot", ids[10]), 2, "--step", "--snapshot");
    }

    [Fact(Timeout = 120_000)]
    public async Task Ls_json_describes_every_snapshot_with_the_documented_fields()
    {
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 1234, 1);
        TestData.WriteRandomFile(Path.Combine(source, "sub", "b.bin"), 4321, 2);
        var store = _temp.Combine("store");
        var first = await Cli.PushAsync(source, store, "alpha", "--step", "7");
        await Cli.PushAsync(source, store, "beta");

        var all = await Cli.ListAsync(store);
        var alpha = await Cli.ListAsync(store, "--run", "alpha");

        Assert.Equal(2, all.Count);
        Assert.Equal(["alpha", "beta"], all.Select(s => s.GetProperty("run").GetString()).Order(StringComparer.Ordinal));
        var snapshot = Assert.Single(alpha);
        Assert.Matches("^[0-9a-f]{16}$", snapshot.GetProperty("id").GetString());
        Assert.Equal(first.GetProperty("id").GetString(), snapshot.GetProperty("id").GetString());
        Assert.Equal("alpha", snapshot.GetProperty("run").GetString());
        Assert.Equal(7, snapshot.GetProperty("step").GetInt64());
        Assert.Equal(2, snapshot.GetProperty("files").GetInt64());
        Assert.Equal(1234 + 4321, snapshot.GetProperty("bytes").GetInt64());
        Assert.Equal(1234 + 4321, snapshot.GetProperty("bytesRead").GetInt64());
        var created = DateTimeOffset.Parse(snapshot.GetProperty("created").GetString()!, CultureInfo.InvariantCulture);
        Assert.True(created.Year >= 2025, $"created {created:O}");
        Assert.Equal(JsonValueKind.Null, all.Single(s => s.GetProperty("run").GetString() == "beta").GetProperty("step").ValueKind);
        Assert.Empty(await Cli.ListAsync(store, "--run", "gamma"));
    }

    [Fact(Timeout = 120_000)]
    public async Task The_store_and_run_can_come_from_the_environment()
    {
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 5000, 3);
        var store = _temp.Combine("store");
        var environment = new Dictionary<string, string?> { ["BATON_STORE"] = store, ["BATON_RUN"] = "from-env" };

        var push = await Cli.RunWithEnvironmentAsync(environment, "push", source, "--quiet");
        var ls = await Cli.RunWithEnvironmentAsync(environment, "ls", "--json");
        var target = _temp.Combine("dst");
        var pull = await Cli.RunWithEnvironmentAsync(environment, "pull", target, "--quiet");
        var elsewhere = _temp.Combine("elsewhere");
        var overridden = await Cli.RunWithEnvironmentAsync(environment, "push", source, "--store", elsewhere, "--run", "flag", "--quiet");

        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.True(pull.ExitCode == 0, pull.ToString());
        Assert.True(overridden.ExitCode == 0, overridden.ToString());
        var listed = Assert.Single(JsonDocument.Parse(ls.StdOut).RootElement.EnumerateArray());
        Assert.Equal("from-env", listed.GetProperty("run").GetString());
        TestData.AssertSameTree(source, target);
        Assert.Equal("flag", Assert.Single(await Cli.ListAsync(elsewhere)).GetProperty("run").GetString());
        Assert.Single(await Cli.ListAsync(store));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_snapshot_id_finds_its_snapshot_whatever_run_the_environment_names()
    {
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "a.bin"), 5000, 4);
        var store = _temp.Combine("store");
        var id = (await Cli.PushAsync(source, store, "first")).GetProperty("id").GetString()!;
        var target = _temp.Combine("dst");

        var pull = await Cli.RunWithEnvironmentAsync(new Dictionary<string, string?> { ["BATON_RUN"] = "second" },
            "pull", target, "--store", store, "--snapshot", id, "--quiet");

        Assert.True(pull.ExitCode == 0, pull.ToString());
        TestData.AssertSameTree(source, target);
    }

    [Fact(Timeout = 60_000)]
    public async Task Init_creates_an_empty_repository_once()
    {
        var store = _temp.Combine("store");

        var first = await Cli.RunAsync("init", "--store", store);
        var second = await Cli.RunAsync("init", "--store", "file://" + store);

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("created repository", first.StdOut, StringComparison.Ordinal);
        Cli.AssertOneLineError(second, 2, "already holds a Baton repository");
        Assert.Empty(await Cli.ListAsync(store));
        Assert.Contains("no snapshots", (await Cli.SucceedAsync("ls", "--store", store)).StdOut, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
