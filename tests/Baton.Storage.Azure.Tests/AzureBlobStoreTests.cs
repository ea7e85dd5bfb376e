using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;

namespace Baton.Storage.Azure.Tests;

[Collection("azurite")]
public sealed class AzureBlobStoreTests(AzuriteFixture azurite)
{
    [Fact(Timeout = 60_000)]
    public async Task A_missing_container_reads_as_empty_and_is_created_by_the_first_write()
    {
        var container = "fresh-" + Guid.NewGuid().ToString("N")[..8];
        await using var store = new AzureBlobStore(azurite.Options(container, "runs"));
        Assert.Empty(await store.ListAllAsync(""));
        Assert.Null(await store.StatAsync("config"));
        Assert.Equal(StoreErrorReason.NotFound, (await Assert.ThrowsAsync<StoreException>(() => store.ReadAllAsync("config"))).Reason);
        await store.DeleteAsync("config");

        await store.PutAsync("config", new byte[] { 7 }, PutMode.CreateNew);
        Assert.True((await new BlobServiceClient(azurite.ConnectionString()).GetBlobContainerClient(container).ExistsAsync()).Value);
        Assert.Equal(new byte[] { 7 }, await store.ReadAllAsync("config"));
    }

    [Fact(Timeout = 60_000)]
    public async Task Blobs_live_under_the_prefix_and_a_large_one_is_committed_from_blocks()
    {
        var options = azurite.Options("layout", "runs/" + Guid.NewGuid().ToString("N")[..8]) with { SingleUploadLimit = 4 * 1024 * 1024, BlockSize = 4 * 1024 * 1024 };
        await using var store = new AzureBlobStore(options);
        var data = new byte[10 * 1024 * 1024 + 3];
        new Random(5).NextBytes(data);
        await store.PutAsync("data/pack", data, PutMode.Overwrite);

        var blob = new BlobServiceClient(azurite.ConnectionString()).GetBlobContainerClient("layout").GetBlockBlobClient(options.Prefix + "/data/pack");
        var blocks = await blob.GetBlockListAsync();
        Assert.Equal(3, blocks.Value.CommittedBlocks.Count());
        var back = await store.ReadAllAsync("data/pack");
        Assert.True(data.AsSpan().SequenceEqual(back));
    }
}

public sealed class AzureBlobStoreProviderTests
{
    [Fact]
    public void An_account_and_key_address_the_account_s_blob_endpoint()
    {
        var options = Options("az://checkpoints/runs/exp1", new() { ["AZURE_STORAGE_ACCOUNT"] = "myaccount", ["AZURE_STORAGE_KEY"] = Convert.ToBase64String(new byte[32]) });

        Assert.Equal("checkpoints", options.Container);
        Assert.Equal("runs/exp1", options.Prefix);
        Assert.Equal(new Uri("https://myaccount.blob.core.windows.net/"), options.Service.Uri);
        Assert.Equal("az://checkpoints/runs/exp1", new AzureBlobStore(options).Location);
    }

    [Fact]
    public void The_connection_string_wins_over_account_settings()
    {
        var options = Options("az://checkpoints", new()
        {
            ["AZURE_STORAGE_CONNECTION_STRING"] = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteFixture.AccountKey};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;",
            ["AZURE_STORAGE_ACCOUNT"] = "otheraccount",
            ["AZURE_STORAGE_SAS_TOKEN"] = "sv=2020-08-04&sig=abc",
        });

        Assert.Equal("devstoreaccount1", options.Service.AccountName);
        Assert.Equal("", options.Prefix);
    }

    [Fact]
    public void No_credentials_at_all_is_an_access_error_naming_the_variables()
    {
        var error = Assert.Throws<StoreException>(() => Options("az://checkpoints/p", []));
        Assert.Equal(StoreErrorReason.Unauthorized, error.Reason);
        Assert.Contains("AZURE_STORAGE_CONNECTION_STRING", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("az:checkpoints")]
    [InlineData("az://Checkpoints/p")]
    [InlineData("az://ab/p")]
    [InlineData("az://double--hyphen/p")]
    [InlineData("az://checkpoints/a/../b")]
    public void A_malformed_address_is_a_usage_error(string address)
    {
        Assert.Throws<UsageException>(() => Options(address, new() { ["AZURE_STORAGE_ACCOUNT"] = "myaccount", ["AZURE_STORAGE_SAS_TOKEN"] = "sv=1&sig=x" }));
    }

    private static AzureBlobStoreOptions Options(string address, Dictionary<string, string?> environment) =>
        new AzureBlobStoreProvider(environment.GetValueOrDefault).OptionsFor(StoreUri.Parse(address));
}
