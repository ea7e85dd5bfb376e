using Baton.Checking;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Testing;

namespace Baton.Storage.S3.Tests;

/// <summary>
/// Objects damaged inside the server's own storage (a flipped bit on its disk), so that what the server sends no
/// longer matches the checksum it keeps: the SDK's failure is a store error of reason <see cref="StoreErrorReason.Corrupt"/>,
/// and check names the object and goes on.
/// </summary>
[Collection("s3rver")]
public sealed class S3DamagedObjectTests(S3rverFixture s3) : IDisposable
{
    private readonly TempDirectory _temp = new("baton-s3-damaged-");

    [Fact(Timeout = 180_000)]
    public async Task A_pack_damaged_on_the_servers_disk_is_a_corrupt_object_and_check_read_data_names_it_and_goes_on()
    {
        await using var store = s3.CreateStore();
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "weights.bin"), 600_000, 31);
        TestData.WriteRandomFile(Path.Combine(source, "optimizer.bin"), 300_000, 32);
        var repository = await Repository.InitAsync(store, new RepositoryOptions { PackSize = 256 * 1024 });
        await repository.PushAsync(source, "r", new PushOptions { Step = 1 });
        var packs = (await store.ListAllAsync(RepositoryLayout.DataPrefix)).Select(i => i.Key).Order(StringComparer.Ordinal).ToList();
        Assert.True(packs.Count >= 2, "the test needs two packs to show that check goes on after the first");
        FlipBitOnServerDisk(store, packs[0]);

        var read = await Assert.ThrowsAsync<StoreException>(() => store.ReadAllAsync(packs[0]));
        var report = await new Checker(repository).CheckAsync(readData: true);

        Assert.Equal(StoreErrorReason.Corrupt, read.Reason);
        Assert.Equal(ErrorCategory.Integrity, read.Category);
        Assert.Contains(report.Errors, e => e.Contains(packs[0], StringComparison.Ordinal));
        Assert.DoesNotContain(report.Errors, e => e.Contains(packs[1], StringComparison.Ordinal));
        Assert.True(report.BytesVerified > 0);
    }

    [Fact(Timeout = 180_000)]
    public async Task Check_read_data_on_s3_exits_4_naming_a_pack_damaged_on_the_servers_disk_and_verifies_the_rest()
    {
        var prefix = "runs/" + Guid.NewGuid().ToString("N")[..8];
        var store = $"s3://cli-damaged/{prefix}";
        var environment = s3.CliEnvironment();
        foreach (var seed in new[] { 41, 42 })
        {
            TestData.WriteRandomFile(_temp.Combine($"src{seed}", "weights.bin"), 400_000, seed);
            var push = await BatonCli.RunAsync(["push", _temp.Combine($"src{seed}"), "--store", store, "--run", "r", "--quiet"], environment: environment);
            Assert.True(push.ExitCode == 0, push.ToString());
        }

        var packs = Directory.EnumerateFiles(s3.DataPath, "*._S3rver_object", SearchOption.AllDirectories)
            .Select(f => f.Replace(Path.DirectorySeparatorChar, '/'))
            .Where(f => f.Contains($"/cli-damaged/{prefix}/data/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, packs.Count);
        FlipBit(packs[0]);
        var damaged = packs[0][(packs[0].IndexOf("/data/", StringComparison.Ordinal) + 1)..^"._S3rver_object".Length];

        var check = await BatonCli.RunAsync(["check", "--store", store, "--read-data", "--quiet"], environment: environment);

        Assert.True(check.ExitCode == 4, check.ToString());
        Assert.Contains($"error: pack {damaged} is corrupt", check.StdOut, StringComparison.Ordinal);
        Assert.Contains("1 error(s)", check.StdOut, StringComparison.Ordinal);
        Assert.Contains("2 packs", check.StdOut, StringComparison.Ordinal);
    }

    // s3rver keeps each object as a file named after its key (KEY._S3rver_object), beside its MD5 and metadata.
    private void FlipBitOnServerDisk(S3Store store, string key)
    {
        var suffix = $"/{store.Location.Split('/')[^1]}/{key}._S3rver_object";
        FlipBit(Directory.EnumerateFiles(s3.DataPath, "*._S3rver_object", SearchOption.AllDirectories)
            .Single(f => f.Replace(Path.DirectorySeparatorChar, '/').EndsWith(suffix, StringComparison.Ordinal)));
    }

    private static void FlipBit(string file)
    {
        var bytes = File.ReadAllBytes(file);
        bytes[bytes.Length / 2] ^= 0x08;
        File.WriteAllBytes(file, bytes);
    }

    public void Dispose() => _temp.Dispose();
}
