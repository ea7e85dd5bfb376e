using System.Text.RegularExpressions;
using Baton.Testing;

namespace Baton.Tests.BadInput;

/// <summary>Stores given in the wrong place: each is refused with its documented exit code, and nothing is written.</summary>
public sealed class StoreLocationTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly string _source;

    public StoreLocationTests()
    {
        _source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(_source, "model.bin"), 1000, 1);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("sub/", "an empty folder 'sub/'")]
    [InlineData(".tmp-0123", "a temporary file '.tmp-0123'")]
    [InlineData("keys/x", "'keys/x'")]
    public async Task Only_a_truly_empty_folder_becomes_a_repository(string content, string named)
    {
        var folder = _temp.Combine("drive");
        var path = Path.Combine(folder, content);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (!content.EndsWith('/'))
        {
            await File.WriteAllTextAsync(path, "someone's");
        }

        var before = Entries(folder);
        Cli.AssertOneLineError(await Cli.RunAsync("push", _source, "--store", folder, "--run", "r", "--quiet"), 3, folder, named);
        Cli.AssertOneLineError(await Cli.RunAsync("init", "--store", folder), 3, folder, named);
        Assert.Equal(before, Entries(folder));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_folder_holding_only_the_half_written_config_of_a_machine_lost_while_creating_it_becomes_the_repository()
    {
        // A folder store writes each object to ".tmp-" and a GUID, then renames it: a kill before the rename leaves this.
        var folder = _temp.Combine("drive");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, ".tmp-" + Guid.NewGuid().ToString("N")), "{\"format\": \"baton-rep");

        await Cli.SucceedAsync("push", _source, "--store", folder, "--run", "r", "--quiet");
        await Cli.SucceedAsync("pull", _temp.Combine("back"), "--store", folder, "--run", "r", "--quiet");

        TestData.AssertSameTree(_source, _temp.Combine("back"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_store_path_that_is_a_file_is_a_store_error_and_the_file_is_kept()
    {
        var file = _temp.Combine("notes.txt");
        await File.WriteAllTextAsync(file, "keep me");

        Cli.AssertOneLineError(await Cli.RunAsync("push", _source, "--store", file, "--run", "r", "--quiet"), 3, file, "is a file");
        Cli.AssertOneLineError(await Cli.RunAsync("ls", "--store", file), 3, file, "is a file");
        Assert.Equal("keep me", await File.ReadAllTextAsync(file));
    }

    [Theory(Timeout = 60_000)]
    [InlineData("file:///")]
    [InlineData("/")]
    public async Task The_file_system_root_is_refused_as_a_store(string address)
    {
        Cli.AssertOneLineError(await Cli.RunAsync("ls", "--store", address), 2, "file system root");
        Cli.AssertOneLineError(await Cli.RunAsync("push", _source, "--store", address, "--run", "r", "--quiet"), 2, "file system root");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_store_inside_the_pushed_directory_is_refused_and_not_created()
    {
        var inside = Path.Combine(_source, "baton-store");
        Cli.AssertOneLineError(await BatonCli.RunAsync(["push", ".", "--store", "./baton-store", "--run", "r", "--quiet"], _source), 2, inside, "outside");
        Assert.False(Directory.Exists(inside));
    }

    [Fact(Timeout = 60_000)]
    public async Task Run_refuses_a_store_inside_its_checkpoint_directory_before_the_trainer_starts()
    {
        var marker = _temp.Combine("trainer-ran");
        var result = await BatonCli.RunAsync(["run", "--store", "./baton-store", "--dir", ".", "--run", "r", "--", "touch", marker], _source);
        Cli.AssertOneLineError(result, 2, Path.Combine(_source, "baton-store"), "outside");
        Assert.False(Directory.Exists(Path.Combine(_source, "baton-store")));
        Assert.False(File.Exists(marker));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_retention_period_too_long_for_a_duration_is_a_usage_error()
    {
        var store = _temp.Combine("store");
        await Cli.SucceedAsync("push", _source, "--store", store, "--run", "r", "--quiet");

        Cli.AssertOneLineError(await Cli.RunAsync("prune", "--store", store, "--run", "r", "--keep-within", "99999999d"), 2, "--keep-within", "too long");
        Assert.Single(await Cli.ListAsync(store));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_report_on_an_unknown_run_is_a_usage_error_like_status()
    {
        var store = _temp.Combine("store");
        await Cli.SucceedAsync("push", _source, "--store", store, "--run", "r", "--quiet");
        var report = _temp.Combine("report.html");

        Cli.AssertOneLineError(await Cli.RunAsync("status", "--store", store, "--run", "nosuch"), 2, "'nosuch'");
        Cli.AssertOneLineError(await Cli.RunAsync("report", "--store", store, "--run", "nosuch", "--output", report), 2, "'nosuch'");
        Assert.False(File.Exists(report));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_key_with_an_absurd_derivation_cost_is_refused_by_name_not_taken_for_a_wrong_password()
    {
        var store = _temp.Combine("store");
        var password = _temp.Combine("password.txt");
        await File.WriteAllTextAsync(password, "correct horse\n");
        await Cli.SucceedAsync("init", "--store", store, "--password-file", password);
        var slot = Directory.EnumerateFiles(Path.Combine(store, "keys")).Single();
        var json = await File.ReadAllTextAsync(slot);
        var inflated = Regex.Replace(json, "\"memoryKiB\": *[0-9]+", "\"memoryKiB\": 2000000000");
        Assert.NotEqual(json, inflated);
        await File.WriteAllTextAsync(slot, inflated);

        var result = await Cli.RunAsync("ls", "--store", store, "--password-file", password);
        Cli.AssertOneLineError(result, 4, $"keys/{Path.GetFileName(slot)}", "not tried", "bound");
        Assert.DoesNotContain("wrong password", result.StdErr, StringComparison.Ordinal);
    }

    private static List<string> Entries(string folder) =>
        [.. Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories).Select(e => Path.GetRelativePath(folder, e)).Order(StringComparer.Ordinal)];

    public void Dispose() => _temp.Dispose();
}
