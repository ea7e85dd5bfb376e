using System.Text.Json;
using Baton.Encryption;
using Baton.Repositories;
using Baton.Retention;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Format;

/// <summary>
/// Known-answer tests on the golden v1 repositories in tests/golden (made once by make-golden.sh and checked in):
/// today's baton must list them as they were listed when they were made, restore every snapshot byte for byte, pass
/// <c>check --read-data</c>, and see their fence and tag. A change that breaks reading them would break every
/// repository users already have.
/// </summary>
public sealed class GoldenRepositoryTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private static string Golden => Path.Combine(RepositoryRoot.Path, "tests", "golden");

    private static string PasswordFile => Path.Combine(Golden, "passphrase.txt");

    [Theory(Timeout = 300_000)]
    [InlineData("v1-plain")]
    [InlineData("v1-encrypted")]
    public async Task Baton_lists_restores_and_checks_the_golden_repository(string name)
    {
        var store = CopyOf(name);
        string[] credentials = name.EndsWith("encrypted", StringComparison.Ordinal) ? ["--password-file", PasswordFile] : [];

        var ls = await BatonCli.RunAsync(["ls", "--store", store, "--json", .. credentials]);
        Assert.True(ls.ExitCode == 0, ls.ToString());
        var expected = Listing(File.ReadAllText(Path.Combine(Golden, "expected", $"{name}.ls.json")));
        Assert.Equal(expected, Listing(ls.StdOut));
        Assert.Equal(3, expected.Count);

        foreach (var snapshot in expected)
        {
            var target = _temp.Combine($"{snapshot.Run}-{snapshot.Step}");
            var pull = await BatonCli.RunAsync(["pull", target, "--store", store, "--run", snapshot.Run, "--snapshot", snapshot.Id, "--quiet", .. credentials]);
            Assert.True(pull.ExitCode == 0, pull.ToString());
            TestData.AssertSameTree(Path.Combine(Golden, "sources", $"{snapshot.Run}-{snapshot.Step}"), target);
        }

        var check = await BatonCli.RunAsync(["check", "--store", store, "--read-data", .. credentials]);
        Assert.True(check.ExitCode == 0, check.ToString());

        // The fence after the killed writer is the highest manifest of run alpha, and the tag names its first snapshot.
        await using var objects = new FolderStore(store);
        var repository = await Repository.OpenAsync(objects, new RepositoryOptions
        {
            Credentials = credentials.Length > 0 ? RepositoryCredentials.FromPasswordFile(PasswordFile, "the golden passphrase") : null,
        });
        Assert.True((await repository.ReadSnapshotAsync(repository.SnapshotKey("alpha", 3))).Manifest.Fence);
        var tag = Assert.Single(await new SnapshotTags(repository).ListAsync("alpha"));
        Assert.Equal(("best", expected[0].Id), (tag.Name, tag.SnapshotId));
    }

    [Theory(Timeout = 300_000)]
    [InlineData("v1-plain")]
    [InlineData("v1-encrypted")]
    public async Task The_reader_written_from_the_spec_restores_the_golden_repository(string name)
    {
        var store = CopyOf(name);
        string[] credentials = name.EndsWith("encrypted", StringComparison.Ordinal) ? ["--password-file", PasswordFile] : [];
        var ls = await PythonReader.RunAsync(["ls", store, .. credentials]);
        Assert.True(ls.ExitCode == 0, ls.ToString());
        Assert.Equal([("alpha", 1L, "100"), ("alpha", 2L, "200"), ("beta", 1L, "5")], PythonReader.ParseListing(ls.StdOut));

        foreach (var (run, step, options) in new[] { ("alpha", 200, Array.Empty<string>()), ("alpha", 100, ["--sequence", "1"]), ("beta", 5, []) })
        {
            var target = _temp.Combine($"py-{run}-{step}");
            var restore = await PythonReader.RunAsync(["restore", store, run, target, .. options, .. credentials]);
            Assert.True(restore.ExitCode == 0, restore.ToString());
            TestData.AssertSameTree(Path.Combine(Golden, "sources", $"{run}-{step}"), target);
        }
    }

    [Fact(Timeout = 300_000)]
    public async Task The_reader_written_from_the_spec_refuses_a_wrong_password()
    {
        var wrong = _temp.Combine("wrong.txt");
        File.WriteAllText(wrong, "not the passphrase\n");
        var ls = await PythonReader.RunAsync("ls", CopyOf("v1-encrypted"), "--password-file", wrong);
        Assert.True(ls.ExitCode == 2, ls.ToString());
        Assert.Contains("wrong password", ls.StdErr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 300_000)]
    public async Task The_reader_written_from_the_spec_refuses_a_flipped_bit_in_a_chunk()
    {
        var store = CopyOf("v1-plain");
        foreach (var pack in Directory.EnumerateFiles(Path.Combine(store, "data"), "*", SearchOption.AllDirectories))
        {
            // Byte 20 lies in each pack's first blob.
            var bytes = File.ReadAllBytes(pack);
            bytes[20] ^= 0x10;
            File.WriteAllBytes(pack, bytes);
        }

        var restore = await PythonReader.RunAsync("restore", store, "beta", _temp.Combine("corrupt"));
        Assert.True(restore.ExitCode == 1, restore.ToString());
        Assert.StartsWith("baton-read: ", restore.StdErr, StringComparison.Ordinal);
    }

    private static List<(string Id, string Run, long Sequence, long Step, long Bytes)> Listing(string json) =>
        JsonDocument.Parse(json).RootElement.EnumerateArray()
            .Select(e => (e.GetProperty("id").GetString()!, e.GetProperty("run").GetString()!, e.GetProperty("sequence").GetInt64(),
                e.GetProperty("step").GetInt64(), e.GetProperty("bytes").GetInt64()))
            .ToList();

    // The tests work on a copy: the checked-in bytes stay as they were made.
    private string CopyOf(string name)
    {
        var source = Path.Combine(Golden, name);
        var copy = _temp.Combine(name);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(copy, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        return copy;
    }

    public void Dispose() => _temp.Dispose();
}
