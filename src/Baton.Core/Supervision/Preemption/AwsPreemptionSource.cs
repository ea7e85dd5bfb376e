using System.Net;
using System.Text.Json;

namespace Baton.Supervision.Preemption;

/// <summary>
/// AWS: <c>latest/meta-data/spot/instance-action</c> answers 404 until a spot interruption is scheduled (two minutes
/// ahead), then <c>{"action": "terminate", "time": ...}</c>. Uses an IMDSv2 session token when the service issues
/// one, and IMDSv1 otherwise.
/// </summary>
/// <param name="http">The client to call the metadata service with; not disposed by the source.</param>
/// <param name="baseAddress">The metadata service's base address (<see cref="PreemptionEndpoints.Aws"/>), ending in <c>/</c>.</param>
public sealed class AwsPreemptionSource(HttpClient http, Uri baseAddress) : IPreemptionSource
{
    private string? _token;

    /// <inheritdoc />
    public string Name => "aws";

    /// <inheritdoc />
    public async Task<string?> CheckAsync(CancellationToken cancellationToken = default)
    {
        _token ??= await TryTokenAsync(cancellationToken).ConfigureAwait(false);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseAddress, "latest/meta-data/spot/instance-action"));
        if (_token is not null)
        {
            request.Headers.Add("X-aws-ec2-metadata-token", _token);
        }

        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            _token = null; // expired session token: fetch a new one next time
            throw new HttpRequestException("AWS metadata refused the session token");
        }

        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"AWS metadata answered {(int)response.StatusCode}");
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var json = JsonDocument.Parse(body);
            var action = json.RootElement.TryGetProperty("action", out var a) ? a.GetString() : null;
            var time = json.RootElement.TryGetProperty("time", out var t) ? t.GetString() : null;
            return $"AWS schedules a spot interruption ({action ?? "terminate"}{(time is null ? "" : " at " + time)})";
        }
        catch (JsonException)
        {
            return "AWS schedules a spot interruption";
        }
    }

    private async Task<string?> TryTokenAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(baseAddress, "latest/api/token"));
        request.Headers.Add("X-aws-ec2-metadata-token-ttl-seconds", "21600");
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return response.IsSuccessStatusCode ? (await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)).Trim() : null;
    }
}
