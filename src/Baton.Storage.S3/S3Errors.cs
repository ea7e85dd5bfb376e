using System.Net;
using Amazon.Runtime;
using Amazon.S3;

namespace Baton.Storage.S3;

/// <summary>
/// Turns the SDK's exceptions into <see cref="StoreException"/>s with the right reason and a one-line message that
/// names the store and what to do. Messages are built from error codes only, never from the SDK's text, which can
/// echo request details.
/// </summary>
internal static class S3Errors
{
    private static readonly HashSet<string> CredentialCodes = new(StringComparer.Ordinal)
    {
        "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired",
        "InvalidSecurity", "AuthorizationHeaderMalformed", "MissingSecurityHeader",
    };

    private static readonly HashSet<string> TransientCodes = new(StringComparer.Ordinal)
    {
        "SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "RequestTimeTooSkewed", "Throttling",
        "ThrottlingException", "OperationAborted", "ConditionalRequestConflict", "RequestLimitExceeded",
    };

    private static readonly HashSet<string> FullCodes = new(StringComparer.Ordinal)
    {
        "QuotaExceeded", "XMinioStorageFull", "StorageFull", "InsufficientStorage", "TooManyBuckets",
    };

    public static bool IsNoSuchBucket(Exception e) => e is AmazonS3Exception { ErrorCode: "NoSuchBucket" };

    public static bool IsNotFound(Exception e) =>
        e is AmazonS3Exception s3 && (s3.StatusCode == HttpStatusCode.NotFound || s3.ErrorCode is "NoSuchKey" or "NotFound");

    public static bool IsPreconditionFailed(Exception e) =>
        e is AmazonS3Exception s3 && (s3.StatusCode == HttpStatusCode.PreconditionFailed || s3.ErrorCode == "PreconditionFailed");

    public static bool IsInvalidRange(Exception e) =>
        e is AmazonS3Exception s3 && (s3.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable || s3.ErrorCode == "InvalidRange");

    /// <summary>Classifies a failure of <paramref name="operation"/> on <paramref name="key"/> (or the bucket when null).</summary>
    public static StoreException Classify(Exception e, S3StoreOptions options, string location, string where, string? key, string operation)
    {
        var what = key is null ? $"{operation} in {where}" : $"{operation} '{key}' in {where}";
        if (e is AmazonServiceException { StatusCode: not 0 } service)
        {
            var code = string.IsNullOrEmpty(service.ErrorCode) ? "HTTP " + (int)service.StatusCode : service.ErrorCode;
            var reason = ReasonOf(service.StatusCode, code);
            var message = reason switch
            {
                StoreErrorReason.NotFound => $"{what} failed: not found ({code})",
                StoreErrorReason.Unauthorized when CredentialCodes.Contains(code) || service.StatusCode == HttpStatusCode.Unauthorized =>
                    $"{where} refused the credentials ({code}): {options.CredentialsHint}",
                StoreErrorReason.Unauthorized => $"access denied: {what} ({code}): the credentials lack permission for it; {options.CredentialsHint}",
                StoreErrorReason.Full => $"{what} failed: the store is full or over quota ({code})",
                _ => $"{what} failed: {code} (HTTP {(int)service.StatusCode})",
            };
            return new StoreException(reason, location, key, message, e);
        }

        if (NetworkFailures.Classify(e) is var (netReason, netWhat))
        {
            return netReason == StoreErrorReason.Unreachable
                ? new StoreException(netReason, location, key, $"cannot reach {where}: {netWhat}; {options.EndpointHint}", e)
                : new StoreException(netReason, location, key, $"{what} failed: {netWhat}", e);
        }

        // The SDK checks a body against the checksum (or MD5 ETag) the store keeps for it: a mismatch that survives
        // the retries is a damaged object, not a failure of the store.
        if (e is AmazonClientException && IsChecksumMismatch(e.Message))
        {
            return new StoreException(StoreErrorReason.Corrupt, location, key,
                $"{what} failed: its bytes do not match the checksum {where} keeps for it: the stored object is damaged", e);
        }

        if (e is AmazonClientException && e.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase))
        {
            return new StoreException(StoreErrorReason.Unauthorized, location, key, $"no credentials found for {where}: {options.CredentialsHint}", e);
        }

        if (e is AmazonClientException && e.Message.Contains("RegionEndpoint", StringComparison.Ordinal))
        {
            return new StoreException(StoreErrorReason.Unreachable, location, key, $"no region for {where}: set AWS_REGION", e);
        }

        return new StoreException(StoreErrorReason.Permanent, location, key, $"{what} failed: {e.GetType().Name}", e);
    }

    private static bool IsChecksumMismatch(string message) =>
        message.Contains("hash", StringComparison.OrdinalIgnoreCase) || message.Contains("checksum", StringComparison.OrdinalIgnoreCase)
        || message.Contains("CRC", StringComparison.Ordinal);

    private static StoreErrorReason ReasonOf(HttpStatusCode status, string code) => code switch
    {
        "NoSuchKey" or "NoSuchBucket" or "NotFound" => StoreErrorReason.NotFound,
        "PreconditionFailed" => StoreErrorReason.AlreadyExists,
        "AccessDenied" or "AllAccessDisabled" or "AccountProblem" => StoreErrorReason.Unauthorized,
        _ when CredentialCodes.Contains(code) => StoreErrorReason.Unauthorized,
        _ when TransientCodes.Contains(code) => StoreErrorReason.Transient,
        _ when FullCodes.Contains(code) => StoreErrorReason.Full,
        _ => (int)status switch
        {
            404 => StoreErrorReason.NotFound,
            412 => StoreErrorReason.AlreadyExists,
            401 or 403 => StoreErrorReason.Unauthorized,
            408 or 429 or >= 500 and not 501 and not 507 => StoreErrorReason.Transient,
            507 => StoreErrorReason.Full,
            _ => StoreErrorReason.Permanent,
        },
    };
}
