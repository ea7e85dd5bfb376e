using Azure;
using Azure.Storage.Blobs.Models;

namespace Baton.Storage.Azure;

/// <summary>
/// Turns the SDK's exceptions into <see cref="StoreException"/>s with the right reason and a one-line message naming
/// the store and what to do. Messages use the error code and status only: the SDK's own text holds the whole
/// response.
/// </summary>
internal static class AzureErrors
{
    public static bool IsContainerMissing(Exception e) =>
        e is RequestFailedException { ErrorCode: var code } && code == BlobErrorCode.ContainerNotFound;

    public static bool IsNotFound(Exception e) => e is RequestFailedException { Status: 404 };

    public static bool IsAlreadyExists(Exception e) =>
        e is RequestFailedException { Status: 409 or 412, ErrorCode: var code }
        && (code == BlobErrorCode.BlobAlreadyExists || code == BlobErrorCode.ConditionNotMet || code is null);

    public static StoreException Classify(Exception e, AzureBlobStoreOptions options, string location, string where, string? key, string operation)
    {
        var what = key is null ? $"{operation} in {where}" : $"{operation} '{key}' in {where}";
        if (e is RequestFailedException { Status: not 0 } failed)
        {
            var code = failed.ErrorCode ?? "HTTP " + failed.Status;
            var (reason, message) = failed.Status switch
            {
                404 => (StoreErrorReason.NotFound, $"{what} failed: not found ({code})"),
                401 => (StoreErrorReason.Unauthorized, $"{where} refused the credentials ({code}): {options.CredentialsHint}"),
                403 when code == BlobErrorCode.AuthenticationFailed => (StoreErrorReason.Unauthorized,
                    $"{where} refused the credentials ({code}): {options.CredentialsHint}"),
                403 => (StoreErrorReason.Unauthorized, $"access denied: {what} ({code}): the credentials lack permission for it; {options.CredentialsHint}"),
                408 or 429 or 500 or 502 or 503 or 504 => (StoreErrorReason.Transient, $"{what} failed: {code} (HTTP {failed.Status})"),
                409 when code == BlobErrorCode.ContainerBeingDeleted => (StoreErrorReason.Transient, $"{what} failed: {code}"),
                _ when code.Contains("Quota", StringComparison.Ordinal) || code.Contains("LimitExceeded", StringComparison.Ordinal)
                    => (StoreErrorReason.Full, $"{what} failed: the account is full or over quota ({code})"),
                _ => (StoreErrorReason.Permanent, $"{what} failed: {code} (HTTP {failed.Status})"),
            };
            return new StoreException(reason, location, key, message, e);
        }

        if (NetworkFailures.Classify(e) is var (netReason, netWhat))
        {
            return netReason == StoreErrorReason.Unreachable
                ? new StoreException(netReason, location, key, $"cannot reach {where}: {netWhat}; check the endpoint in AZURE_STORAGE_CONNECTION_STRING and the network", e)
                : new StoreException(netReason, location, key, $"{what} failed: {netWhat}", e);
        }

        return new StoreException(StoreErrorReason.Permanent, location, key, $"{what} failed: {e.GetType().Name}", e);
    }
}
