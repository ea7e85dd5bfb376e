using System.Diagnostics;
using Baton.Testing;

namespace Baton.Tests;

/// <summary>Each kind of bad input gets one line on stderr, naming what is wrong, and its documented exit code.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly string _source;
    private readonly string _store;

    public BadInputTests()
    {
        _source = _temp.Combine("src");
        _store = _temp.Combine("store");
        TestData.WriteRandomFile(Path.Combine(_source, "a.bin"), 1000, 1);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_directory_is_a_usage_error_and_creates_no_store()
    {
        var missing = _temp.Combine("nope");
        Cli.AssertOneLineError(await Cli.RunAsync("push", missing, "--store", _store, "--run", "r"), 2, missing, "does not exist");
        Assert.False(Directory.Exists(_store));
    }

    [Fact(Timeout = 60_000)]
    public async Task An_empty_store_address_is_a_usage_error()
    {
        Cli.AssertOneLineError(await Cli.RunAsync("push", _source, "--store", "", "--run", "r"), 2, "store address is empty");
        Cli.AssertOneLineError(await Cli.RunWithEnvironmentAsync(new Dictionary<string, string?> { ["BATON_STORE"] = "" }, "ls"), 2, "--store");
        Cli.AssertOneLineError(await Cli.RunAsync("ls"), 2, "--store");
    }

    [Theory(Timeout = 60_000)]
    [InlineData("ftp://example.org/x")]
    [InlineData("gopher:thing")]
    public async Task An_unknown_scheme_is_a_usage_error_naming_it(string address)
    {
        var scheme = address[..address.IndexOf(':', StringComparison.Ordinal)];
        Cli.AssertOneLineError(await Cli.RunAsync("push", _source, "--store", address, "--run", "r"), 2, $"'{scheme}:'");
        Cli.AssertOneLineError(await Cli.RunAsync("pull", _temp.Combine("d"), "--store", address, "--run", "r"), 2, $"'{scheme}:'");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_store_that_holds_other_files_is_refused_and_left_alone()
    {
        var other = _temp.Combine("photos");
        Directory.CreateDirectory(other);
        await File.WriteAllTextAsync(Path.Combine(other, "cat.jpg"), "meow");

        Cli.AssertOneLineError(await Cli.RunAsync("push", _source, "--store", other, "--run", "r"), 3, other, "not a Baton repository", "'cat.jpg'");
        Cli.AssertOneLineError(await Cli.RunAsync("ls", "--store", other), 3, "not a Baton repository");
        Cli.AssertOneLineError(await Cli.RunAsync("init", "--store", other), 3, "not empty");
        Assert.Equal(["cat.jpg"], Directory.EnumerateFileSystemEntries(other).Select(Path.GetFileName));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_file_that_cannot_be_read_fails_the_push_naming_it()
    {
        // A named pipe stands for an unreadable file even as root (who reads through chmod 000); opening it for reading
        // would block forever.
        var pipe = Path.Combine(_source, "stream.fifo");
        using (var mkfifo = Process.Start("mkfifo", [pipe]))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        Cli.AssertOneLineError(await Cli.RunAsync("push", _source, "--store", _store, "--run", "r", "--quiet"), 1, "'stream.fifo'", "named pipe");
        Assert.False(Directory.Exists(_store)); // found while checking names, before a repository is created
        File.Delete(pipe);

        if (Environment.UserName != "root")
        {
            var locked = Path.Combine(_source, "locked.bin");
            TestData.WriteRandomFile(locked, 100, 2);
            File.SetUnixFileMode(locked, UnixFileMode.None);
            Cli.AssertOneLineError(await Cli.RunAsync("push", _source, "--store", _store, "--run", "r", "--quiet"), 1, "'locked.bin'");
            File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        if (Directory.Exists(_store))
        {
            Assert.Empty(await Cli.ListAsync(_store));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_repository_of_a_newer_format_asks_for_an_upgrade_with_exit_1()
    {
        await Cli.SucceedAsync("init", "--store", _store);
        var config = Path.Combine(_store, "config");
        await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(config)).Replace("\"version\": 1", "\"version\": 2", StringComparison.Ordinal));

        Cli.AssertOneLineError(await Cli.RunAsync("push", _source, "--store", _store, "--run", "r"), 1, "upgrade baton");
        Cli.AssertOneLineError(await Cli.RunAsync("ls", "--store", _store), 1, "upgrade baton");
        Cli.AssertOneLineError(await Cli.RunAsync("check", "--store", _store), 1, "upgrade baton");
    }

    [Theory(Timeout = 60_000)]
    [InlineData("a/b")]
    [InlineData("../up")]
    [InlineData("-dash")]
    [InlineData("evil\n")]
    [InlineData("evil ")]
    [InlineData("ev\til")]
    public async Task A_run_name_that_is_not_a_plain_name_is_a_usage_error(string run)
    {
        Cli.AssertOneLineError(await Cli.RunAsync("push", _source, "--store", _store, "--run=" + run), 2, "invalid run name");
        Cli.AssertOneLineError(await Cli.RunAsync("pull", _temp.Combine("d"), "--store", _store, "--run=" + run), 2, "invalid run name");
        Assert.False(Directory.Exists(_store));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_run_is_a_usage_error()
    {
        Cli.AssertOneLineError(await Cli.RunAsync("push", _source, "--store", _store), 2, "--run", "BATON_RUN");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_restore_target_that_is_a_file_is_a_usage_error_and_the_file_is_kept()
    {
        await Cli.SucceedAsync("push", _source, "--store", _store, "--run", "r", "--quiet");
        var file = _temp.Combine("target.txt");
        await File.WriteAllTextAsync(file, "keep me");

        Cli.AssertOneLineError(await Cli.RunAsync("pull", file, "--store", _store, "--run", "r"), 2, "is a file");
        Assert.Equal("keep me", await File.ReadAllTextAsync(file));
    }

    [Fact(Timeout = 60_000)]
    public async Task Pulling_a_run_without_snapshots_is_a_usage_error()
    {
        await Cli.SucceedAsync("push", _source, "--store", _store, "--run", "r", "--quiet");
        var target = _temp.Combine("d");

        Cli.AssertOneLineError(await Cli.RunAsync("pull", target, "--store", _store, "--run", "other"), 2, "'other'", "no snapshots");
        Cli.AssertOneLineError(await Cli.RunAsync("pull", target, "--store", _temp.Combine("empty"), "--run", "r"), 2, "no Baton repository");
        Assert.False(Directory.Exists(target));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_store_whose_parent_folder_is_missing_is_unreachable_with_exit_3()
    {
        var unmounted = _temp.Combine("not-mounted", "drive", "runs");
        Cli.AssertOneLineError(await Cli.RunAsync("push", _source, "--store", unmounted, "--run", "r", "--quiet"), 3, "is the drive mounted?");
        Assert.False(Directory.Exists(_temp.Combine("not-mounted")));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_link_pointing_outside_the_directory_is_refused_at_push_with_exit_2()
    {
        File.CreateSymbolicLink(Path.Combine(_source, "data"), "/var/lib");
        Cli.AssertOneLineError(await Cli.RunAsync("push", _source, "--store", _store, "--run", "r", "--quiet"), 2, "'data'", "/var/lib");
    }

    public void Dispose() => _temp.Dispose();
}
