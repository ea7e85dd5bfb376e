using Baton.Leases;
using Baton.Maintenance;
using Baton.Repositories;

namespace Baton.Snapshots;

/// <summary>
/// Push and restore on a <see cref="Repository"/>. They live here, above the repository layer, because a push takes
/// a writer lease and an in-flight marker (docs/DESIGN.md, "Layers"); callers still write <c>repository.PushAsync</c>.
/// </summary>
public static class RepositoryTransfers
{
    /// <summary>Pushes a directory as a new snapshot of <paramref name="run"/>.</summary>
    /// <exception cref="CheckpointChangedException">A file changed while it was read; nothing was committed.</exception>
    /// <exception cref="ConflictException">Another writer committed the same sequence number first.</exception>
    public static async Task<Snapshot> PushAsync(this Repository repository, string directory, string run, PushOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        RepositoryLayout.ValidateRunName(run);
        options ??= new PushOptions();
        WriterLease? ownLease = null;
        if (options.Lease is null)
        {
            ownLease = await WriterLease.AcquireAsync(repository, run, new LeaseOptions { TakeOver = options.TakeOver, Holder = "baton push" }, cancellationToken)
                .ConfigureAwait(false);
            options = options with { Lease = ownLease };
        }
        else if (options.Lease.Run != run)
        {
            throw new ArgumentException($"the lease is for run '{options.Lease.Run}', not '{run}'", nameof(options));
        }

        try
        {
            await using var marker = await InFlightMarker.BeginAsync(repository, run, cancellationToken).ConfigureAwait(false);
            return await new Archiver(repository, options, marker).PushAsync(directory, run, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (ownLease is not null)
            {
                await ownLease.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Restores a snapshot into <paramref name="directory"/>, verifying every byte.</summary>
    /// <exception cref="IntegrityException">Data is missing or corrupt, or the snapshot would write outside the directory.</exception>
    public static Task<RestoreResult> RestoreAsync(this Repository repository, Snapshot snapshot, string directory, RestoreOptions? options = null,
        CancellationToken cancellationToken = default) =>
        new Restorer(repository, options ?? new RestoreOptions()).RestoreAsync(snapshot, directory, cancellationToken);
}
