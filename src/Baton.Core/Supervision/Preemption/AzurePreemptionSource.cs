using System.Text.Json;

namespace Baton.Supervision.Preemption;

/// <summary>
/// Azure: Scheduled Events (<c>scheduledevents?api-version=2020-07-01</c>) lists <c>Preempt</c> events for spot VMs
/// (30 s ahead) and <c>Terminate</c>, <c>Reboot</c> and <c>Redeploy</c> events that would also end the trainer.
/// </summary>
/// <param name="http">The client to call the metadata service with; not disposed by the source.</param>
/// <param name="baseAddress">The metadata service's base address (<see cref="PreemptionEndpoints.Azure"/>), ending in <c>/</c>.</param>
public sealed class AzurePreemptionSource(HttpClient http, Uri baseAddress) : IPreemptionSource
{
    private static readonly string[] Fatal = ["Preempt", "Terminate", "Reboot", "Redeploy"];

    /// <inheritdoc />
    public string Name => "azure";

    /// <inheritdoc />
    public async Task<string?> CheckAsync(CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseAddress, "scheduledevents?api-version=2020-07-01"));
        request.Headers.Add("Metadata", "true");
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"Azure metadata answered {(int)response.StatusCode}");
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var json = JsonDocument.Parse(body);
            if (!json.RootElement.TryGetProperty("Events", out var events) || events.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            foreach (var e in events.EnumerateArray())
            {
                var type = e.TryGetProperty("EventType", out var t) ? t.GetString() : null;
                if (type is not null && Fatal.Contains(type, StringComparer.OrdinalIgnoreCase))
                {
                    var notBefore = e.TryGetProperty("NotBefore", out var n) ? n.GetString() : null;
                    return $"Azure schedules a {type} event{(string.IsNullOrEmpty(notBefore) ? "" : " not before " + notBefore)}";
                }
            }

            return null;
        }
        catch (JsonException e)
        {
            throw new HttpRequestException($"Azure metadata answered something that is not JSON: {e.Message}", e);
        }
    }
}
