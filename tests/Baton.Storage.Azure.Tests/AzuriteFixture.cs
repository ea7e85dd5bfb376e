using System.Globalization;
using Baton.Testing;

namespace Baton.Storage.Azure.Tests;

/// <summary>One real Azurite blob service (npm) on a free loopback port for the whole collection.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    /// <summary>Azurite's well-known development account and key (public, documented by Azurite).</summary>
    public const string Account = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly TempDirectory _data = new("baton-azurite-");
    private ServerProcess? _server;

    public ServerProcess Server => _server ?? throw new InvalidOperationException("Azurite is not running");

    /// <summary>The connection string for this server, with <paramref name="key"/> as the account key.</summary>
    public string ConnectionString(string key = AccountKey) =>
        $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={key};BlobEndpoint=http://127.0.0.1:{Server.Port}/{Account};";

    public async Task InitializeAsync()
    {
        var port = FreePort.Next();
        // Azurite 3.37 refuses the API version of Azure.Storage.Blobs 12.30 unless told not to check it.
        _server = await ServerProcess.StartAsync("Azurite", RepositoryRoot.NodeTool("azurite-blob"),
            ["--blobHost", "127.0.0.1", "--blobPort", port.ToString(CultureInfo.InvariantCulture), "--location", _data.Path, "--silent", "--skipApiVersionCheck"],
            port);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _data.Dispose();
    }

    /// <summary>Options for a store in <paramref name="container"/> under <paramref name="prefix"/> on this server.</summary>
    public AzureBlobStoreOptions Options(string container, string prefix) =>
        new AzureBlobStoreProvider(Environment).OptionsFor(Storage.StoreUri.Parse($"az://{container}/{prefix}"));

    /// <summary>A store under a fresh prefix of a shared container.</summary>
    public AzureBlobStore CreateStore(string container = "conformance") => new(Options(container, "t-" + Guid.NewGuid().ToString("N")[..12]));

    /// <summary>The environment for a baton process that talks to this server.</summary>
    public Dictionary<string, string?> CliEnvironment(string? connectionString = null) => new()
    {
        ["AZURE_STORAGE_CONNECTION_STRING"] = connectionString ?? ConnectionString(),
        ["AZURE_STORAGE_ACCOUNT"] = null,
        ["AZURE_STORAGE_KEY"] = null,
        ["AZURE_STORAGE_SAS_TOKEN"] = null,
    };

    private string? Environment(string name) => name == "AZURE_STORAGE_CONNECTION_STRING" ? ConnectionString() : null;
}

[CollectionDefinition("azurite")]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>;
