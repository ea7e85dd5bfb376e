using System.Globalization;
using Baton.Supervision;
using Baton.Testing;

namespace Baton.Tests.Supervision;

public sealed class ChildProcessTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 20_000)]
    public async Task The_child_leads_its_own_process_group()
    {
        var output = _temp.Combine("pgrp");
        var child = Shell($"cut -d' ' -f5 /proc/$$/stat > '{output}'");

        Assert.Equal(0, (await child.Exited).Code);
        Assert.Equal(child.Id, int.Parse(File.ReadAllText(output).Trim(), CultureInfo.InvariantCulture));
    }

    [Fact(Timeout = 20_000)]
    public async Task Exit_codes_and_killing_signals_are_told_apart()
    {
        var exited = await Shell("exit 7").Exited;
        var killed = await Shell("kill -9 $$").Exited;

        Assert.Equal((7, (int?)null), (exited.Code!.Value, exited.Signal));
        Assert.Equal(((int?)null, 9), (killed.Code, killed.Signal!.Value));
        Assert.Equal("killed by SIGKILL", killed.Describe());
    }

    [Fact(Timeout = 20_000)]
    public async Task Every_signal_starts_at_its_default_in_the_child()
    {
        // .NET ignores SIGPIPE in its own process; a trainer must not inherit that.
        var output = _temp.Combine("status");
        await Shell($"grep SigIgn /proc/$$/status > '{output}'").Exited;

        // Bits 0-30 are signals 1-31; glibc keeps its own real-time signals (32, 33) to itself.
        var ignored = ulong.Parse(File.ReadAllText(output).Split('\t')[1].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        Assert.Equal(0UL, ignored & 0x7FFFFFFF);
    }

    [Fact(Timeout = 20_000)]
    public async Task A_signal_to_the_group_reaches_what_the_trainer_started()
    {
        var pids = _temp.Combine("pids");
        var child = Shell($"sleep 60 & echo $! > '{pids}'; sleep 60 & echo $! >> '{pids}'; wait");
        await WaitForAsync(() => File.Exists(pids) && File.ReadAllLines(pids).Length == 2);

        child.SignalGroup(SignalNames.Term);
        var exit = await child.Exited;

        Assert.Equal(SignalNames.Term, exit.Signal);
        foreach (var pid in File.ReadAllLines(pids).Select(p => int.Parse(p, CultureInfo.InvariantCulture)))
        {
            await WaitForAsync(() => !IsAlive(pid));
        }
    }

    [Fact(Timeout = 20_000)]
    public async Task The_environment_carries_the_overrides()
    {
        var output = _temp.Combine("env");
        var environment = ChildProcess.EnvironmentWith(new Dictionary<string, string> { ["BATON_RUN"] = "r1" });
        var child = ChildProcess.Start("/bin/sh", ["sh", "-c", $"echo \"$BATON_RUN\" > '{output}'"], environment);
        await child.Exited;

        Assert.Equal("r1", File.ReadAllText(output).Trim());
    }

    public void Dispose() => _temp.Dispose();

    private static ChildProcess Shell(string script) =>
        ChildProcess.Start("/bin/sh", ["sh", "-c", script], ChildProcess.EnvironmentWith(new Dictionary<string, string>()));

    // Alive and not a zombie waiting for a parent that may never reap it.
    private static bool IsAlive(int pid)
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

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition());
    }
}
