using Baton.Repositories;

namespace Baton.Retention;

/// <summary>Named snapshots (<c>runs/RUN/tags/NAME</c>), which retention keeps forever.</summary>
/// <param name="repository">The opened repository to work on.</param>
public sealed class SnapshotTags(Repository repository)
{
    /// <summary>Tags a snapshot; an existing tag of that name moves to it.</summary>
    public async Task<SnapshotTag> TagAsync(Snapshot snapshot, string name, CancellationToken cancellationToken = default)
    {
        ValidateName(name);

        // Moving a tag rewrites its object: one a newer baton wrote is refused here (upgrade), never overwritten; a
        // damaged one is replaced.
        try
        {
            _ = await MetadataStore.TryReadAsync(repository, KeyOf(snapshot.Run, name), RetentionJson.Default.SnapshotTag, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (IntegrityException)
        {
        }

        var tag = new SnapshotTag
        {
            Name = name,
            Run = snapshot.Run,
            SnapshotId = snapshot.Id,
            Sequence = snapshot.Sequence,
            Created = repository.Options.TimeProvider.GetUtcNow(),
        };
        await MetadataStore.WriteAsync(repository, KeyOf(snapshot.Run, name), tag, RetentionJson.Default.SnapshotTag, Storage.PutMode.Overwrite, cancellationToken)
            .ConfigureAwait(false);
        return tag;
    }

    /// <summary>Removes a tag; returns false when there was none.</summary>
    public async Task<bool> UntagAsync(string run, string name, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        var key = KeyOf(run, name);
        if (await repository.Store.StatAsync(key, cancellationToken).ConfigureAwait(false) is null)
        {
            return false;
        }

        await repository.Store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The run's tags.</summary>
    public async Task<IReadOnlyList<SnapshotTag>> ListAsync(string run, CancellationToken cancellationToken = default)
    {
        var tags = new List<SnapshotTag>();
        foreach (var info in await Storage.ObjectStoreExtensions.ListAllAsync(repository.Store, Prefix(run), cancellationToken).ConfigureAwait(false))
        {
            var tag = await MetadataStore.TryReadAsync(repository, info.Key, RetentionJson.Default.SnapshotTag, cancellationToken).ConfigureAwait(false);
            if (tag is not null)
            {
                tags.Add(tag);
            }
        }

        return [.. tags.OrderBy(t => t.Name, StringComparer.Ordinal)];
    }

    private string Prefix(string run) => RepositoryLayout.TagsIn(repository.RunPrefix(run));

    // Tag names are the user's words: an encrypted repository keys them by a keyed hash, as it does run names.
    private string KeyOf(string run, string name) => Prefix(run) + repository.Cipher.NameInKeys(name);

    private static void ValidateName(string name)
    {
        try
        {
            RepositoryLayout.ValidateRunName(name);
        }
        catch (UsageException)
        {
            throw new UsageException($"invalid tag name '{name}': use 1 to 128 letters, digits, '.', '_' or '-'");
        }
    }
}
