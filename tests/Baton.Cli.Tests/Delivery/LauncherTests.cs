using System.Diagnostics;
using Baton.Testing;

namespace Baton.Tests.Delivery;

/// <summary>
/// The <c>./baton</c> launcher runs a Native AOT build of the same sources when one is there, and builds and runs the
/// JIT build when a source changed after it (or when BATON_JIT=1). Run on a copy of the launcher in a small tree, with
/// a stand-in native binary that says it ran.
/// </summary>
public sealed class LauncherTests : IDisposable
{
    // Only the order of modification times matters to the launcher.
    private static readonly DateTime Stamped = new(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc);

    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 60_000)]
    public async Task A_native_build_newer_than_every_source_is_run()
    {
        var root = MakeTree();

        var (code, output) = await RunAsync(root, ["push", "--help"]);

        Assert.Equal(0, code);
        Assert.Equal("native push --help", output.Trim());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_source_changed_after_the_native_build_makes_the_launcher_build_instead()
    {
        var root = MakeTree();
        var source = Path.Combine(root, "src", "Baton.Cli", "Program.cs");
        File.SetLastWriteTimeUtc(source, Stamped.AddMinutes(1));

        var (_, output) = await RunAsync(root, ["--version"]);

        Assert.DoesNotContain("native", output, StringComparison.Ordinal);
        Assert.Contains("baton: building", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task BATON_JIT_skips_the_native_build()
    {
        var root = MakeTree();

        var (_, output) = await RunAsync(root, ["--version"], jit: true);

        Assert.DoesNotContain("native", output, StringComparison.Ordinal);
        Assert.Contains("baton: building", output, StringComparison.Ordinal);
    }

    // The launcher, one source file (no project: the JIT build fails fast) and a native stand-in stamped after it.
    private string MakeTree()
    {
        var root = _temp.Combine("repo-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(root, "src", "Baton.Cli"));
        File.Copy(Path.Combine(RepositoryRoot.Path, "baton"), Path.Combine(root, "baton"));
        var source = Path.Combine(root, "src", "Baton.Cli", "Program.cs");
        File.WriteAllText(source, "// source\n");
        File.SetLastWriteTimeUtc(source, Stamped.AddMinutes(-10));
        var native = Path.Combine(root, ".build", "bench-cli-aot", "baton");
        Directory.CreateDirectory(Path.GetDirectoryName(native)!);
        File.WriteAllText(native, "#!/bin/sh\necho native \"$@\"\n");
        File.SetUnixFileMode(native, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(native + ".aot-stamp", "");
        File.SetLastWriteTimeUtc(native + ".aot-stamp", Stamped);
        File.SetUnixFileMode(Path.Combine(root, "baton"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return root;
    }

    private static async Task<(int Code, string Output)> RunAsync(string root, string[] args, bool jit = false)
    {
        var info = new ProcessStartInfo(Path.Combine(root, "baton")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["BATON_JIT"] = jit ? "1" : null;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    public void Dispose() => _temp.Dispose();
}
