using System.Text.RegularExpressions;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;

namespace Baton.Storage.Azure;

/// <summary>
/// Opens <c>az://CONTAINER/PREFIX</c> stores. The account and its credentials come from
/// <c>AZURE_STORAGE_CONNECTION_STRING</c> (what the portal's "Access keys" page and Azurite give), or from
/// <c>AZURE_STORAGE_ACCOUNT</c> with <c>AZURE_STORAGE_KEY</c> or <c>AZURE_STORAGE_SAS_TOKEN</c> (the Azure CLI's
/// names).
/// </summary>
public sealed partial class AzureBlobStoreProvider(Func<string, string?>? environment = null) : IStoreProvider
{
    private readonly Func<string, string?> _environment = environment ?? Environment.GetEnvironmentVariable;

    /// <inheritdoc />
    public IReadOnlyList<string> Schemes { get; } = ["az"];

    /// <inheritdoc />
    public IReadOnlyList<string> AddressForms { get; } = ["az://CONTAINER/PREFIX"];

    /// <inheritdoc />
    /// <exception cref="StoreException">No credentials are set (<see cref="StoreErrorReason.Unauthorized"/>).</exception>
    public IObjectStore Create(StoreUri uri) => new AzureBlobStore(OptionsFor(uri));

    /// <summary>The settings for an address, from the address itself and the environment.</summary>
    public AzureBlobStoreOptions OptionsFor(StoreUri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var (container, prefix) = Parse(uri);
        return new AzureBlobStoreOptions { Service = Service(uri), Container = container, Prefix = prefix };
    }

    private BlobServiceClient Service(StoreUri uri)
    {
        var options = AzureBlobStoreOptions.ClientOptions();
        if (Env("AZURE_STORAGE_CONNECTION_STRING") is { } connectionString)
        {
            try
            {
                return new BlobServiceClient(connectionString, options);
            }
            catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
            {
                // The parser's message can quote the string, which holds the account key: say only what is wrong.
                throw new UsageException("AZURE_STORAGE_CONNECTION_STRING is not a valid connection string: copy it from the storage account's Access keys page", e);
            }
        }

        if (Env("AZURE_STORAGE_ACCOUNT") is { } account)
        {
            if (!AccountName().IsMatch(account))
            {
                throw new UsageException("AZURE_STORAGE_ACCOUNT must be a storage account name: 3 to 24 lower-case letters and digits");
            }

            var url = new Uri($"https://{account}.blob.core.windows.net");
            if (Env("AZURE_STORAGE_KEY") is { } key)
            {
                return new BlobServiceClient(url, new StorageSharedKeyCredential(account, key), options);
            }

            if (Env("AZURE_STORAGE_SAS_TOKEN") is { } sas)
            {
                return new BlobServiceClient(url, new AzureSasCredential(sas), options);
            }
        }

        throw new StoreException(StoreErrorReason.Unauthorized, uri.Redacted, null,
            $"no Azure credentials for {uri.Redacted}: set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN");
    }

    private static (string Container, string Prefix) Parse(StoreUri uri)
    {
        if (!uri.Body.StartsWith("//", StringComparison.Ordinal))
        {
            throw new UsageException($"malformed store address '{uri.Redacted}': use az://CONTAINER/PREFIX");
        }

        var rest = uri.Body[2..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var container = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? "" : rest[(slash + 1)..].Trim('/');
        if (!ContainerName().IsMatch(container) || container.Contains("--", StringComparison.Ordinal))
        {
            throw new UsageException(
                $"'{container}' in '{uri.Redacted}' is not a valid container name: 3 to 63 lower-case letters, digits and single hyphens");
        }

        if (prefix.Length > 0)
        {
            try
            {
                StoreKeys.Validate(prefix);
            }
            catch (ArgumentException e)
            {
                throw new UsageException($"invalid prefix '{prefix}' in '{uri.Redacted}': no empty, '.' or '..' segments", e);
            }
        }

        return (container, prefix);
    }

    private string? Env(string name) => _environment(name) is { Length: > 0 } value ? value.Trim() : null;

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")]
    private static partial Regex ContainerName();

    [GeneratedRegex("^[a-z0-9]{3,24}$")]
    private static partial Regex AccountName();
}
