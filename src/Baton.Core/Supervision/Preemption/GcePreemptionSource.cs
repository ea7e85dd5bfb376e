namespace Baton.Supervision.Preemption;

/// <summary>
/// GCE: <c>instance/preempted</c> turns <c>TRUE</c> on a preemption notice (spot and preemptible VMs, about 30 s
/// ahead); <c>instance/maintenance-event</c> names a coming host maintenance that terminates the VM.
/// </summary>
/// <param name="http">The client to call the metadata service with; not disposed by the source.</param>
/// <param name="baseAddress">The metadata service's base address (<see cref="PreemptionEndpoints.Gce"/>), ending in <c>/</c>.</param>
public sealed class GcePreemptionSource(HttpClient http, Uri baseAddress) : IPreemptionSource
{
    /// <inheritdoc />
    public string Name => "gce";

    /// <inheritdoc />
    public async Task<string?> CheckAsync(CancellationToken cancellationToken = default)
    {
        var preempted = await GetAsync("instance/preempted", required: true, cancellationToken).ConfigureAwait(false);
        if (string.Equals(preempted?.Trim(), "TRUE", StringComparison.OrdinalIgnoreCase))
        {
            return "GCE says this instance is being preempted";
        }

        var maintenance = await GetAsync("instance/maintenance-event", required: false, cancellationToken).ConfigureAwait(false);
        return maintenance?.Trim() is { } value && value.Contains("TERMINATE", StringComparison.OrdinalIgnoreCase)
            ? $"GCE announces host maintenance ({value})"
            : null;
    }

    private async Task<string?> GetAsync(string path, bool required, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseAddress, path));
        request.Headers.Add("Metadata-Flavor", "Google");
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            return required ? throw new HttpRequestException($"GCE metadata answered {(int)response.StatusCode}") : null;
        }

        return await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
    }
}
