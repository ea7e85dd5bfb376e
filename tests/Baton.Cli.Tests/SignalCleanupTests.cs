using Baton.Testing;

namespace Baton.Tests;

/// <summary>
/// SIGTERM (kill, docker stop, a scheduler) and SIGHUP (a closed terminal or notebook) stop push, pull and prune
/// exactly as Ctrl-C does: cancelled, cleaned up, released, and the exit code 128+N.
/// </summary>
public sealed class SignalCleanupTests : IDisposable
{
    private const int Files = 5;
    private const int FileSize = 20 << 20;
    private readonly TempDirectory _temp = new();

    [Theory(Timeout = 300_000)]
    [InlineData(Signals.SigTerm)]
    [InlineData(Signals.SigHup)]
    public async Task A_push_stopped_by_a_signal_releases_the_run_and_leaves_no_in_flight_marker(int signal)
    {
        var source = WriteSource();
        var store = _temp.Combine("store");
        await Cli.SucceedAsync("init", "--store", store);

        var (code, output) = await SignalAfterFirstProgressLineAsync(["push", source, "--store", store, "--run", "r"], signal);

        Assert.True(code == 128 + signal, $"exit {code}: {output}");
        Assert.Empty(Markers(store));
        Assert.Empty(await Cli.ListAsync(store));

        // Another machine may push at once: the lease was released, not left to expire.
        var second = await WrappedCli.RunAsync(WrappedCli.OnHost("another-machine"), ["push", source, "--store", store, "--run", "r", "--quiet"]);
        Assert.True(second.ExitCode == 0, second.ToString());
    }

    [Theory(Timeout = 300_000)]
    [InlineData(Signals.SigTerm)]
    [InlineData(Signals.SigHup)]
    public async Task A_pull_stopped_by_a_signal_leaves_no_staging_folder_and_the_target_as_it_was(int signal)
    {
        var source = WriteSource();
        var store = _temp.Combine("store");
        await Cli.SucceedAsync("push", source, "--store", store, "--run", "r", "--quiet");
        var target = _temp.Combine("dst");
        Directory.CreateDirectory(target);

        var (code, output) = await SignalAfterFirstProgressLineAsync(["pull", target, "--store", store, "--run", "r"], signal);

        Assert.True(code == 128 + signal, $"exit {code}: {output}");
        Assert.Empty(Directory.EnumerateFileSystemEntries(target));
        Assert.Equal(["dst", "src", "store"], Directory.EnumerateFileSystemEntries(_temp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact(Timeout = 300_000)]
    public async Task A_prune_stopped_by_sigterm_mid_collection_leaves_no_in_flight_marker_and_a_healthy_store()
    {
        var store = _temp.Combine("store");
        var source = _temp.Combine("src");
        for (var k = 0; k < 6; k++)
        {
            for (var i = 0; i < Files; i++)
            {
                TestData.WriteRandomFile(Path.Combine(source, $"shard-{i}.bin"), FileSize / 4, (k * 10) + i);
            }

            await Cli.SucceedAsync("push", source, "--store", store, "--run", "r", "--quiet");
        }

        // The signal must land while the collection runs: the prune is stopped (SIGSTOP) the moment its marker
        // appears, signalled, then let go. A prune that finished first is tried again with fewer snapshots kept.
        var stopped = false;
        for (var keep = 5; keep >= 1 && !stopped; keep--)
        {
            using var process = BatonCli.Start(["prune", "--store", store, "--run", "r", "--keep-last", keep.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            while (!process.HasExited && Markers(store).Count == 0)
            {
                await Task.Yield();
            }

            Signals.Send(process.Id, Signals.SigStop);
            stopped = !process.HasExited && Markers(store).Count > 0;
            Signals.Send(process.Id, Signals.SigTerm);
            Signals.Send(process.Id, Signals.SigCont);
            await process.WaitForExitAsync();
            var output = await stderr + await stdout;
            if (stopped)
            {
                Assert.True(process.ExitCode == 143, $"exit {process.ExitCode}: {output}");
            }
        }

        Assert.True(stopped, "every prune finished before it could be signalled");
        Assert.Empty(Markers(store));
        var check = await Cli.RunAsync("check", "--store", store, "--read-data", "--quiet");
        Assert.True(check.ExitCode == 0, check.ToString());
    }

    // Large enough (768 MB, seconds of work) that a signal sent after the first progress line lands mid-transfer even
    // when the test process is scheduled late on a busy machine.
    private string WriteSource()
    {
        var source = _temp.Combine("src");
        for (var i = 0; i < 8; i++)
        {
            TestData.WriteRandomFile(Path.Combine(source, $"shard-{i}.bin"), 96 << 20, i);
        }

        return source;
    }

    // The first progress line comes after the first chunk: the command is under way, most of it still to do.
    private static async Task<(int ExitCode, string Output)> SignalAfterFirstProgressLineAsync(string[] args, int signal)
    {
        using var process = BatonCli.Start(args);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var first = await process.StandardError.ReadLineAsync();
        Signals.Send(process.Id, signal);
        var rest = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, $"{first}\n{rest}{await stdout}");
    }

    private static List<string> Markers(string store)
    {
        var folder = Path.Combine(store, "inflight");
        return Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).ToList() : [];
    }

    public void Dispose() => _temp.Dispose();
}
