namespace Baton.Supervision.Preemption;

/// <summary>
/// Base addresses of the cloud metadata services. Each can be overridden by an environment variable
/// (<c>BATON_GCE_METADATA_URL</c>, <c>BATON_AWS_METADATA_URL</c>, <c>BATON_AZURE_METADATA_URL</c>), which is how tests
/// serve them from a loopback server.
/// </summary>
public sealed record PreemptionEndpoints
{
    /// <summary>GCE's metadata root (…/computeMetadata/v1).</summary>
    public Uri Gce { get; init; } = new("http://metadata.google.internal/computeMetadata/v1/");

    /// <summary>AWS's instance metadata service root.</summary>
    public Uri Aws { get; init; } = new("http://169.254.169.254/");

    /// <summary>Azure's instance metadata service root (…/metadata).</summary>
    public Uri Azure { get; init; } = new("http://169.254.169.254/metadata/");

    /// <summary>The defaults, with any environment overrides applied.</summary>
    public static PreemptionEndpoints FromEnvironment(Func<string, string?>? read = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        var defaults = new PreemptionEndpoints();
        return new PreemptionEndpoints
        {
            Gce = Parse(read("BATON_GCE_METADATA_URL")) ?? defaults.Gce,
            Aws = Parse(read("BATON_AWS_METADATA_URL")) ?? defaults.Aws,
            Azure = Parse(read("BATON_AZURE_METADATA_URL")) ?? defaults.Azure,
        };
    }

    private static Uri? Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return Uri.TryCreate(value.EndsWith('/') ? value : value + "/", UriKind.Absolute, out var uri)
            ? uri
            : throw new UsageException($"metadata address '{value}' is not an absolute http URL");
    }
}
