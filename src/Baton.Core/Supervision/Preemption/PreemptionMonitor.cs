namespace Baton.Supervision.Preemption;

/// <summary>
/// Polls one cloud's metadata service for a preemption notice. <c>auto</c> asks each cloud once and keeps the one
/// that answers; on a machine outside any cloud none answers and notices are off.
/// </summary>
public sealed class PreemptionMonitor
{
    /// <summary>The values <c>--preemption</c> takes.</summary>
    public const string Kinds = "gce, aws, azure, auto or none";

    private readonly IPreemptionSource _source;
    private readonly TimeSpan _interval;
    private readonly ISupervisorLog _log;
    private readonly TimeProvider _timeProvider;

    private PreemptionMonitor(IPreemptionSource source, TimeSpan interval, ISupervisorLog log, TimeProvider timeProvider)
    {
        _source = source;
        _interval = interval;
        _log = log;
        _timeProvider = timeProvider;
    }

    /// <summary>The cloud being watched.</summary>
    public string Cloud => _source.Name;

    /// <summary>Checks that <paramref name="kind"/> is one of <see cref="Kinds"/>.</summary>
    /// <exception cref="UsageException">It is not.</exception>
    public static string ValidateKind(string kind) => kind is "gce" or "aws" or "azure" or "auto" or "none"
        ? kind
        : throw new UsageException($"unknown --preemption '{kind}': use {Kinds}");

    /// <summary>Creates the monitor for <paramref name="kind"/>; <c>null</c> for <c>none</c>, or when <c>auto</c> found no cloud.</summary>
    public static async Task<PreemptionMonitor?> CreateAsync(string kind, HttpClient http, PreemptionEndpoints endpoints, TimeSpan interval,
        ISupervisorLog log, TimeProvider timeProvider, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(log);
        IPreemptionSource Source(string name) => name switch
        {
            "gce" => new GcePreemptionSource(http, endpoints.Gce),
            "aws" => new AwsPreemptionSource(http, endpoints.Aws),
            _ => new AzurePreemptionSource(http, endpoints.Azure),
        };

        switch (ValidateKind(kind))
        {
            case "none":
                return null;
            case "auto":
                foreach (var name in new[] { "gce", "aws", "azure" })
                {
                    var source = Source(name);
                    try
                    {
                        await source.CheckAsync(cancellationToken).ConfigureAwait(false);
                        log.Info($"watching {name} preemption notices");
                        return new PreemptionMonitor(source, interval, log, timeProvider);
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                    }
                }

                log.Info("no cloud metadata service answered: preemption notices are off");
                return null;
            default:
                log.Info($"watching {kind} preemption notices");
                return new PreemptionMonitor(Source(kind), interval, log, timeProvider);
        }
    }

    /// <summary>Polls until a notice arrives (returned) or <paramref name="cancellationToken"/> ends the watch.</summary>
    public async Task<string> WaitForNoticeAsync(CancellationToken cancellationToken)
    {
        var failures = 0;
        while (true)
        {
            try
            {
                if (await _source.CheckAsync(cancellationToken).ConfigureAwait(false) is { } notice)
                {
                    return notice;
                }

                failures = 0;
            }
            catch (Exception e) when ((e is HttpRequestException or TaskCanceledException) && !cancellationToken.IsCancellationRequested)
            {
                // One warning per outage, not one per poll.
                if (failures++ == 0)
                {
                    _log.Warn($"{_source.Name} metadata service did not answer ({e.Message}); still polling");
                }
            }

            await Task.Delay(_interval, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }
}
