using System.Text.Json;
using Baton.Testing;

namespace Baton.Tests;

/// <summary>Runs the real command line and reads what it prints.</summary>
internal static class Cli
{
    public static Task<CliResult> RunAsync(params string[] args) => BatonCli.RunAsync(args);

    public static Task<CliResult> RunWithEnvironmentAsync(IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        BatonCli.RunAsync(args, environment: environment);

    /// <summary>Runs a command that must succeed and returns its output.</summary>
    public static async Task<CliResult> SucceedAsync(params string[] args)
    {
        var result = await BatonCli.RunAsync(args);
        Assert.True(result.ExitCode == 0, $"baton {string.Join(' ', args)}: {result}");
        return result;
    }

    /// <summary>Pushes with --json and returns the result event (the snapshot's fields).</summary>
    public static async Task<JsonElement> PushAsync(string directory, string store, string run, params string[] extra)
    {
        var result = await SucceedAsync(["push", directory, "--store", store, "--run", run, "--json", .. extra]);
        return JsonLines.Result(result.StdOut);
    }

    /// <summary>The snapshots <c>ls --json</c> lists.</summary>
    public static async Task<List<JsonElement>> ListAsync(string store, params string[] extra)
    {
        var result = await SucceedAsync(["ls", "--store", store, "--json", .. extra]);
        return [.. JsonDocument.Parse(result.StdOut).RootElement.Clone().EnumerateArray()];
    }

    /// <summary>Asserts the documented shape of a failure: the exit code and exactly one line on stderr (beside progress lines) naming things.</summary>
    public static void AssertOneLineError(CliResult result, int exitCode, params string[] mentions)
    {
        Assert.True(result.ExitCode == exitCode, $"expected exit {exitCode}: {result}");
        var lines = result.ErrorLines;
        Assert.True(lines.Count == 1, $"expected one line on stderr (beside progress): {result}");
        Assert.StartsWith("baton: ", lines[0], StringComparison.Ordinal);
        foreach (var mention in mentions)
        {
            Assert.True(lines[0].Contains(mention, StringComparison.Ordinal), $"'{mention}' is not named in: {lines[0]}");
        }
    }
}
