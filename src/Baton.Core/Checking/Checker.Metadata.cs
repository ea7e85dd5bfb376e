using Baton.Encryption;
using Baton.Journal;
using Baton.Leases;
using Baton.Maintenance;
using Baton.Repositories;
using Baton.Retention;
using Baton.Storage;

namespace Baton.Checking;

/// <summary>
/// The objects beside index and manifests: every one is read and verified as the commands that use it read it, so
/// that an object that would stop a push, a prune or a take-over is reported by key instead of found by the failure.
/// </summary>
public sealed partial class Checker
{
    private async Task CheckMetadataAsync(CheckReport report, CancellationToken cancellationToken)
    {
        await CheckKeySlotsAsync(report, cancellationToken).ConfigureAwait(false);
        await CheckRecordsAsync(GarbageCollector.Prefix, MaintenanceJson.Default.CondemnedPacks, report, cancellationToken).ConfigureAwait(false);
        await CheckRecordsAsync(InFlightMarker.Prefix, MaintenanceJson.Default.InFlightRecord, report, cancellationToken).ConfigureAwait(false);

        var runFolders = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var info in await repository.Store.ListAllAsync(RepositoryLayout.RunsPrefix, cancellationToken).ConfigureAwait(false))
        {
            var rest = info.Key[RepositoryLayout.RunsPrefix.Length..];
            var parts = rest.Split('/');
            if (parts.Length > 1 && parts[1] is RepositoryLayout.PartsFolder or RepositoryLayout.ReadyFolder && parts.Length == (parts[1] == RepositoryLayout.PartsFolder ? 5 : 4))
            {
                // Multi-node parts and start-barrier records (docs/FORMAT.md, "Multi-node snapshots").
                if (parts[1] == RepositoryLayout.PartsFolder)
                {
                    await CheckRecordAsync(info.Key, Groups.GroupJson.Default.GroupPart, report, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await CheckRecordAsync(info.Key, Groups.GroupJson.Default.GroupReady, report, cancellationToken).ConfigureAwait(false);
                }

                runFolders.Add(RepositoryLayout.RunPrefix(parts[0]));
                continue;
            }

            if (parts.Length != 3 || parts[0].Length == 0 || parts[2].Length == 0)
            {
                report.Warnings.Add($"unexpected object '{info.Key}' under {RepositoryLayout.RunsPrefix}");
                continue;
            }

            runFolders.Add(RepositoryLayout.RunPrefix(parts[0]));
            switch (parts[1])
            {
                case RepositoryLayout.SnapshotsFolder:
                    break; // read by the snapshot check
                case RepositoryLayout.EpochsFolder:
                    await CheckRecordAsync(info.Key, LeaseJson.Default.LeaseClaim, report, cancellationToken).ConfigureAwait(false);
                    break;
                case RepositoryLayout.HeartbeatsFolder:
                    await CheckRecordAsync(info.Key, LeaseJson.Default.LeaseHeartbeat, report, cancellationToken).ConfigureAwait(false);
                    break;
                case RepositoryLayout.LegsFolder:
                    await CheckRecordAsync(info.Key, JournalJson.Default.Leg, report, cancellationToken).ConfigureAwait(false);
                    break;
                case RepositoryLayout.TagsFolder:
                    await CheckRecordAsync(info.Key, RetentionJson.Default.SnapshotTag, report, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    report.Warnings.Add($"unexpected object '{info.Key}' under {RepositoryLayout.RunsPrefix}");
                    break;
            }
        }

        foreach (var runPrefix in runFolders)
        {
            await CheckNewestCommitAsync(runPrefix, report, cancellationToken).ConfigureAwait(false);
            await CheckObsoletePartsAsync(runPrefix, report, cancellationToken).ConfigureAwait(false);
        }
    }

    // Parts of multi-node steps that can never be committed are harmless garbage (docs/FORMAT.md, "Multi-node snapshots").
    private async Task CheckObsoletePartsAsync(string runPrefix, CheckReport report, CancellationToken cancellationToken)
    {
        try
        {
            var (obsolete, _) = await Groups.GroupParts.ObsoletePartsAsync(repository, runPrefix, cancellationToken).ConfigureAwait(false);
            if (obsolete.Count > 0)
            {
                report.Warnings.Add(
                    $"{obsolete.Count} part(s) under '{RepositoryLayout.PartsIn(runPrefix)}' belong to multi-node steps that can never be committed (a newer step was, or their attempt was fenced): 'baton prune' deletes them");
            }
        }
        catch (BatonException e) when (IsDamage(e))
        {
            // The damaged manifest is reported by the snapshot check.
        }
    }

    private async Task CheckNewestCommitAsync(string runPrefix, CheckReport report, CancellationToken cancellationToken)
    {
        VanishedCommit? vanished;
        try
        {
            vanished = await CommitRecords.FindVanishedInAsync(repository, runPrefix, cancellationToken).ConfigureAwait(false);
        }
        catch (BatonException e) when (IsDamage(e))
        {
            return; // the damaged or newer heartbeat is reported by its own check
        }

        if (vanished is not null)
        {
            report.Errors.Add(
                $"snapshot manifest '{RepositoryLayout.SnapshotKeyIn(runPrefix, vanished.Sequence)}' is missing: '{vanished.RecordKey}' records that its writer committed it, " +
                $"and the newest manifest left is #{vanished.HighestPresent}");
        }
    }

    private async Task CheckRecordsAsync<T>(string prefix, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CheckReport report,
        CancellationToken cancellationToken)
        where T : class
    {
        foreach (var info in await repository.Store.ListAllAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            await CheckRecordAsync(info.Key, type, report, cancellationToken).ConfigureAwait(false);
        }
    }

    // Reads the object exactly as its users do (envelope, checksum, seal, version, shape).
    private async Task CheckRecordAsync<T>(string key, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CheckReport report,
        CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            await MetadataStore.TryReadAsync(repository, key, type, cancellationToken).ConfigureAwait(false);
        }
        catch (BatonException e) when (IsDamage(e))
        {
            report.Errors.Add(e.Message);
        }
    }

    private async Task CheckKeySlotsAsync(CheckReport report, CancellationToken cancellationToken)
    {
        foreach (var info in await repository.Store.ListAllAsync(RepositoryLayout.KeysPrefix, cancellationToken).ConfigureAwait(false))
        {
            byte[] data;
            try
            {
                data = await repository.Store.ReadAllAsync(info.Key, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreException e) when (e.Reason == StoreErrorReason.NotFound)
            {
                continue; // removed since the listing
            }

            if (!KeySlotStore.IsIntact(info.Key, data))
            {
                report.Errors.Add($"key '{info.Key}' in {repository.Store.Location} is damaged (or written by a newer baton): it opens nothing");
            }
        }
    }
}
