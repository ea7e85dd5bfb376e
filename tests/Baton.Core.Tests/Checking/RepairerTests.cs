using Baton.Checking;
using Baton.Maintenance;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Testing;

namespace Baton.Tests.Checking;

public sealed class RepairerTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 60_000)]
    public async Task Repair_refuses_to_drop_packs_while_a_push_is_in_flight_and_changes_nothing()
    {
        var repository = await PushedAsync();
        var pack = Directory.EnumerateFiles(_temp.Combine("store", "data"), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        File.Delete(pack);
        var index = IndexObjects();

        ConflictException refused;
        RepairReport preview;
        await using (await InFlightMarker.BeginAsync(repository, "other"))
        {
            refused = await Assert.ThrowsAsync<ConflictException>(() => new Repairer(repository).RepairAsync(readData: false));
            preview = await new Repairer(repository).RepairAsync(readData: false, dryRun: true);
        }

        Assert.Contains("push of run 'other'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("run 'baton repair' again", refused.Message, StringComparison.Ordinal);
        Assert.Single(preview.DroppedPacks);
        Assert.Equal(index, IndexObjects());
        var repaired = await new Repairer(repository).RepairAsync(readData: false);
        Assert.Single(repaired.DroppedPacks);
        Assert.NotEqual(index, IndexObjects());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_corrupt_index_object_is_damage_that_repair_reports_and_cannot_fix()
    {
        var repository = await PushedAsync();
        var index = IndexObjects().Single();
        var bytes = await File.ReadAllBytesAsync(index);
        bytes[bytes.Length / 2] ^= 0x01;
        await File.WriteAllBytesAsync(index, bytes);

        var report = await new Repairer(repository).RepairAsync(readData: true);

        Assert.False(report.IsRepaired);
        Assert.Contains(Path.GetFileName(index), Assert.Single(report.Unrepaired), StringComparison.Ordinal);
        Assert.Empty(report.DroppedPacks);
        Assert.NotEmpty(report.DamagedSnapshots);
    }

    public void Dispose() => _temp.Dispose();

    private async Task<Repository> PushedAsync()
    {
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "weights.bin"), 1_500_000, 21);
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        await repository.PushAsync(source, "r", new PushOptions { Step = 1 });
        return repository;
    }

    private List<string> IndexObjects() =>
        [.. Directory.EnumerateFiles(_temp.Combine("store", "index"), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];
}
