using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Baton.Testing;

namespace Baton.Tests.Progress;

/// <summary>The real command line with its output redirected, as tools, notebooks and log files see it.</summary>
public sealed partial class ProgressOutputTests : IDisposable
{
    private const int Files = 4;
    private const long FileSize = 2_000_000;
    private readonly TempDirectory _temp = new();
    private readonly string _store;
    private readonly string _source;

    public ProgressOutputTests()
    {
        _store = _temp.Combine("store");
        _source = _temp.Combine("src");
        for (var i = 0; i < Files; i++)
        {
            TestData.WriteRandomFile(Path.Combine(_source, $"shard-{i}.bin"), FileSize, seed: i);
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task Json_prints_progress_events_then_one_result_line_for_push_pull_check_stage_and_prune()
    {
        var push = await Cli.SucceedAsync("push", _source, "--store", _store, "--run", "r", "--json");
        var pushed = AssertEventStream(push, "push");
        Assert.Equal(Files, pushed.GetProperty("files").GetInt64());

        var pull = await Cli.SucceedAsync("pull", _temp.Combine("dst"), "--store", _store, "--run", "r", "--json");
        var pulled = AssertEventStream(pull, "pull");
        Assert.Equal(pushed.GetProperty("id").GetString(), pulled.GetProperty("snapshot").GetString());
        Assert.Equal(Files * FileSize, pulled.GetProperty("bytes").GetInt64());
        TestData.AssertSameTree(_source, _temp.Combine("dst"));

        var check = await Cli.SucceedAsync("check", "--store", _store, "--read-data", "--json");
        Assert.True(AssertEventStream(check, "check").GetProperty("healthy").GetBoolean());

        var stage = await Cli.SucceedAsync("stage", _source, _temp.Combine("staged"), "--cache", _temp.Combine("cache"), "--json");
        Assert.Equal(Files, AssertEventStream(stage, "stage").GetProperty("files").GetInt64());

        // New contents, then keep only the newest snapshot: the first one's packs are deleted, with progress.
        for (var i = 0; i < Files; i++)
        {
            TestData.WriteRandomFile(Path.Combine(_source, $"shard-{i}.bin"), FileSize, seed: 100 + i);
        }

        await Cli.SucceedAsync("push", _source, "--store", _store, "--run", "r", "--quiet");
        var prune = await Cli.SucceedAsync("prune", "--store", _store, "--run", "r", "--keep-last", "1", "--json");
        var pruned = AssertEventStream(prune, "prune");
        Assert.Equal(pushed.GetProperty("id").GetString(), Assert.Single(pruned.GetProperty("removed").EnumerateArray()).GetProperty("id").GetString());
        Assert.True(pruned.GetProperty("packsDeleted").GetInt32() > 0, prune.ToString());
    }

    [Fact(Timeout = 120_000)]
    public async Task Json_with_quiet_prints_the_result_line_alone()
    {
        var push = await Cli.SucceedAsync("push", _source, "--store", _store, "--run", "r", "--json", "--quiet");

        var line = Assert.Single(JsonLines.Parse(push.StdOut));
        Assert.Equal("result", JsonLines.Event(line));
        Assert.Equal(16, line.GetProperty("id").GetString()!.Length);
        Assert.Equal("", push.StdErr);
    }

    [Fact(Timeout = 120_000)]
    public async Task Progress_on_a_stderr_that_is_not_a_terminal_is_plain_lines_without_escape_codes()
    {
        var push = await Cli.SucceedAsync("push", _source, "--store", _store, "--run", "r");
        var pull = await Cli.SucceedAsync("pull", _temp.Combine("dst"), "--store", _store, "--run", "r");

        foreach (var (verb, result) in new[] { ("push", push), ("pull", pull) })
        {
            Assert.DoesNotContain('\u001b', result.StdErr + result.StdOut);
            var progress = result.StdErr.Split('\n').Where(l => l.StartsWith(verb + " ", StringComparison.Ordinal)).ToList();
            Assert.True(progress.Count > 0, $"no progress line: {result}");
            Assert.All(progress, line => Assert.Matches(PlainLine(), line));
        }

        Assert.Matches("^[0-9a-f]{16}\n$", push.StdOut);
    }

    [Fact(Timeout = 120_000)]
    public async Task Quiet_prints_no_progress()
    {
        var push = await Cli.SucceedAsync("push", _source, "--store", _store, "--run", "r", "--quiet");
        var pull = await Cli.SucceedAsync("pull", _temp.Combine("dst"), "--store", _store, "--run", "r", "--quiet");
        var check = await Cli.SucceedAsync("check", "--store", _store, "--read-data", "--quiet");

        Assert.Equal("", push.StdErr + pull.StdErr + check.StdErr);
        Assert.Equal("", pull.StdOut);
        Assert.StartsWith("no errors", check.StdOut, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task No_password_appears_in_the_event_stream_of_an_encrypted_repository()
    {
        const string Password = "tangerine-heron-77 dives";
        var environment = new Dictionary<string, string?> { ["BATON_PASSWORD"] = Password };

        var push = await Cli.RunWithEnvironmentAsync(environment, "push", _source, "--store", _store, "--run", "r", "--json");
        var pull = await Cli.RunWithEnvironmentAsync(environment, "pull", _temp.Combine("dst"), "--store", _store, "--run", "r", "--json");

        Assert.True(push.ExitCode == 0 && pull.ExitCode == 0, $"{push}\n{pull}");
        Assert.Contains("\"encryption\"", await File.ReadAllTextAsync(Path.Combine(_store, "config")), StringComparison.Ordinal);
        foreach (var output in new[] { push.StdOut, push.StdErr, pull.StdOut, pull.StdErr })
        {
            Assert.DoesNotContain("tangerine", output, StringComparison.Ordinal);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task On_a_terminal_pull_draws_a_live_bar_with_the_percentage_bytes_and_files()
    {
        await Cli.SucceedAsync("push", _source, "--store", _store, "--run", "r", "--quiet");

        // script(1) gives baton a pseudo-terminal and copies everything it draws to our stdout.
        var transcript = await OnTerminalAsync(["pull", _temp.Combine("dst"), "--store", _store, "--run", "r"]);

        var text = Regex.Replace(transcript, "\u001b\\[[0-9;?]*[A-Za-z]", "");
        Assert.Contains("\u001b[", transcript, StringComparison.Ordinal);
        Assert.Contains("━", text, StringComparison.Ordinal);
        Assert.Matches(@"pull .*100% 7\.6 MiB / 7\.6 MiB  files 4/4", text);
        Assert.Contains("restored snapshot", text, StringComparison.Ordinal);
        Assert.DoesNotMatch(PlainLine(), text);
    }

    public void Dispose() => _temp.Dispose();

    // The events are JSON Lines on stdout, each naming the verb; bytes and files never go backwards; the last
    // progress event has all bytes; the last line is the result. Nothing goes to stderr.
    private static JsonElement AssertEventStream(CliResult result, string verb)
    {
        Assert.True(result.StdErr.Length == 0, result.ToString());
        var events = JsonLines.Parse(result.StdOut);
        var outcome = JsonLines.Result(result.StdOut);
        Assert.All(events, e => Assert.Equal(verb, e.GetProperty("verb").GetString()));
        var progress = events.Where(e => JsonLines.Event(e) == "progress").ToList();
        Assert.True(progress.Count > 0, $"no progress events: {result}");
        Assert.Equal(events.Count - 1, progress.Count);
        for (var i = 1; i < progress.Count; i++)
        {
            Assert.True(progress[i].GetProperty("bytes").GetInt64() >= progress[i - 1].GetProperty("bytes").GetInt64(), result.StdOut);
            Assert.True(progress[i].GetProperty("files").GetInt64() >= progress[i - 1].GetProperty("files").GetInt64(), result.StdOut);
        }

        Assert.All(progress, p => Assert.InRange(p.GetProperty("bytes").GetInt64(), 0, p.GetProperty("totalBytes").GetInt64()));
        Assert.Equal(progress[^1].GetProperty("totalBytes").GetInt64(), progress[^1].GetProperty("bytes").GetInt64());
        return outcome;
    }

    private static async Task<string> OnTerminalAsync(IEnumerable<string> args)
    {
        var command = string.Join(' ', new[] { "dotnet", BatonCli.DllPath }.Concat(args).Select(a => "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));
        var info = new ProcessStartInfo("script")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "-qec", "stty cols 160 rows 40; " + command, "/dev/null" })
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var name in new[] { "BATON_STORE", "BATON_RUN", "BATON_PASSWORD", "BATON_PROGRESS", "JPY_PARENT_PID" })
        {
            info.Environment.Remove(name);
        }

        info.Environment["TERM"] = "xterm-256color";
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start script(1): install bsdutils");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{await stdout}\n{await stderr}");
        return await stdout;
    }

    [GeneratedRegex(@"^(push|pull) +\d+\.\d%  \d+(\.\d)? (B|KiB|MiB) / \d+(\.\d)? (B|KiB|MiB)(  .*)?  files \d+/4$", RegexOptions.Multiline)]
    private static partial Regex PlainLine();
}
