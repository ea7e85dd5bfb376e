using System.Text.Json;
using Baton.Cli;
using Baton.Testing;

namespace Baton.Tests;

/// <summary>
/// The command line hosted in the test process (<see cref="CliContext.RunAsync"/>) behaves as the real program: the
/// same exit codes, output and one-line errors, and runs side by side see only their own output and settings.
/// </summary>
public sealed class InProcessCliTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public static TheoryData<string[]> Commands => new()
    {
        { ["--version"] },
        { ["ls", "--no-such-flag"] },
        { ["pusj"] },
        { ["ls", "--store", "ftp://example/x"] },
        { ["ls", "--store", "/nonexistent/baton-store"] },
        { ["push", "/nonexistent/ckpt", "--store", "/nonexistent/baton-store", "--run", "r"] },
        { ["run", "--help"] },
        { ["ls", "--help"] },
        { ["--help"] },
        { [] },
    };

    [Theory(Timeout = 120_000)]
    [MemberData(nameof(Commands))]
    public async Task A_hosted_run_gives_the_exit_code_and_output_of_a_process(string[] args)
    {
        var process = await BatonCli.RunProcessAsync(args);
        var hosted = await HostedAsync(args);

        Assert.Equal(process.ExitCode, hosted.ExitCode);
        Assert.Equal(process.StdOut, hosted.StdOut);
        Assert.Equal(process.StdErr, hosted.StdErr);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_hosted_push_and_ls_match_the_program_on_the_same_store()
    {
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "weights.bin"), 2_000_000, 1);
        var store = _temp.Combine("store");
        var pushed = await HostedAsync(["push", source, "--store", store, "--run", "r", "--step", "3", "--json"]);
        Assert.True(pushed.ExitCode == 0, pushed.ToString());

        var process = await BatonCli.RunProcessAsync(["ls", "--store", store, "--run", "r", "--json"]);
        var hosted = await HostedAsync(["ls", "--store", store, "--run", "r", "--json"]);

        Assert.Equal((0, process.StdOut, process.StdErr), (hosted.ExitCode, hosted.StdOut, hosted.StdErr));
        var snapshot = Assert.Single(JsonDocument.Parse(hosted.StdOut).RootElement.EnumerateArray());
        Assert.Equal(JsonLines.Result(pushed.StdOut).GetProperty("id").GetString(), snapshot.GetProperty("id").GetString());
    }

    [Fact(Timeout = 120_000)]
    public async Task Runs_side_by_side_see_only_their_own_environment_and_output()
    {
        var stores = Enumerable.Range(0, 8).Select(i => _temp.Combine($"store-{i}")).ToList();
        foreach (var store in stores)
        {
            Assert.Equal(0, (await HostedAsync(["init", "--store", store])).ExitCode);
        }

        // Each run names its store only in BATON_STORE and its run only in BATON_RUN: a leak would list another store.
        var runs = stores.Select((store, i) => HostedAsync(["ls", "--json"],
            new Dictionary<string, string?> { ["BATON_STORE"] = store, ["BATON_RUN"] = $"run-{i}" })).ToList();
        var configs = stores.Select((store, i) => HostedAsync(["config"],
            new Dictionary<string, string?> { ["BATON_STORE"] = store, ["BATON_RUN"] = $"run-{i}" })).ToList();
        await Task.WhenAll(runs.Concat(configs));

        for (var i = 0; i < stores.Count; i++)
        {
            var listed = await runs[i];
            Assert.True(listed.ExitCode == 0, listed.ToString());
            Assert.Equal("[]", listed.StdOut.Trim());
            var config = (await configs[i]).StdOut;
            Assert.Contains(stores[i], config, StringComparison.Ordinal);
            Assert.Contains($"run-{i}", config, StringComparison.Ordinal);
            Assert.All(Enumerable.Range(0, stores.Count).Where(j => j != i), j => Assert.DoesNotContain($"run-{j}", config, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Only_the_real_program_owns_the_process_signals()
    {
        Assert.True(CliContext.Process.IsProcess);
        Assert.True(CliContext.Current.IsProcess, "outside a hosted run, the context is the process's");
    }

    [Fact]
    public void Commands_about_processes_or_another_directory_start_a_real_process()
    {
        Assert.True(BatonCli.RunsInProcess(["ls", "--store", "s"], null, null));
        Assert.True(BatonCli.RunsInProcess(["push", "d"], null, new Dictionary<string, string?> { ["BATON_PASSWORD"] = "p" }));
        Assert.False(BatonCli.RunsInProcess(["run", "--", "sh"], null, null));
        Assert.False(BatonCli.RunsInProcess(["trainer", "--dir", "d"], null, null));
        Assert.False(BatonCli.RunsInProcess(["ls"], _temp.Path, null));
        Assert.False(BatonCli.RunsInProcess(["ls"], null, new Dictionary<string, string?> { ["AWS_ACCESS_KEY_ID"] = "k" }));
    }

    public void Dispose() => _temp.Dispose();

    private static async Task<CliResult> HostedAsync(string[] args, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var variables = new Dictionary<string, string?> { ["BATON_STORE"] = null, ["BATON_RUN"] = null, ["BATON_PASSWORD"] = null };
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            variables[name] = value;
        }

        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await Task.Run(() => CliContext.RunAsync(args, TextWriter.Synchronized(output), TextWriter.Synchronized(error), variables));
        return new CliResult(code, output.ToString(), error.ToString());
    }
}
