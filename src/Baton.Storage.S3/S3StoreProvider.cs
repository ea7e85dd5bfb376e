using System.Text.RegularExpressions;

namespace Baton.Storage.S3;

/// <summary>
/// Opens <c>s3://BUCKET/PREFIX</c> and <c>gs://BUCKET/PREFIX</c> stores, configured the way the AWS tools are:
/// credentials from the SDK's default chain (<c>AWS_ACCESS_KEY_ID</c>/<c>AWS_SECRET_ACCESS_KEY</c>, <c>AWS_PROFILE</c>,
/// instance roles), region from <c>AWS_REGION</c>, an S3-compatible endpoint from <c>AWS_ENDPOINT_URL_S3</c> or
/// <c>AWS_ENDPOINT_URL</c>. <c>gs://</c> goes to Cloud Storage's XML API with an HMAC key in the same variables.
/// <c>BATON_S3_ATOMIC_CREATE=true|false</c> states whether the server enforces create-if-absent.
/// </summary>
public sealed partial class S3StoreProvider(Func<string, string?>? environment = null) : IStoreProvider
{
    /// <summary>Cloud Storage's S3-interoperable endpoint.</summary>
    public const string GoogleEndpoint = "https://storage.googleapis.com";

    private readonly Func<string, string?> _environment = environment ?? Environment.GetEnvironmentVariable;

    /// <inheritdoc />
    public IReadOnlyList<string> Schemes { get; } = ["s3", "gs"];

    /// <inheritdoc />
    public IReadOnlyList<string> AddressForms { get; } = ["s3://BUCKET/PREFIX", "gs://BUCKET/PREFIX"];

    /// <inheritdoc />
    public IObjectStore Create(StoreUri uri) => new S3Store(OptionsFor(uri));

    /// <summary>The settings for an address, from the address itself and the environment.</summary>
    /// <exception cref="UsageException">The address or a setting is malformed.</exception>
    public S3StoreOptions OptionsFor(StoreUri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var google = uri.Scheme == "gs";
        var (bucket, prefix) = Parse(uri);
        var endpoint = google
            ? Url(Env("BATON_GS_ENDPOINT") ?? GoogleEndpoint, "BATON_GS_ENDPOINT")
            : Env("AWS_ENDPOINT_URL_S3") is { } s3Endpoint ? Url(s3Endpoint, "AWS_ENDPOINT_URL_S3")
            : Env("AWS_ENDPOINT_URL") is { } anyEndpoint ? Url(anyEndpoint, "AWS_ENDPOINT_URL")
            : null;
        return new S3StoreOptions
        {
            Bucket = bucket,
            Prefix = prefix,
            Scheme = uri.Scheme,
            Endpoint = endpoint,
            // Cloud Storage ignores the region in signatures; "auto" is what its documentation uses.
            Region = google ? "auto" : Env("AWS_REGION") ?? Env("AWS_DEFAULT_REGION"),
            // AWS S3 (since 2024) and Cloud Storage enforce conditional creates; other servers are not trusted to until
            // the user says so (s3rver, for one, ignores If-None-Match).
            AtomicCreate = Flag("BATON_S3_ATOMIC_CREATE") ?? (google || endpoint is null),
            CreateNewCondition = google ? CreateNewCondition.GoogleGenerationMatch : CreateNewCondition.IfNoneMatch,
            CredentialsHint = google
                ? "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to a Cloud Storage HMAC key (README: Credentials)"
                : "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE",
            EndpointHint = google
                ? "check the network"
                : "check AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL and the network",
        };
    }

    private static (string Bucket, string Prefix) Parse(StoreUri uri)
    {
        var body = uri.Body;
        if (!body.StartsWith("//", StringComparison.Ordinal))
        {
            throw new UsageException($"malformed store address '{uri.Redacted}': use {uri.Scheme}://BUCKET/PREFIX");
        }

        var rest = body[2..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var bucket = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? "" : rest[(slash + 1)..].Trim('/');
        if (!BucketName().IsMatch(bucket))
        {
            throw new UsageException(
                $"'{bucket}' in '{uri.Redacted}' is not a valid bucket name: 3 to 63 lower-case letters, digits, dots and hyphens");
        }

        if (prefix.Length > 0)
        {
            try
            {
                StoreKeys.Validate(prefix);
            }
            catch (ArgumentException e)
            {
                throw new UsageException($"invalid prefix '{prefix}' in '{uri.Redacted}': no empty, '.' or '..' segments", e);
            }
        }

        return (bucket, prefix);
    }

    private string? Env(string name) => _environment(name) is { Length: > 0 } value ? value.Trim() : null;

    private bool? Flag(string name) => Env(name)?.ToLowerInvariant() switch
    {
        null => null,
        "1" or "true" or "yes" or "on" => true,
        "0" or "false" or "no" or "off" => false,
        _ => throw new UsageException($"{name} must be true or false"),
    };

    private static Uri Url(string value, string variable) =>
        Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" && url.UserInfo.Length == 0
            ? url
            : throw new UsageException($"{variable} must be an http:// or https:// URL without credentials, such as https://s3.example.com");

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketName();
}
