using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Repositories;

public sealed class RepositoryTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 30_000)]
    public async Task A_repository_created_once_opens_with_the_same_settings()
    {
        var path = _temp.Combine("store");
        var created = await TestRepositories.CreateAsync(path);

        var opened = await Repository.OpenAsync(new FolderStore(path));

        Assert.Equal(created.Config, opened.Config);
        Assert.Equal(TestRepositories.Small.Chunker, opened.Config.Chunker);
        Assert.Equal(RepositoryConfig.CurrentVersion, opened.Config.Version);
    }

    [Fact(Timeout = 30_000)]
    public async Task Init_refuses_a_store_that_already_holds_a_repository_or_other_files()
    {
        var path = _temp.Combine("store");
        await TestRepositories.CreateAsync(path);
        var again = await Assert.ThrowsAsync<UsageException>(() => Repository.InitAsync(new FolderStore(path)));
        Assert.Contains("already holds a Baton repository", again.Message, StringComparison.Ordinal);

        var other = _temp.Combine("other");
        Directory.CreateDirectory(other);
        await File.WriteAllTextAsync(Path.Combine(other, "notes.txt"), "mine");
        var refused = await Assert.ThrowsAsync<BatonException>(() => Repository.OpenOrInitAsync(new FolderStore(other)));
        Assert.Contains("not a Baton repository", refused.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorCategory.Access, refused.Category);
        Assert.Equal(["notes.txt"], Directory.EnumerateFileSystemEntries(other).Select(Path.GetFileName));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_missing_or_empty_store_is_no_repository_yet()
    {
        var error = await Assert.ThrowsAsync<UsageException>(() => Repository.OpenAsync(new FolderStore(_temp.Combine("nothing"))));
        Assert.Contains("no Baton repository", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_temp.Combine("nothing")));
    }

    [Theory(Timeout = 30_000)]
    [InlineData("""{"format":"baton-repository","version":2,"id":"x","chunker":{"minSize":1,"averageSize":2,"maxSize":3,"seed":4}}""")]
    [InlineData("""{"format":"baton-repository","version":7,"layout":{"whatever":"a later version may look entirely different"}}""")]
    public async Task A_config_from_a_newer_version_asks_for_an_upgrade(string config)
    {
        var path = _temp.Combine("store");
        Directory.CreateDirectory(path);
        await File.WriteAllTextAsync(Path.Combine(path, "config"), config);

        var error = await Assert.ThrowsAsync<BatonException>(() => Repository.OpenAsync(new FolderStore(path)));

        Assert.Equal(ErrorCategory.Failure, error.Category);
        Assert.Contains("upgrade baton", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("{\"hello\": 1}")]
    [InlineData("not json at all")]
    [InlineData("[1, 2]")]
    public async Task A_config_that_is_not_a_baton_config_is_a_usage_error(string config)
    {
        var path = _temp.Combine("store");
        Directory.CreateDirectory(path);
        await File.WriteAllTextAsync(Path.Combine(path, "config"), config);

        var error = await Assert.ThrowsAsync<UsageException>(() => Repository.OpenAsync(new FolderStore(path)));

        Assert.Contains("not a Baton repository config", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_baton_config_with_impossible_chunk_sizes_is_corrupt()
    {
        var path = _temp.Combine("store");
        await TestRepositories.CreateAsync(path);
        var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(path, "config")))!;
        config["chunker"]!["averageSize"] = 1000; // not a power of two
        await File.WriteAllTextAsync(Path.Combine(path, "config"), config.ToJsonString());

        var error = await Assert.ThrowsAsync<IntegrityException>(() => Repository.OpenAsync(new FolderStore(path)));

        Assert.Contains("config", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_manifest_from_a_newer_version_asks_for_an_upgrade()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var json = Encoding.UTF8.GetBytes("""{"version":2,"run":"r","sequence":1,"entries":"a later version may change the shape"}""");
        await repository.Store.PutAsync(RepositoryLayout.SnapshotKey("r", 1), MetadataEnvelope.Wrap(json), PutMode.CreateNew);

        var error = await Assert.ThrowsAsync<BatonException>(() => repository.ListSnapshotsAsync("r"));

        Assert.Equal(ErrorCategory.Failure, error.Category);
        Assert.Contains("upgrade baton", error.Message, StringComparison.Ordinal);
        Assert.Contains("runs/r/snapshots/0000000001", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task An_index_from_a_newer_version_asks_for_an_upgrade()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var data = MetadataEnvelope.Wrap(Encoding.UTF8.GetBytes("""{"version":3,"packs":{"a later":"shape"}}"""));
        await repository.Store.PutAsync(RepositoryLayout.IndexKey(ContentId.Compute(data)), data, PutMode.CreateNew);

        var error = await Assert.ThrowsAsync<BatonException>(() => repository.LoadIndexAsync());

        Assert.Contains("upgrade baton", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_manifest_stored_under_another_name_is_corrupt()
    {
        var repository = await TestRepositories.CreateAsync(_temp.Combine("store"));
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "a"), 10, 1);
        await repository.PushAsync(source, "r");
        var stored = await repository.Store.ReadAllAsync(RepositoryLayout.SnapshotKey("r", 1));
        await repository.Store.PutAsync(RepositoryLayout.SnapshotKey("other", 5), stored, PutMode.CreateNew);

        var error = await Assert.ThrowsAsync<IntegrityException>(() => repository.ListSnapshotsAsync("other"));

        Assert.Contains("runs/other/snapshots/0000000005", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("../up")]
    [InlineData(".hidden")]
    [InlineData("")]
    [InlineData("with space")]
    [InlineData("evil\n")]
    public void Run_names_that_are_not_plain_names_are_refused(string run) =>
        Assert.Throws<UsageException>(() => RepositoryLayout.ValidateRunName(run));

    [Theory]
    [InlineData("sketch-eye")]
    [InlineData("run_1.2")]
    [InlineData("A")]
    public void Plain_run_names_are_accepted(string run) => RepositoryLayout.ValidateRunName(run);

    [Fact]
    public void The_config_is_written_as_readable_json()
    {
        var config = new RepositoryConfig { Id = "abc", Chunker = TestRepositories.Small.Chunker };
        var json = JsonSerializer.Serialize(config, BatonJson.Indented.RepositoryConfig);
        Assert.Contains("\"format\": \"baton-repository\"", json, StringComparison.Ordinal);
        Assert.Contains("\"version\": 1", json, StringComparison.Ordinal);
        Assert.Equal(config, JsonSerializer.Deserialize(json, BatonJson.Default.RepositoryConfig));
    }

    public void Dispose() => _temp.Dispose();
}
