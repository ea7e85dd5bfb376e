using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Baton.Storage;

/// <summary>How one check of <see cref="StoreProbe"/> went.</summary>
public enum ProbeOutcome
{
    /// <summary>The check passed.</summary>
    Ok,

    /// <summary>The store works, with a weaker guarantee worth knowing.</summary>
    Warning,

    /// <summary>The check failed: Baton cannot use the store safely as it is.</summary>
    Failed,

    /// <summary>Not tried, because an earlier check failed.</summary>
    Skipped,
}

/// <summary>The verdict of one check: its name, outcome and a one-line explanation.</summary>
/// <param name="Check">The check's short name, as <c>baton doctor</c> prints it (e.g. <c>store</c>).</param>
/// <param name="Outcome">Whether it passed, failed or was skipped.</param>
/// <param name="Detail">One line: what was found, or what is wrong and what to do.</param>
public sealed record ProbeVerdict(string Check, ProbeOutcome Outcome, string Detail);

/// <summary>Settings of <see cref="StoreProbe"/>.</summary>
public sealed record StoreProbeOptions
{
    /// <summary>Bytes written and read back to measure throughput; 0 skips the measurement.</summary>
    public int ThroughputBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>Writers racing to create the same object, per round.</summary>
    public int RaceWriters { get; init; } = 8;

    /// <summary>Rounds of racing writers.</summary>
    public int RaceRounds { get; init; } = 3;

