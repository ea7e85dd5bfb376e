using Azure.Storage.Blobs;

namespace Baton.Storage.Azure;

/// <summary>Settings of an <see cref="AzureBlobStore"/>. <see cref="AzureBlobStoreProvider"/> fills them from the address and environment.</summary>
public sealed record AzureBlobStoreOptions
{
    /// <summary>The account's blob service, with its credentials.</summary>
    public required BlobServiceClient Service { get; init; }

    /// <summary>The container.</summary>
    public required string Container { get; init; }

    /// <summary>The prefix every blob name goes under, without leading or trailing slash; empty for the container's root.</summary>
    public string Prefix { get; init; } = "";

    /// <summary>Whether a missing container is created on the first write.</summary>
    public bool CreateContainer { get; init; } = true;

    /// <summary>Blobs up to this size go up in one request; larger ones in blocks.</summary>
    public int SingleUploadLimit { get; init; } = 16 * 1024 * 1024;

    /// <summary>The size of each block of a larger blob.</summary>
    public int BlockSize { get; init; } = 8 * 1024 * 1024;

    /// <summary>Blocks of one blob uploaded at once.</summary>
    public int BlockConcurrency { get; init; } = 4;

    /// <summary>Transfers the store serves well at once (<see cref="StoreCapabilities.Concurrency"/>).</summary>
    public int Concurrency { get; init; } = 8;

    /// <summary>What the user should set when credentials are missing or refused.</summary>
    public string CredentialsHint { get; init; } =
        "check AZURE_STORAGE_CONNECTION_STRING (or AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN)";

    /// <summary>Creates a client with Baton's settings: no retries of its own (the store stack retries).</summary>
    public static BlobClientOptions ClientOptions()
    {
        var options = new BlobClientOptions();
        options.Retry.MaxRetries = 0;
        options.Retry.NetworkTimeout = TimeSpan.FromMinutes(5);
        options.Diagnostics.IsLoggingEnabled = false;
        options.Diagnostics.IsDistributedTracingEnabled = false;
        return options;
    }
}
