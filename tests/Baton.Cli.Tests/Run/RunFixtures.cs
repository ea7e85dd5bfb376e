using System.Diagnostics;
using System.Text.RegularExpressions;
using Baton.Journal;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Run;

/// <summary>The trainers the run tests supervise, and what the tests read back from the store.</summary>
internal static partial class RunFixtures
{
    /// <summary>The Python trainer that writes every layout (tests/Baton.Cli.Tests/Trainers/layouts.py).</summary>
    public static string Script => Path.Combine(AppContext.BaseDirectory, "Trainers", "layouts.py");

    /// <summary>The command of the Python trainer.</summary>
    public static string[] Python(string layout, string directory, params string[] extra) =>
        ["python3", Script, "train", "--layout", layout, "--dir", directory, .. extra];

    /// <summary>The command of the built-in demo trainer.</summary>
    public static string[] DemoTrainer(string directory, params string[] extra) =>
        ["dotnet", BatonCli.DllPath, "trainer", "--dir", directory, .. extra];

    /// <summary>Arguments of <c>baton run</c> with quick settings for tests, then <c>--</c> and the trainer.</summary>
    public static string[] Run(string store, string directory, IEnumerable<string> options, IEnumerable<string> trainer) =>
        ["run", "--store", store, "--run", "r", "--dir", directory, "--quiet-period", "150ms", "--scan-interval", "300ms", "--backoff", "100ms",
         .. options, "--", .. trainer];

    /// <summary>Runs the Python trainer script with other arguments (verify, final) to completion.</summary>
    public static Task<(int ExitCode, string Output)> PythonAsync(params string[] args) => PythonScriptAsync(Script, args);

    /// <summary>Runs a Python script of the test trainers with <paramref name="args"/> to completion (60 s at most).</summary>
    public static async Task<(int ExitCode, string Output)> PythonScriptAsync(string script, params string[] args)
    {
        var info = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(script);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }

    public static async Task<IReadOnlyList<Snapshot>> SnapshotsAsync(string store, string run = "r")
    {
        await using var objects = new FolderStore(store);
        return await (await Repository.OpenAsync(objects)).ListSnapshotsAsync(run);
    }

    public static async Task<IReadOnlyList<Leg>> LegsAsync(string store, string run = "r")
    {
        await using var objects = new FolderStore(store);
        return await new RunJournal(await Repository.OpenAsync(objects), run).ListLegsAsync();
    }

    /// <summary>Restores every snapshot of the run into its own folder; returns each folder with the snapshot's step.</summary>
    public static async Task<List<(string Directory, long Step)>> RestoreEachAsync(string store, string target, string run = "r")
    {
        await using var objects = new FolderStore(store);
        var repository = await Repository.OpenAsync(objects);
        var result = new List<(string, long)>();
        foreach (var snapshot in await repository.ListSnapshotsAsync(run))
        {
            var directory = Path.Combine(target, snapshot.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await repository.RestoreAsync(snapshot, directory);
            result.Add((directory, snapshot.Manifest.Step ?? -1));
        }

        return result;
    }

    /// <summary>The uninterrupted demo trainer's final weights hash.</summary>
    public static async Task<string> DemoReferenceAsync(string directory, int steps)
    {
        var result = await BatonCli.RunAsync(["trainer", "--dir", directory, "--steps", steps.ToString(System.Globalization.CultureInfo.InvariantCulture), "--every", "1000"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return WeightsHash(result.StdOut) ?? throw new InvalidOperationException("the reference run printed no weights hash");
    }

    public static string? WeightsHash(string output) => WeightsLine().Match(output) is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>Whether a process is still running (a zombie waiting to be reaped counts as gone).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"weights sha256 ([0-9a-f]{64})")]
    private static partial Regex WeightsLine();
}
