using System.Diagnostics;
using System.Text;
using Baton.Testing;

namespace Baton.Tests.Guides;

/// <summary>
/// The shell commands of a guide in <c>docs/guides/</c>, made runnable here: a fenced block is taken as the guide
/// prints it, the places that only exist on the user's machine (a Drive path, a bucket, the user's trainer) are
/// replaced, and it runs under bash with <c>baton</c> on the PATH. Each replaced text must still be in the guide, so a
/// guide that changes its commands fails its test until the test follows.
/// </summary>
internal sealed class GuideScript
{
    private GuideScript(string text) => Text = text;

    public string Text { get; }

    /// <summary>The one shell block of <paramref name="guide"/> that contains <paramref name="marker"/>.</summary>
    public static GuideScript Block(string guide, string marker) => new(FencedBlock(guide, "sh", marker));

    /// <summary>The text of the one block fenced as <paramref name="language"/> ("sh" for shell) that contains
    /// <paramref name="marker"/>.</summary>
    public static string FencedBlock(string guide, string language, string marker)
    {
        var path = Path.Combine(RepositoryRoot.Path, "docs", "guides", guide);
        var blocks = Blocks(File.ReadAllLines(path))
            .Where(b => b.Language == language && b.Text.Contains(marker, StringComparison.Ordinal)).ToList();
        Assert.True(blocks.Count == 1, $"{path}: expected one {language} block with '{marker}', found {blocks.Count}");
        return blocks[0].Text;
    }

    /// <summary>The same block with <paramref name="from"/> replaced; it must be in the block.</summary>
    public GuideScript Replace(string from, string to)
    {
        Assert.True(Text.Contains(from, StringComparison.Ordinal), $"the guide's block no longer contains '{from}':\n{Text}");
        return new GuideScript(Text.Replace(from, to, StringComparison.Ordinal));
    }

    /// <summary>Writes the block as it is to <paramref name="path"/>, as an executable script (a batch job's script).</summary>
    public string WriteScript(string path)
    {
        File.WriteAllText(path, Text);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    /// <summary>Starts the block under bash in <paramref name="workingDirectory"/> with <c>baton</c> first on the PATH.</summary>
    public Process Start(string workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        Directory.CreateDirectory(workingDirectory);
        var script = Path.Combine(workingDirectory, ".guide.sh");
        File.WriteAllText(script, "set -e\n" + Text);  // the first failing command fails the block
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        info.ArgumentList.Add(script);
        info.Environment["PATH"] = BatonOnPath() + ":" + Environment.GetEnvironmentVariable("PATH");
        foreach (var name in new[] { "BATON_STORE", "BATON_RUN", "BATON_PASSWORD" })
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        return Process.Start(info) ?? throw new InvalidOperationException("could not start bash");
    }

    /// <summary>Runs the block to its end and returns its exit code and output.</summary>
    public async Task<CliResult> RunAsync(string workingDirectory, IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        using var process = Start(workingDirectory, environment);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the guide's commands did not end within {timeout.TotalSeconds:0}s:\n{Text}");
        }

        return new CliResult(process.ExitCode, await output, await error);
    }

    // Fenced blocks with their language; ``` alone, ```bash and ```sh are all "sh". A leading "!" (a notebook's shell
    // escape) is dropped.
    private static IEnumerable<(string Language, string Text)> Blocks(string[] lines)
    {
        string? language = null;
        var text = new StringBuilder();
        foreach (var line in lines)
        {
            if (!line.StartsWith("```", StringComparison.Ordinal))
            {
                text.AppendLine(language is "sh" && line.StartsWith('!') ? line[1..] : line);
            }
            else if (language is null)
            {
                language = line[3..].Trim() is "" or "bash" or "sh" ? "sh" : line[3..].Trim();
                text.Clear();
            }
            else
            {
                yield return (language, text.ToString());
                language = null;
            }
        }
    }

    /// <summary>A folder with a "baton" script that runs the CLI built beside the tests.</summary>
    public static string BatonOnPath()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "guide-bin");
        var shim = Path.Combine(folder, "baton");
        if (!File.Exists(shim))
        {
            Directory.CreateDirectory(folder);
            var temporary = shim + "." + Environment.ProcessId;
            File.WriteAllText(temporary, $"#!/bin/sh\nexec dotnet '{BatonCli.DllPath}' \"$@\"\n");
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
            File.Move(temporary, shim, overwrite: true);
        }

        return folder;
    }
}
