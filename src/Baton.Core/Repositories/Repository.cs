using System.Collections.Concurrent;
using System.Text.Json;
using Baton.Chunking;
using Baton.Encryption;
using Baton.Index;
using Baton.Storage;

namespace Baton.Repositories;

/// <summary>Settings used when a repository is opened or created.</summary>
public sealed record RepositoryOptions
{
    /// <summary>The clock; tests pass a fake one.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The host name written into snapshots.</summary>
    public string HostName { get; init; } = Environment.MachineName;

    /// <summary>Chunking parameters for a new repository (an existing one keeps its own).</summary>
    public ChunkerParameters Chunker { get; init; } = ChunkerParameters.Default;

    /// <summary>Target pack size for a new repository.</summary>
    public int PackSize { get; init; } = 32 * 1024 * 1024;

    /// <summary>The password or key file of an encrypted repository. Given when a repository is created, it makes the
    /// repository encrypted; an unencrypted repository refuses them (so that nobody believes it encrypted).</summary>
    public RepositoryCredentials? Credentials { get; init; }

    /// <summary>Argon2id cost of password keys in a new encrypted repository.</summary>
    public Argon2Parameters Argon2 { get; init; } = Argon2Parameters.Default;
}

/// <summary>
/// A snapshot repository on a store: config, packs, index and per-run manifests (docs/FORMAT.md). Thread-safe;
/// the operations that write (push) commit only through create-if-absent of a numbered manifest.
/// </summary>
public sealed class Repository
{
    private readonly Lazy<Chunker> _chunker;
    private readonly KeyRing? _keys;

    private Repository(IObjectStore store, RepositoryConfig config, RepositoryOptions options, (MasterKey Master, KeySlot Slot)? key = null)
    {
        Store = store;
        Config = config;
        Options = options;
        Cipher = key is { } opened ? new AesGcmCipher(opened.Master) : PlaintextCipher.Instance;
        _keys = key is { } k
            ? new KeyRing(store, config.Id, config.Encryption?.Kdf ?? Argon2Parameters.Default, options.HostName, options.TimeProvider, k.Master, k.Slot)
            : null;
        _chunker = new Lazy<Chunker>(() => new Chunker(Cipher.Chunker(config.Chunker)));
    }

    /// <summary>The store the repository lives in.</summary>
    public IObjectStore Store { get; }

    /// <summary>The repository's config object.</summary>
    public RepositoryConfig Config { get; }

    /// <summary>The options it was opened with.</summary>
    public RepositoryOptions Options { get; }

    /// <summary>The chunker the config prescribes.</summary>
    public Chunker Chunker => _chunker.Value;

    /// <summary>How objects are named and sealed: the identity for an unencrypted repository.</summary>
    public IRepositoryCipher Cipher { get; }

    /// <summary>The keys of an encrypted repository.</summary>
    /// <exception cref="UsageException">The repository is not encrypted.</exception>
    public KeyRing Keys => _keys ?? throw new UsageException(
        $"the repository at {Store.Location} is not encrypted, so it has no keys: encryption is chosen when a repository is created");

    /// <summary>The folder of a run's objects: <c>runs/NAME/</c>, or <c>runs/KEYED-HASH/</c> when encrypted.</summary>
    /// <exception cref="UsageException">The run name is invalid.</exception>
    public string RunPrefix(string run)
    {
        RepositoryLayout.ValidateRunName(run);
        return RepositoryLayout.RunPrefix(Cipher.NameInKeys(run));
    }

    /// <summary>Prefix of a run's snapshot manifests.</summary>
    public string SnapshotPrefix(string run) => RepositoryLayout.SnapshotsIn(RunPrefix(run));

    /// <summary>The key of a run's numbered snapshot manifest; the number makes create-if-absent a commit point.</summary>
    public string SnapshotKey(string run, long sequence) => RepositoryLayout.SnapshotKeyIn(RunPrefix(run), sequence);

