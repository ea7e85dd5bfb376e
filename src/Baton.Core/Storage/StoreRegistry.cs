namespace Baton.Storage;

/// <summary>Creates a store for the schemes it handles.</summary>
public interface IStoreProvider
{
    /// <summary>The URI schemes this provider handles, lower case (e.g. <c>s3</c>).</summary>
    IReadOnlyList<string> Schemes { get; }

    /// <summary>The address forms this provider takes, for help and messages (e.g. <c>s3://BUCKET/PREFIX</c>).</summary>
    IReadOnlyList<string> AddressForms => [.. Schemes.Select(s => s + "://...")];

    /// <summary>Creates a store for <paramref name="uri"/>. Cheap: no I/O until the store is used.</summary>
    /// <exception cref="UsageException">The address or a setting is malformed.</exception>
    /// <exception cref="StoreException">Credentials are missing altogether (<see cref="StoreErrorReason.Unauthorized"/>).</exception>
    IObjectStore Create(StoreUri uri);
}

/// <summary>Maps URI schemes to store providers. The command line registers each store explicitly.</summary>
public sealed class StoreRegistry
{
    private readonly Dictionary<string, IStoreProvider> _providers = new(StringComparer.Ordinal);

    /// <summary>Adds a provider for each of its schemes.</summary>
    public StoreRegistry Register(IStoreProvider provider)
    {
        foreach (var scheme in provider.Schemes)
        {
            _providers[scheme] = provider;
        }

        return this;
    }

    /// <summary>The schemes that can be opened.</summary>
    public IEnumerable<string> Schemes => _providers.Keys.Order(StringComparer.Ordinal);

    /// <summary>Every address form of the registered providers, in the order they were registered.</summary>
    public IEnumerable<string> AddressForms => _providers.Values.Distinct().SelectMany(p => p.AddressForms).Distinct(StringComparer.Ordinal);

    /// <summary>Opens the store an address names.</summary>
    /// <exception cref="UsageException">The scheme is unknown or the address malformed.</exception>
    public IObjectStore Open(string address)
    {
        var uri = StoreUri.Parse(address);
        if (!_providers.TryGetValue(uri.Scheme, out var provider))
        {
            throw new UsageException(
                $"unknown store scheme '{uri.Scheme}:' in '{uri.Redacted}': use a folder path or one of {string.Join(", ", Schemes.Select(s => s + ":"))}");
        }

        return provider.Create(uri);
    }
}
