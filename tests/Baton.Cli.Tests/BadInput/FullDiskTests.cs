using System.Diagnostics;
using Baton.Testing;

namespace Baton.Tests.BadInput;

/// <summary>A store or restore target on a small tmpfs that fills up (the tests run as root, which may mount one).</summary>
public sealed class FullDiskTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly string _mount;

    public FullDiskTests()
    {
        _mount = _temp.Combine("small");
        Directory.CreateDirectory(_mount);
        Run("mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", _mount);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_push_to_a_full_store_fails_with_one_line_and_leaves_the_store_healthy()
    {
        var store = Path.Combine(_mount, "store");
        var small = _temp.Combine("small-ckpt");
        TestData.WriteRandomFile(Path.Combine(small, "w.bin"), 1_000_000, 1);
        Assert.Equal(0, (await BatonCli.RunAsync(["push", small, "--store", store, "--run", "r", "--step", "1"])).ExitCode);
        var big = _temp.Combine("big-ckpt");
        TestData.WriteRandomFile(Path.Combine(big, "w.bin"), 12_000_000, 2);

        var push = await BatonCli.RunAsync(["push", big, "--store", store, "--run", "r", "--step", "2", "--quiet"]);

        Assert.Equal(1, push.ExitCode);
        Assert.Single(push.ErrorLines);
        Assert.Contains("no space left", push.StdErr, StringComparison.Ordinal);
        var check = await BatonCli.RunAsync(["check", "--store", store, "--read-data"]);
        Assert.True(check.ExitCode == 0, check.ToString());
        var restored = _temp.Combine("restored");
        Assert.Equal(0, (await BatonCli.RunAsync(["pull", restored, "--store", store, "--run", "r"])).ExitCode);
        TestData.AssertSameTree(small, restored);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_pull_into_a_full_disk_fails_and_leaves_the_target_as_it_was()
    {
        var store = _temp.Combine("store");
        var big = _temp.Combine("big-ckpt");
        TestData.WriteRandomFile(Path.Combine(big, "w.bin"), 12_000_000, 3);
        Assert.Equal(0, (await BatonCli.RunAsync(["push", big, "--store", store, "--run", "r"])).ExitCode);
        var target = Path.Combine(_mount, "logs");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "keep.txt"), "mine");

        var pull = await BatonCli.RunAsync(["pull", target, "--store", store, "--run", "r", "--overwrite", "--quiet"]);

        Assert.Equal(1, pull.ExitCode);
        Assert.Single(pull.ErrorLines);
        Assert.Equal(["keep.txt"], Directory.EnumerateFileSystemEntries(target).Select(Path.GetFileName));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(target, "keep.txt")));
    }

    public void Dispose()
    {
        Run("umount", "-l", _mount);
        _temp.Dispose();
    }

    private static void Run(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed: {process.StandardError.ReadToEnd()} (these tests mount a tmpfs and must run as root)");
        }
    }
}