    /// <summary>The clock durations are measured on.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

/// <summary>
/// Probes a store the way Baton will use it (reach, credentials, write, read, list, create-if-absent, throughput,
/// delete) and gives one verdict per check. Everything it writes lives under a fresh <c>.baton-doctor/</c> prefix
/// and is deleted at the end, whatever happened.
/// </summary>
/// <param name="store">The store to probe; not disposed by the probe.</param>
/// <param name="options">The probe's settings; <c>null</c>: the defaults.</param>
public sealed class StoreProbe(IObjectStore store, StoreProbeOptions? options = null)
{
    private const int ProbeSize = 256 * 1024;
    private readonly StoreProbeOptions _options = options ?? new StoreProbeOptions();
    private readonly string _prefix = RepositoryLayout.DoctorPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)) + "/";
    private readonly List<string> _written = [];

    /// <summary>The checks in order, each verdict as soon as it is known.</summary>
    public async IAsyncEnumerable<ProbeVerdict> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var capabilities = store.Capabilities;
        yield return new ProbeVerdict("store", ProbeOutcome.Ok,
            $"{store.Location}: claims atomic create-if-absent: {(capabilities.AtomicCreate ? "yes" : "no")}, concurrency {capabilities.Concurrency}");
        var probe = RandomNumberGenerator.GetBytes(ProbeSize);
        var steps = new List<(string Check, Func<CancellationToken, Task<ProbeVerdict[]>> Run)>
        {
            ("reach", ReachAsync),
            Single("write", ct => WriteAsync(probe, ct)),
            Single("read", ct => ReadAsync(probe, ct)),
            Single("list", ct => ListAsync(ct)),
            Single("create-if-absent", ct => CreateIfAbsentAsync(probe, ct)),
            Single("throughput", ct => ThroughputAsync(ct)),
        };
        try
        {
            var failed = false;
            foreach (var (check, run) in steps)
            {
                var verdicts = failed
                    ? [new ProbeVerdict(check, ProbeOutcome.Skipped, "not tried after the failure above")]
                    : await run(cancellationToken).ConfigureAwait(false);
                foreach (var verdict in verdicts)
                {
                    // A broken create-if-absent does not stop the other checks; a failure to reach, write or read does.
                    failed |= verdict.Outcome == ProbeOutcome.Failed && verdict.Check != "create-if-absent";
                    yield return verdict;
                }
            }
        }
        finally
        {
            // Clean up even when the caller stops early or a check threw.
            await DeleteAllAsync(CancellationToken.None).ConfigureAwait(false);
        }

        yield return await DeleteVerdictAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<ProbeVerdict[]> ReachAsync(CancellationToken cancellationToken)
    {
        var started = _options.TimeProvider.GetTimestamp();
        try
        {
            await store.ListAllAsync(_prefix, cancellationToken).ConfigureAwait(false);
            var ms = _options.TimeProvider.GetElapsedTime(started).TotalMilliseconds;
            return
            [
                new("reach", ProbeOutcome.Ok, $"the store answered a listing in {ms.ToString("0", CultureInfo.InvariantCulture)} ms"),
                new("credentials", ProbeOutcome.Ok, "accepted for listing"),
            ];
        }
        catch (StoreException e) when (e.Reason == StoreErrorReason.Unauthorized)
        {
            return
            [
                new("reach", ProbeOutcome.Skipped, "undecided: the credentials failed first"),
                new("credentials", ProbeOutcome.Failed, e.Message),
            ];
        }
        catch (StoreException e)
        {
            return
            [
                new("reach", ProbeOutcome.Failed, e.Message),
                new("credentials", ProbeOutcome.Skipped, "not tried: the store cannot be reached"),
            ];
        }
    }

    private async Task<ProbeVerdict> WriteAsync(byte[] probe, CancellationToken cancellationToken)
    {
        var key = _prefix + "object";
        var started = _options.TimeProvider.GetTimestamp();
        _written.Add(key);
        await store.PutAsync(key, probe, PutMode.CreateNew, cancellationToken).ConfigureAwait(false);
        return new("write", ProbeOutcome.Ok, $"created a {probe.Length / 1024} KiB probe object in {Ms(started)} ms");
    }

    private async Task<ProbeVerdict> ReadAsync(byte[] probe, CancellationToken cancellationToken)
    {
        var key = _prefix + "object";
        var whole = await store.ReadAllAsync(key, cancellationToken).ConfigureAwait(false);
        if (!whole.AsSpan().SequenceEqual(probe))
        {
            return new("read", ProbeOutcome.Failed, $"the probe object read back different bytes ({whole.Length} of {probe.Length}): the store corrupts data");
        }

        var range = await store.ReadRangeAsync(key, 1000, 5000, cancellationToken).ConfigureAwait(false);
        return range.AsSpan().SequenceEqual(probe.AsSpan(1000, 5000))
            ? new("read", ProbeOutcome.Ok, "read the probe object back whole and as a range, every byte verified")
            : new("read", ProbeOutcome.Failed, "a range read returned the wrong bytes: the store ignores byte ranges");
    }

    private async Task<ProbeVerdict> ListAsync(CancellationToken cancellationToken)
    {
        var listed = await store.ListAllAsync(_prefix, cancellationToken).ConfigureAwait(false);
        return listed.Any(i => i.Key == _prefix + "object" && i.Size == ProbeSize)
            ? new("list", ProbeOutcome.Ok, "the listing shows the probe object with its size")
            : new("list", ProbeOutcome.Failed, "the listing does not show the object just written: the store's listings lag behind its writes");
    }

    private async Task<ProbeVerdict> CreateIfAbsentAsync(byte[] probe, CancellationToken cancellationToken)
    {
        const string Check = "create-if-absent";
        var key = _prefix + "object";
        try
        {
            await store.PutAsync(key, new byte[] { 1, 2, 3 }, PutMode.CreateNew, cancellationToken).ConfigureAwait(false);
            return new(Check, ProbeOutcome.Failed,
                "an existing object was replaced by a create-if-absent write: the store does not keep Baton's commits apart");
        }
        catch (StoreException e) when (e.Reason == StoreErrorReason.AlreadyExists)
        {
            var kept = await store.ReadAllAsync(key, cancellationToken).ConfigureAwait(false);
            if (!kept.AsSpan().SequenceEqual(probe))
            {
                return new(Check, ProbeOutcome.Failed, "a refused create-if-absent write still changed the object");
            }
        }

        var rounds = Math.Max(1, _options.RaceRounds);
        var writers = Math.Max(2, _options.RaceWriters);
        var worst = 1;
        for (var round = 0; round < rounds; round++)
        {
            worst = Math.Max(worst, await RaceAsync(_prefix + "race-" + round.ToString(CultureInfo.InvariantCulture), writers, cancellationToken).ConfigureAwait(false));
        }

        var claimed = store.Capabilities.AtomicCreate;
        var race = $"{rounds} rounds of {writers} writers racing to create one object";
        return (worst == 1, claimed) switch
        {
            (true, true) => new(Check, ProbeOutcome.Ok, $"enforced by the store: {race} had one winner each"),
            (true, false) => new(Check, ProbeOutcome.Warning,
                $"{race} had one winner each, but the store does not claim atomic create-if-absent, so Baton checks before it writes (racy); see the store's settings in the README"),
            (false, true) => new(Check, ProbeOutcome.Failed,
                $"NOT enforced although the store claims it: up to {worst} of {writers} racing writers succeeded; two machines on one run could both commit"),
            (false, false) => new(Check, ProbeOutcome.Warning,
                $"not atomic, as the store says: up to {worst} of {writers} racing writers succeeded; run one writer per run at a time"),
        };
    }

    private async Task<int> RaceAsync(string key, int writers, CancellationToken cancellationToken)
    {
        _written.Add(key);
        var attempts = Enumerable.Range(0, writers).Select(async i =>
        {
            try
            {
                await store.PutAsync(key, BitConverter.GetBytes(i), PutMode.CreateNew, cancellationToken).ConfigureAwait(false);
                return 1;
            }
            catch (StoreException e) when (e.Reason == StoreErrorReason.AlreadyExists)
            {
                return 0;
            }
        });
        return (await Task.WhenAll(attempts).ConfigureAwait(false)).Sum();
    }

    private async Task<ProbeVerdict> ThroughputAsync(CancellationToken cancellationToken)
    {
        if (_options.ThroughputBytes <= 0)
        {
            return new("throughput", ProbeOutcome.Skipped, "not measured");
        }

        var key = _prefix + "throughput";
        var data = RandomNumberGenerator.GetBytes(_options.ThroughputBytes);
        _written.Add(key);
        var started = _options.TimeProvider.GetTimestamp();
        await store.PutAsync(key, data, PutMode.Overwrite, cancellationToken).ConfigureAwait(false);
        var write = _options.TimeProvider.GetElapsedTime(started);
        started = _options.TimeProvider.GetTimestamp();
        var back = await store.ReadAllAsync(key, cancellationToken).ConfigureAwait(false);
        var read = _options.TimeProvider.GetElapsedTime(started);
        if (!back.AsSpan().SequenceEqual(data))
        {
            return new("throughput", ProbeOutcome.Failed, "the throughput object read back different bytes: the store corrupts large objects");
        }

        var mib = data.Length / (1024.0 * 1024.0);
        return new("throughput", ProbeOutcome.Ok,
            $"{mib.ToString("0.#", CultureInfo.InvariantCulture)} MiB written at {Rate(mib, write)}, read at {Rate(mib, read)}");
    }

    private async Task DeleteAllAsync(CancellationToken cancellationToken)
    {
        foreach (var key in _written)
        {
            try
            {
                await store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreException)
            {
                // The verdict below reports what is left.
            }
        }
    }

    private async Task<ProbeVerdict> DeleteVerdictAsync(CancellationToken cancellationToken)
    {
        if (_written.Count == 0)
        {
            return new("delete", ProbeOutcome.Skipped, "nothing was written");
        }

        try
        {
            var left = await store.ListAllAsync(_prefix, cancellationToken).ConfigureAwait(false);
            return left.Count == 0
                ? new("delete", ProbeOutcome.Ok, "deleted every probe object")
                : new("delete", ProbeOutcome.Failed, $"{left.Count} probe object(s) under '{_prefix}' could not be deleted: delete them by hand");
        }
        catch (StoreException e)
        {
            return new("delete", ProbeOutcome.Failed, e.Message);
        }
    }

    // A check that gives one verdict, with its store failures turned into a failed verdict.
    private static (string, Func<CancellationToken, Task<ProbeVerdict[]>>) Single(string check, Func<CancellationToken, Task<ProbeVerdict>> run) =>
        (check, ct => OneAsync(check, run, ct));

    private static async Task<ProbeVerdict[]> OneAsync(string check, Func<CancellationToken, Task<ProbeVerdict>> run, CancellationToken cancellationToken)
    {
        try
        {
            return [await run(cancellationToken).ConfigureAwait(false)];
        }
        catch (StoreException e)
        {
            return [new ProbeVerdict(check, ProbeOutcome.Failed, e.Message)];
        }
    }

    private string Ms(long started) => _options.TimeProvider.GetElapsedTime(started).TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture);

    private static string Rate(double mib, TimeSpan elapsed) =>
        (mib / Math.Max(elapsed.TotalSeconds, 1e-6)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB/s";
}