    /// <summary>Opens an existing repository.</summary>
    /// <exception cref="UsageException">The store holds no repository.</exception>
    /// <exception cref="BatonException">The store holds things that are not a repository (<see cref="ErrorCategory.Access"/>), or the repository's format is newer than this build knows.</exception>
    /// <exception cref="StoreException">The store cannot be reached.</exception>
    public static async Task<Repository> OpenAsync(IObjectStore store, RepositoryOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RepositoryOptions();
        var config = await TryReadConfigAsync(store, cancellationToken).ConfigureAwait(false);
        if (config is null)
        {
            throw await DescribeContentsAsync(store, cancellationToken).ConfigureAwait(false) is { } found
                ? NotARepository(store, found)
                : new UsageException($"no Baton repository at {store.Location}: run 'baton init --store ...' or push to it to create one");
        }

        return await OpenWithConfigAsync(store, config, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates a repository in an empty store.</summary>
    /// <exception cref="UsageException">The store already holds a repository.</exception>
    /// <exception cref="BatonException">The store holds anything else (<see cref="ErrorCategory.Access"/>): nothing is written.</exception>
    public static async Task<Repository> InitAsync(IObjectStore store, RepositoryOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RepositoryOptions();
        if (await TryReadConfigAsync(store, cancellationToken).ConfigureAwait(false) is not null)
        {
            throw new UsageException($"{store.Location} already holds a Baton repository");
        }

        if (await DescribeContentsAsync(store, cancellationToken).ConfigureAwait(false) is { } found)
        {
            throw NotARepository(store, found);
        }

        var id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var encrypted = options.Credentials is not null;
        var config = new RepositoryConfig
        {
            Id = id,
            Created = options.TimeProvider.GetUtcNow(),
            Chunker = encrypted ? options.Chunker with { Seed = 0 } : options.Chunker,
            Hash = encrypted ? "hmac-sha256" : "sha256",
            PackSize = options.PackSize,
            Encryption = encrypted ? new EncryptionConfig { Cipher = AesGcmCipher.Name, Kdf = options.Argon2 } : null,
        };

        // The key first, then the config: a repository is never there without a key that opens it.
        (MasterKey Master, KeySlot Slot)? key = null;
        if (options.Credentials is { } credentials)
        {
            var master = MasterKey.Generate();
            key = (master, await KeySlotStore.AddAsync(store, id, master, credentials, options.Argon2, options.HostName, config.Created, cancellationToken)
                .ConfigureAwait(false));
        }

        var bytes = JsonSerializer.SerializeToUtf8Bytes(config, BatonJson.Indented.RepositoryConfig);
        try
        {
            await store.PutAsync(RepositoryLayout.ConfigKey, bytes, PutMode.CreateNew, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreException e) when (e.Reason == StoreErrorReason.AlreadyExists)
        {
            // Another process created it at the same moment: use theirs (our key belongs to no repository).
            if (key is { } unused)
            {
                await store.DeleteAsync(RepositoryLayout.KeySlotKey(unused.Slot.Id), cancellationToken).ConfigureAwait(false);
            }

            return await OpenAsync(store, options, cancellationToken).ConfigureAwait(false);
        }

        return new Repository(store, config, options, key);
    }

    /// <summary>Opens the repository, creating it first when the store is empty or does not exist yet.</summary>
    public static async Task<Repository> OpenOrInitAsync(IObjectStore store, RepositoryOptions? options = null, CancellationToken cancellationToken = default)
    {
        var config = await TryReadConfigAsync(store, cancellationToken).ConfigureAwait(false);
        if (config is not null)
        {
            return await OpenWithConfigAsync(store, config, options ?? new RepositoryOptions(), cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await InitAsync(store, options, cancellationToken).ConfigureAwait(false);
        }
        catch (BatonException e) when (e.Category == ErrorCategory.Access)
        {
            // Another process may have been creating the repository meanwhile: what looked foreign was its half-written config.
            if (await TryReadConfigAsync(store, cancellationToken).ConfigureAwait(false) is { } created)
            {
                return await OpenWithConfigAsync(store, created, options ?? new RepositoryOptions(), cancellationToken).ConfigureAwait(false);
            }

            throw;
        }
    }

    private static async Task<Repository> OpenWithConfigAsync(IObjectStore store, RepositoryConfig config, RepositoryOptions options, CancellationToken cancellationToken)
    {
        if (config.Encryption is null)
        {
            return options.Credentials is { } given
                ? throw new UsageException(
                    $"the repository at {store.Location} is not encrypted, yet {given} was given: encryption is chosen when a repository is created; drop the password or key file to use this one")
                : new Repository(store, config, options);
        }

        if (options.Credentials is not { } credentials)
        {
            throw new BatonException(ErrorCategory.Access,
                $"the repository at {store.Location} is encrypted: give its password with --password-file FILE or BATON_PASSWORD, or its key with --key-file FILE");
        }

        var key = await KeySlotStore.UnlockAsync(store, config.Id, credentials, cancellationToken).ConfigureAwait(false);
        return new Repository(store, config, options, key);
    }

    /// <summary>Reads and merges every index object; a blob indexed in several packs is found in one the store holds.</summary>
    /// <exception cref="IntegrityException">An index object is corrupt.</exception>
    public async Task<MasterIndex> LoadIndexAsync(CancellationToken cancellationToken = default)
    {
        var files = await ReadAllIndexFilesAsync(cancellationToken).ConfigureAwait(false);
        var index = new MasterIndex(await StoredPacks.ListAsync(Store, cancellationToken).ConfigureAwait(false));
        foreach (var (_, file) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            index.Add(file);
        }

        return index;
    }

    /// <summary>
    /// Reads and merges every index object, leaving out the packs <paramref name="excludedPacks"/> names (a writer's
    /// view: see <c>GarbageCollector.LoadIndexForWritingAsync</c>).
    /// </summary>
    internal async Task<MasterIndex> LoadIndexExcludingAsync(IReadOnlySet<ContentId> excludedPacks, CancellationToken cancellationToken)
    {
        var files = await ReadAllIndexFilesAsync(cancellationToken).ConfigureAwait(false);
        var index = new MasterIndex(await StoredPacks.ListAsync(Store, cancellationToken).ConfigureAwait(false));
        foreach (var (_, file) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            index.Add(file with { Packs = file.Packs.Where(p => !excludedPacks.Contains(ContentId.Parse(p.Id))).ToList() });
        }

        return index;
    }

    /// <summary>Reads every index object, keyed by object key.</summary>
    /// <exception cref="IntegrityException">An index object is corrupt.</exception>
    public async Task<IReadOnlyDictionary<string, IndexFile>> ReadAllIndexFilesAsync(CancellationToken cancellationToken = default)
    {
        var keys = await Store.ListAllAsync(RepositoryLayout.IndexPrefix, cancellationToken).ConfigureAwait(false);
        var result = new ConcurrentDictionary<string, IndexFile>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(keys, ParallelOptions(cancellationToken), async (info, ct) =>
        {
            result[info.Key] = await ReadIndexFileAsync(info.Key, ct).ConfigureAwait(false);
        }).ConfigureAwait(false);
        return result;
    }

    /// <summary>Reads one index object.</summary>
    /// <exception cref="IntegrityException">It is corrupt.</exception>
    public async Task<IndexFile> ReadIndexFileAsync(string key, CancellationToken cancellationToken = default)
    {
        var what = $"index object '{key}' in {Store.Location}";
        var data = await Store.ReadAllAsync(key, cancellationToken).ConfigureAwait(false);
        var (json, _) = MetadataEnvelope.Unwrap(data, what, Cipher);
        RefuseNewerVersion(json, 1, what, "index version");
        var file = Deserialize(json, BatonJson.Default.IndexFile, what);
        foreach (var pack in file.Packs)
        {
            if (!ContentId.TryParse(pack.Id, out _) || pack.Blobs.Any(b => !ContentId.TryParse(b.Id, out _)))
            {
                throw new IntegrityException($"{what} is corrupt: malformed id");
            }
        }

        return file;
    }

    /// <summary>Names of the runs that have at least one snapshot, sorted.</summary>
    /// <exception cref="IntegrityException">In an encrypted repository, a manifest that names the run is corrupt.</exception>
    public async Task<IReadOnlyList<string>> ListRunsAsync(CancellationToken cancellationToken = default)
    {
        var folders = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        await foreach (var info in Store.ListAsync(RepositoryLayout.RunsPrefix, cancellationToken).ConfigureAwait(false))
        {
            var rest = info.Key[RepositoryLayout.RunsPrefix.Length..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            if (slash > 0 && rest[(slash + 1)..].StartsWith(RepositoryLayout.SnapshotsFolder + "/", StringComparison.Ordinal))
            {
                (folders.TryGetValue(rest[..slash], out var keys) ? keys : folders[rest[..slash]] = []).Add(info.Key);
            }
        }

        if (!Cipher.IsEncrypted)
        {
            return [.. folders.Keys];
        }

        // Encrypted: folders are keyed hashes of the names, and the names are inside the (sealed) manifests.
        var runs = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(folders.Values, ParallelOptions(cancellationToken), async (keys, ct) =>
        {
            if (await ReadAnySnapshotAsync(keys, ct).ConfigureAwait(false) is { } snapshot)
            {
                runs.Add(snapshot.Run);
            }
        }).ConfigureAwait(false);
        return [.. runs.Distinct().Order(StringComparer.Ordinal)];
    }

    // The first of a run's manifests that still exists (a prune may be deleting old ones meanwhile).
    private async Task<Snapshot?> ReadAnySnapshotAsync(List<string> keys, CancellationToken cancellationToken)
    {
        foreach (var key in keys)
        {
            try
            {
                return await ReadSnapshotAsync(key, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreException e) when (e.Reason == StoreErrorReason.NotFound)
            {
            }
        }

        return null;
    }

    /// <summary>The committed snapshots of a run, oldest first.</summary>
    /// <exception cref="IntegrityException">A manifest is corrupt.</exception>
    public async Task<IReadOnlyList<Snapshot>> ListSnapshotsAsync(string run, CancellationToken cancellationToken = default)
    {
        var keys = await Store.ListAllAsync(SnapshotPrefix(run), cancellationToken).ConfigureAwait(false);
        var result = new ConcurrentBag<Snapshot>();
        await Parallel.ForEachAsync(keys, ParallelOptions(cancellationToken), async (info, ct) =>
        {
            result.Add(await ReadSnapshotAsync(info.Key, ct).ConfigureAwait(false));
        }).ConfigureAwait(false);
        return [.. result.Where(s => !s.Manifest.Fence).OrderBy(s => s.Sequence)];
    }

    /// <summary>The highest sequence number of a run (fences included) and its newest snapshot, reading one manifest.</summary>
    internal async Task<(long LastSequence, Snapshot? Latest)> ReadHeadAsync(string run, CancellationToken cancellationToken)
    {
        var prefix = SnapshotPrefix(run);
        var sequences = (await Store.ListAllAsync(prefix, cancellationToken).ConfigureAwait(false))
            .Select(i => long.TryParse(i.Key.AsSpan(prefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0)
            .Where(n => n > 0).OrderDescending().ToList();
        foreach (var sequence in sequences)
        {
            var snapshot = await ReadSnapshotAsync(SnapshotKey(run, sequence), cancellationToken).ConfigureAwait(false);
            if (!snapshot.Manifest.Fence)
            {
                return (sequences[0], snapshot);
            }
        }

        return (sequences.Count > 0 ? sequences[0] : 0, null);
    }

    /// <summary>Writes a fence after the run's last manifest (see <c>Leases.WriterLease</c>).</summary>
    internal async Task WriteFenceAsync(string run, long epoch, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var (last, _) = await ReadHeadAsync(run, cancellationToken).ConfigureAwait(false);
            var fence = new SnapshotManifest
            {
                Run = run,
                Sequence = last + 1,
                Created = Options.TimeProvider.GetUtcNow(),
                Host = Options.HostName,
                Epoch = epoch,
                Fence = true,
                Entries = [],
            };
            try
            {
                await CommitAsync(fence, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (ConflictException) when (attempt < 20)
            {
                // The old writer committed at that very number: its snapshot stands, and the fence goes after it.
            }
        }
    }

    /// <summary>The committed snapshots of every run.</summary>
    public async Task<IReadOnlyList<Snapshot>> ListAllSnapshotsAsync(CancellationToken cancellationToken = default)
    {
        var all = new List<Snapshot>();
        foreach (var run in await ListRunsAsync(cancellationToken).ConfigureAwait(false))
        {
            all.AddRange(await ListSnapshotsAsync(run, cancellationToken).ConfigureAwait(false));
        }

        return all;
    }

    /// <summary>
    /// Finds a snapshot: by id (prefix) when given, else the newest of <paramref name="run"/>, or the newest with
    /// <paramref name="step"/>. Returns <c>null</c> when the run has no matching snapshot.
    /// </summary>
    /// <exception cref="UsageException">The id matches no snapshot or several.</exception>
    public async Task<Snapshot?> FindSnapshotAsync(string? run, long? step = null, string? id = null, CancellationToken cancellationToken = default)
    {
        if (id is not null)
        {
            var candidates = run is null
                ? await ListAllSnapshotsAsync(cancellationToken).ConfigureAwait(false)
                : await ListSnapshotsAsync(run, cancellationToken).ConfigureAwait(false);
            var matches = candidates.Where(s => s.Id.StartsWith(id, StringComparison.OrdinalIgnoreCase)).ToList();
            return matches.Count switch
            {
                1 => matches[0],
                0 => throw new UsageException($"no snapshot with id '{id}' in {Store.Location}: 'baton ls' lists them"),
                _ => throw new UsageException($"snapshot id '{id}' is ambiguous: give more digits"),
            };
        }

        RepositoryLayout.ValidateRunName(run);
        if (step is null)
        {
            // The newest needs one manifest, not all of them.
            return (await ReadHeadAsync(run!, cancellationToken).ConfigureAwait(false)).Latest;
        }

        var snapshots = await ListSnapshotsAsync(run!, cancellationToken).ConfigureAwait(false);
        return snapshots.LastOrDefault(s => s.Manifest.Step == step);
    }

    /// <summary>Reads one manifest.</summary>
    /// <exception cref="IntegrityException">It is corrupt.</exception>
    public async Task<Snapshot> ReadSnapshotAsync(string key, CancellationToken cancellationToken = default)
    {
        var what = $"snapshot manifest '{key}' in {Store.Location}";
        var data = await Store.ReadAllAsync(key, cancellationToken).ConfigureAwait(false);
        var (json, digest) = MetadataEnvelope.Unwrap(data, what, Cipher);
        RefuseNewerVersion(json, 1, what, "manifest version");
        var manifest = Deserialize(json, BatonJson.Default.SnapshotManifest, what);

        // Not SnapshotKey(): a corrupt manifest's run name is data to compare, not input to validate.
        if (RepositoryLayout.SnapshotKeyIn(RepositoryLayout.RunPrefix(Cipher.NameInKeys(manifest.Run ?? "")), manifest.Sequence) != key)
        {
            throw new IntegrityException($"{what} is corrupt: it claims to be snapshot {manifest.Sequence} of run '{manifest.Run}'");
        }

        ManifestValidator.Validate(manifest, what);
        return new Snapshot(digest.ToShortString(), manifest);
    }

    internal async Task<long> WriteIndexAsync(IndexFile file, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(file, BatonJson.Default.IndexFile);
        var data = MetadataEnvelope.Wrap(json, Cipher);
        await Store.PutAsync(RepositoryLayout.IndexKey(ContentId.Compute(data)), data, PutMode.Overwrite, cancellationToken).ConfigureAwait(false);
        return data.Length;
    }

    /// <summary>The commit point: create-if-absent of the numbered manifest.</summary>
    internal async Task<Snapshot> CommitAsync(SnapshotManifest manifest, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(manifest, BatonJson.Default.SnapshotManifest);
        var data = MetadataEnvelope.Wrap(json, Cipher);
        var key = SnapshotKey(manifest.Run, manifest.Sequence);
        try
        {
            await Store.PutAsync(key, data, PutMode.CreateNew, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreException e) when (e.Reason == StoreErrorReason.AlreadyExists)
        {
            throw new ConflictException(
                $"another writer committed snapshot {manifest.Sequence} of run '{manifest.Run}' first: nothing was committed by this push", e);
        }

        return new Snapshot(MetadataEnvelope.DigestOf(data).ToShortString(), manifest);
    }

    internal ParallelOptions ParallelOptions(CancellationToken cancellationToken) => new()
    {
        MaxDegreeOfParallelism = Math.Max(2, Store.Capabilities.Concurrency),
        CancellationToken = cancellationToken,
    };

    // Read before the whole object: a newer version may have a shape this build cannot bind, and must say "upgrade".
    internal static void RefuseNewerVersion(byte[] json, int newestKnown, string what, string kind)
    {
        if (PeekVersion(json) is { } version && version > newestKnown)
        {
            throw new BatonException(ErrorCategory.Failure, $"{what} has {kind} {version}, newer than this baton reads ({newestKnown}): upgrade baton");
        }
    }

    private static int? PeekVersion(byte[] json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("version", out var version)
                && version.TryGetInt32(out var number) ? number : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static T Deserialize<T>(byte[] json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(json, type) ?? throw new IntegrityException($"{what} is corrupt: empty");
        }
        catch (JsonException e)
        {
            throw new IntegrityException($"{what} is corrupt: {e.Message}", e);
        }
    }

    private static async Task<RepositoryConfig?> TryReadConfigAsync(IObjectStore store, CancellationToken cancellationToken)
    {
        byte[] data;
        try
        {
            data = await store.ReadAllAsync(RepositoryLayout.ConfigKey, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreException e) when (e.Reason == StoreErrorReason.NotFound)
        {
            return null;
        }

        // Format and version first: a newer config may not bind to this build's type, and must still say "upgrade".
        if (!IsBatonConfig(data))
        {
            throw new UsageException($"{store.Location} holds a 'config' that is not a Baton repository config: choose another location");
        }

        if (PeekVersion(data) is { } version && version > RepositoryConfig.CurrentVersion)
        {
            throw new BatonException(ErrorCategory.Failure,
                $"the repository at {store.Location} has format version {version}, newer than this baton reads ({RepositoryConfig.CurrentVersion}): upgrade baton");
        }

        RepositoryConfig config;
        try
        {
            config = JsonSerializer.Deserialize(data, BatonJson.Default.RepositoryConfig)
                ?? throw new JsonException("empty");
            config.Chunker.Validate();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            throw new IntegrityException($"the repository config at {store.Location} is corrupt: {e.Message}", e);
        }

        if (config.Encryption is { } encryption && encryption.Cipher != AesGcmCipher.Name)
        {
            throw new BatonException(ErrorCategory.Failure,
                $"the repository at {store.Location} is encrypted with '{encryption.Cipher}', which this baton cannot read: upgrade baton");
        }

        if (config.Hash != (config.Encryption is null ? "sha256" : "hmac-sha256"))
        {
            throw new BatonException(ErrorCategory.Failure,
                $"the repository at {store.Location} names chunks with '{config.Hash}', which this baton does not know: upgrade baton");
        }

        return config;
    }

    private static bool IsBatonConfig(byte[] data)
    {
        try
        {
            using var document = JsonDocument.Parse(data);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("format", out var format)
                && format.ValueKind == JsonValueKind.String && format.GetString() == "baton-repository";
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static BatonException NotARepository(IObjectStore store, string found) => new(ErrorCategory.Access,
        $"{store.Location} is not empty and not a Baton repository (it holds {found} and no 'config'): give an empty or missing folder, or remove what is there");

    // What makes the store unfit for a new repository, or null when it may become one: only a truly empty store may.
    // Key slots without a config are what an interrupted creation of an encrypted repository leaves (they open
    // nothing); anything else under keys/ is someone else's.
    private static async Task<string?> DescribeContentsAsync(IObjectStore store, CancellationToken cancellationToken)
    {
        await foreach (var info in store.ListAsync("", cancellationToken).ConfigureAwait(false))
        {
            if (!KeySlotStore.IsSlotKey(info.Key))
            {
                return $"'{info.Key}'";
            }
        }

        return await store.FindUnlistedEntryAsync(cancellationToken).ConfigureAwait(false);
    }
}
