using System.Diagnostics;
using Baton.Testing;

namespace Baton.Tests.BadInput;

/// <summary>Whatever push accepts, pull restores: names a restore would refuse are refused at push, before anything is written.</summary>
public sealed class NameRuleTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly string _source;
    private readonly string _store;

    public NameRuleTests()
    {
        _source = _temp.Combine("src");
        _store = _temp.Combine("store");
        TestData.WriteRandomFile(Path.Combine(_source, "model.bin"), 1000, 1);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_name_with_a_backslash_is_refused_at_push_and_nothing_is_written()
    {
        await File.WriteAllTextAsync(Path.Combine(_source, "logs\\step-1"), "x");

        Cli.AssertOneLineError(await Cli.RunAsync("push", _source, "--store", _store, "--run", "r", "--quiet"), 2, "'logs\\step-1'", "rename it");
        Assert.False(Directory.Exists(_store));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_name_that_is_not_UTF8_is_refused_at_push_naming_it()
    {
        // .NET cannot spell such a name; the shell writes its raw bytes.
        using (var shell = Process.Start("bash", ["-c", "printf x > \"$1/$(printf 'bad\\377name')\"", "bash", _source]))
        {
            await shell.WaitForExitAsync();
            Assert.Equal(0, shell.ExitCode);
        }

        Cli.AssertOneLineError(await Cli.RunAsync("push", _source, "--store", _store, "--run", "r", "--quiet"), 2, "'bad", "not valid UTF-8");
        Assert.False(Directory.Exists(_store));
    }

    [Fact(Timeout = 90_000)]
    public async Task Every_odd_but_valid_name_push_accepts_comes_back_from_pull()
    {
        string[] names = ["with space", "-leading-dash", "tab\tin", "new\nline", "ünïcødé", ".baton-notes", ".baton-restore-mine", "sub/.baton-probe-0123abcd"];
        foreach (var name in names)
        {
            var path = Path.Combine(_source, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, name);
        }

        await Cli.SucceedAsync("push", _source, "--store", _store, "--run", "r", "--quiet");
        var target = _temp.Combine("restored");
        await Cli.SucceedAsync("pull", target, "--store", _store, "--run", "r", "--quiet");

        foreach (var name in names)
        {
            var restored = Path.Combine(target, name);
            Assert.True(File.Exists(restored), $"'{name}' was pushed but did not come back");
            Assert.Equal(name, await File.ReadAllTextAsync(restored));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_name_Baton_reserves_is_left_out_and_the_push_says_so()
    {
        // The exact shape of the probe 'baton run' writes and removes at the top of a checkpoint directory.
        await File.WriteAllTextAsync(Path.Combine(_source, ".baton-probe-0123abcd"), "left by a killed run");

        var push = await Cli.SucceedAsync("push", _source, "--store", _store, "--run", "r");
        Assert.Contains("left out '.baton-probe-0123abcd'", push.StdErr, StringComparison.Ordinal);
        var target = _temp.Combine("restored");
        await Cli.SucceedAsync("pull", target, "--store", _store, "--run", "r", "--quiet");
        Assert.Equal(["model.bin"], Directory.EnumerateFileSystemEntries(target).Select(Path.GetFileName));
    }

    public void Dispose() => _temp.Dispose();
}
