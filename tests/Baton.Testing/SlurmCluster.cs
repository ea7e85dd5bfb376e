using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Baton.Testing;

/// <summary>
/// A real SLURM cluster on this host (Debian's slurm-wlm): munged with its own key and socket, slurmctld, and one
/// <c>slurmd -N nX</c> per node (SLURM's multiple-slurmd mode: every node is this host on its own port). Everything
/// lives in a temporary folder; no accounting, no cgroups. A cluster that cannot start is an error with the daemons'
/// logs, so the tests that need it fail (never skip).
/// </summary>
public sealed partial class SlurmCluster : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _temp = new("baton-slurm-");
    private readonly List<Process> _daemons = [];

    private SlurmCluster(int nodes)
    {
        Nodes = nodes;
    }

    /// <summary>How many nodes the cluster has (n1 … nN).</summary>
    public int Nodes { get; }

    /// <summary>The cluster's slurm.conf; every SLURM command needs it in <c>SLURM_CONF</c>.</summary>
    public string ConfigPath => _temp.Combine("slurm.conf");

    /// <summary>The environment that points SLURM commands at this cluster.</summary>
    public IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?> { ["SLURM_CONF"] = ConfigPath };

    /// <summary>A folder for the test's own files (job scripts, outputs), removed with the cluster.</summary>
    public string Combine(params string[] parts) => _temp.Combine(parts);

    /// <summary>Starts munged, slurmctld and <paramref name="nodes"/> slurmd, and waits until every node is idle.</summary>
    public static async Task<SlurmCluster> StartAsync(int nodes = 2, TimeSpan? timeout = null)
    {
        var cluster = new SlurmCluster(nodes);
        try
        {
            await cluster.StartDaemonsAsync(timeout ?? TimeSpan.FromSeconds(120));
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    /// <summary>Runs a SLURM client command (sbatch, scontrol, squeue, ...) against this cluster.</summary>
    public Task<ProcessResult> RunAsync(string command, params string[] arguments) => RunAsync(command, arguments, null);

    /// <summary>Runs a SLURM client command with more environment variables (sbatch passes them on to the job).</summary>
    public async Task<ProcessResult> RunAsync(string command, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo(command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _temp.Path,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        info.Environment["SLURM_CONF"] = ConfigPath;
        using var process = Start(info, command);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} {string.Join(' ', info.ArgumentList)} did not finish within {CommandTimeout.TotalSeconds:0} s");
        }

        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Submits <paramref name="script"/> with sbatch (the job gets this process's environment with
    /// <paramref name="environment"/> on top) and returns the job id.</summary>
    public async Task<int> SubmitAsync(string script, IReadOnlyDictionary<string, string> environment, params string[] options)
    {
        var submitted = await RunAsync("sbatch", ["--parsable", .. options, script], environment);
        if (submitted.ExitCode != 0)
        {
            throw new InvalidOperationException($"sbatch failed: {submitted}");
        }

        return int.Parse(submitted.StdOut.Trim().Split(';')[0], CultureInfo.InvariantCulture);
    }

    /// <summary>The job's fields as scontrol shows them (JobState, Restarts, ExitCode, ...); empty once SLURM forgot it.</summary>
    public async Task<IReadOnlyDictionary<string, string>> ShowJobAsync(int job)
    {
        var shown = await RunAsync("scontrol", "show", "job", "-o", job.ToString(CultureInfo.InvariantCulture));
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        if (shown.ExitCode != 0)
        {
            return fields;
        }

        foreach (Match field in JobField().Matches(shown.StdOut))
        {
            fields[field.Groups[1].Value] = field.Groups[2].Value;
        }

        return fields;
    }

    /// <summary>Polls until the job's state is one of <paramref name="states"/>, and returns it.</summary>
    public async Task<string> WaitForJobStateAsync(int job, TimeSpan timeout, params string[] states)
    {
        var clock = Stopwatch.StartNew();
        var last = "";
        while (clock.Elapsed < timeout)
        {
            var fields = await ShowJobAsync(job);
            last = fields.GetValueOrDefault("JobState", "(unknown)");
            if (states.Contains(last, StringComparer.Ordinal))
            {
                return last;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"job {job} did not reach {string.Join(" or ", states)} within {timeout.TotalSeconds:0} s (last state {last}){Logs()}");
    }

    /// <summary>What the daemons logged, for failure messages.</summary>
    public string Logs()
    {
        var text = new StringBuilder();
        foreach (var log in Directory.Exists(_temp.Combine("log")) ? Directory.GetFiles(_temp.Combine("log")) : [])
        {
            var content = File.ReadAllText(log);
            text.Append(CultureInfo.InvariantCulture, $"\n--- {Path.GetFileName(log)}\n{(content.Length > 4000 ? content[^4000..] : content)}");
        }

        return text.ToString();
    }

    /// <summary>Cancels every job, stops the daemons and removes the cluster's folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_daemons.Count > 1)
        {
            try
            {
                await RunAsync("scancel", "--full", "--user", System.Environment.UserName);
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed < TimeSpan.FromSeconds(60) && (await RunAsync("squeue", "-h", "-o", "%i")).StdOut.Trim().Length > 0)
                {
                    await Task.Delay(250);
                }
            }
            catch (TimeoutException)
            {
            }
        }

        // The node daemons first (their job steps end with them), then the controller, then munged.
        for (var i = _daemons.Count - 1; i >= 0; i--)
        {
            var daemon = _daemons[i];
            try
            {
                if (!daemon.HasExited)
                {
                    daemon.Kill(entireProcessTree: true);
                    using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    await daemon.WaitForExitAsync(wait.Token);
                }
            }
            catch (InvalidOperationException)
            {
            }
            catch (OperationCanceledException)
            {
            }

            daemon.Dispose();
        }

        _temp.Dispose();
    }

    private async Task StartDaemonsAsync(TimeSpan timeout)
    {
        foreach (var folder in new[] { "munge", "state", "spool", "log" })
        {
            Directory.CreateDirectory(_temp.Combine(folder));
        }

        // munged refuses a key anyone else can read and a socket folder others cannot enter.
        var key = _temp.Combine("munge.key");
        File.WriteAllBytes(key, System.Security.Cryptography.RandomNumberGenerator.GetBytes(1024));
        File.SetUnixFileMode(key, UnixFileMode.UserRead);
        var socket = _temp.Combine("munge", "munge.sock");
        var root = System.Environment.UserName == "root" ? new[] { "--force" } : [];
        Launch("/usr/sbin/munged", [.. root, "--foreground", $"--key-file={key}", $"--socket={socket}",
            $"--pid-file={_temp.Combine("munge", "munged.pid")}", $"--log-file={_temp.Combine("log", "munged.log")}",
            $"--seed-file={_temp.Combine("munge", "seed")}"]);
        await WaitUntilAsync(() => File.Exists(socket), timeout, "munged did not create its socket");

        File.WriteAllText(ConfigPath, Config(socket));
        Launch("/usr/sbin/slurmctld", ["-D", "-i", "-f", ConfigPath]);
        for (var node = 1; node <= Nodes; node++)
        {
            Launch("/usr/sbin/slurmd", ["-D", "-N", $"n{node}", "-f", ConfigPath]);
        }

        var clock = Stopwatch.StartNew();
        var shown = "";
        while (clock.Elapsed < timeout)
        {
            if (_daemons.FirstOrDefault(d => d.HasExited) is { } exited)
            {
                throw new InvalidOperationException($"{exited.StartInfo.FileName} exited with code {exited.ExitCode} while the cluster started{Logs()}");
            }

            var nodes = await RunAsync("sinfo", "-h", "-N", "-o", "%N %T");
            shown = nodes.StdOut + nodes.StdErr;
            if (nodes.ExitCode == 0 && nodes.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.EndsWith(" idle", StringComparison.Ordinal)) == Nodes)
            {
                return;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"the SLURM nodes were not idle within {timeout.TotalSeconds:0} s; sinfo: {shown}{Logs()}");
    }

    private string Config(string socket)
    {
        var host = System.Net.Dns.GetHostName().Split('.')[0];
        var user = System.Environment.UserName;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"""
            ClusterName=baton
            SlurmctldHost={host}(127.0.0.1)
            SlurmctldPort={FreePort.Next()}
            SlurmUser={user}
            SlurmdUser={user}
            AuthType=auth/munge
            AuthInfo=socket={socket}
            CredType=cred/munge
            StateSaveLocation={_temp.Combine("state")}
            SlurmdSpoolDir={_temp.Combine("spool")}/%n
            SlurmctldPidFile={_temp.Combine("slurmctld.pid")}
            SlurmdPidFile={_temp.Combine("slurmd-%n.pid")}
            SlurmctldLogFile={_temp.Combine("log", "slurmctld.log")}
            SlurmdLogFile={_temp.Combine("log", "slurmd-%n.log")}
            ProctrackType=proctrack/linuxproc
            TaskPlugin=task/none
            SelectType=select/linear
            SchedulerType=sched/builtin
            AccountingStorageType=accounting_storage/none
            JobCompType=jobcomp/none
            JobAcctGatherType=jobacct_gather/none
            MpiDefault=none
            ReturnToService=2
            JobRequeue=1
            KillWait=60
            SlurmctldDebug=info
            SlurmdDebug=info

            """);
        for (var node = 1; node <= Nodes; node++)
        {
            text.Append(CultureInfo.InvariantCulture, $"NodeName=n{node} NodeHostname={host} NodeAddr=127.0.0.1 Port={FreePort.Next()} CPUs=1 State=UNKNOWN\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"PartitionName=debug Nodes={string.Join(',', Enumerable.Range(1, Nodes).Select(n => $"n{n}"))} Default=YES MaxTime=INFINITE State=UP\n");
        return text.ToString();
    }

    private void Launch(string fileName, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(fileName) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["SLURM_CONF"] = ConfigPath;
        var process = Start(info, fileName);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _daemons.Add(process);
    }

    private static Process Start(ProcessStartInfo info, string name)
    {
        try
        {
            return Process.Start(info) ?? throw new InvalidOperationException($"{name} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{name} could not be started: {e.Message}; run eng/install-test-deps.sh (slurmctld, slurmd, slurm-client, munge)", e);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string failure)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{failure} within {timeout.TotalSeconds:0} s");
            }

            await Task.Delay(100);
        }
    }

    [GeneratedRegex(@"(\w+)=(\S*)")]
    private static partial Regex JobField();
}

/// <summary>The exit code and output of a finished process.</summary>
public sealed record ProcessResult(int ExitCode, string StdOut, string StdErr)
{
    /// <inheritdoc/>
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{StdOut}\n--- stderr\n{StdErr}";
}
