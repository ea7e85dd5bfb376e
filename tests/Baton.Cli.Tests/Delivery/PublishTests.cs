using System.Diagnostics;
using Baton.Testing;

namespace Baton.Tests.Delivery;

/// <summary>
/// The artefacts users install: the self-contained single file and the .NET tool package. Publishing takes minutes,
/// so these run in the second stage of <c>.ci/run</c> (<c>./test --filter Category=Published</c>), not in the default
/// suite.
/// </summary>
[Trait("Category", "Published")]
public sealed class PublishTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 1_500_000)]
    public async Task The_single_file_binary_runs_a_round_trip_on_a_machine_without_dotnet()
    {
        var dist = _temp.Combine("dist");
        await RunAsync(Path.Combine(RepositoryRoot.Path, "scripts", "publish"), ["--no-tool", "--out", dist]);
        var baton = Path.Combine(dist, "linux-x64", "baton");
        Assert.True(File.Exists(baton), "scripts/publish made no dist/linux-x64/baton");
        var source = _temp.Combine("ckpt");
        TestData.WriteRandomFile(Path.Combine(source, "weights.bin"), 3_000_000, 1);
        var store = _temp.Combine("store");

        // An empty PATH and no DOTNET_ROOT: no dotnet anywhere the binary could find it, as on a fresh Colab machine.
        var emptyBin = Directory.CreateDirectory(_temp.Combine("empty-bin")).FullName;
        var bare = new Dictionary<string, string?> { ["PATH"] = emptyBin, ["DOTNET_ROOT"] = null, ["HOME"] = _temp.Path };
        var push = await RunAsync(baton, ["push", source, "--store", store, "--run", "r", "--quiet"], bare);
        Assert.Matches("^[0-9a-f]{16}$", push.Trim());
        await RunAsync(baton, ["pull", _temp.Combine("restored"), "--store", store, "--run", "r", "--quiet"], bare);
        TestData.AssertSameTree(source, _temp.Combine("restored"));
    }

    [Fact(Timeout = 1_500_000)]
    public async Task The_tool_package_installs_with_dotnet_tool_install_and_runs()
    {
        var dist = _temp.Combine("dist");
        await RunAsync(Path.Combine(RepositoryRoot.Path, "scripts", "publish"), ["--no-binary", "--out", dist]);
        var tools = _temp.Combine("tools");
        await RunAsync("dotnet", ["tool", "install", "baton", "--tool-path", tools, "--add-source", Path.Combine(dist, "nupkg"), "--ignore-failed-sources"]);

        var version = await RunAsync(Path.Combine(tools, "baton"), ["--version"]);

        Assert.Matches(@"^\d+\.\d+\.\d+\s*$", version);
    }

    private static async Task<string> RunAsync(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', info.ArgumentList)} exited {process.ExitCode}\n{await stdout}\n{await stderr}");
        return await stdout;
    }

    public void Dispose() => _temp.Dispose();
}
