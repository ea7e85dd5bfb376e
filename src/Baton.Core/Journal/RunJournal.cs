using System.Globalization;
using System.Text.Json;
using Baton.Repositories;
using Baton.Storage;

namespace Baton.Journal;

/// <summary>
/// The legs of one run, stored beside its snapshots at <c>runs/RUN/legs/ID</c> in the metadata envelope. A leg is
/// written by its own supervisor only, so plain overwrites are enough; readers tolerate a leg that ends abruptly.
/// </summary>
public sealed class RunJournal
{
    private readonly Repository _repository;

    /// <summary>Opens the journal of <paramref name="run"/>.</summary>
    /// <exception cref="UsageException">The run name is invalid.</exception>
    public RunJournal(Repository repository, string run)
    {
        RepositoryLayout.ValidateRunName(run);
        _repository = repository;
        Run = run;
    }

    /// <summary>The run.</summary>
    public string Run { get; }

    /// <summary>The key prefix of the run's legs (under the run's folder, whose name is keyed when encrypted).</summary>
    public string Prefix => RepositoryLayout.LegsIn(_repository.RunPrefix(Run));

    /// <summary>A new, sortable leg id.</summary>
    public static string NewLegId(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        var now = timeProvider.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture);
        return $"{now}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3))}";
    }

    /// <summary>Writes (or rewrites) a leg.</summary>
    public async Task WriteAsync(Leg leg, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(leg);
        await MetadataStore.WriteAsync(_repository, Prefix + leg.Id, leg, JournalJson.Default.Leg, PutMode.Overwrite, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every leg of the run, oldest first.</summary>
    /// <exception cref="IntegrityException">A leg record is corrupt.</exception>
    public async Task<IReadOnlyList<Leg>> ListLegsAsync(CancellationToken cancellationToken = default)
    {
        var keys = await _repository.Store.ListAllAsync(Prefix, cancellationToken).ConfigureAwait(false);
        var legs = new List<Leg>();
        foreach (var info in keys)
        {
            var what = $"leg record '{info.Key}' in {_repository.Store.Location}";
            var (json, _) = MetadataEnvelope.Unwrap(await _repository.Store.ReadAllAsync(info.Key, cancellationToken).ConfigureAwait(false), what, _repository.Cipher);
            Repository.RefuseNewerVersion(json, MetadataStore.CurrentVersion, what, "format version");
            try
            {
                legs.Add(JsonSerializer.Deserialize(json, JournalJson.Default.Leg) ?? throw new IntegrityException($"{what} is corrupt: empty"));
            }
            catch (JsonException e)
            {
                throw new IntegrityException($"{what} is corrupt: {e.Message}", e);
            }
        }

        return [.. legs.OrderBy(l => l.Started).ThenBy(l => l.Id, StringComparer.Ordinal)];
    }
}
