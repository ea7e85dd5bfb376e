using Amazon;
using Amazon.Runtime;
using Amazon.S3;

namespace Baton.Storage.S3;

/// <summary>Builds the SDK client for a store's options.</summary>
internal static class S3ClientFactory
{
    public static IAmazonS3 Create(S3StoreOptions options)
    {
        var config = new AmazonS3Config
        {
            // Retries belong to the store stack (RetryingStore), which sees every store the same way.
            MaxErrorRetry = 0,
            Timeout = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(20),
            // The address and the environment were read by the provider; the SDK must not redirect requests itself.
            IgnoreConfiguredEndpointUrls = true,
        };
        if (options.Endpoint is { } endpoint)
        {
            config.ServiceURL = endpoint.ToString();
            config.ForcePathStyle = true;
            config.AuthenticationRegion = options.Region ?? "us-east-1";
            // S3-compatible servers reject or mis-store the SDK's default flexible checksums.
            config.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED;
            config.ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED;
        }
        else if (options.Region is { } region)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }

        return options.Credentials is { } credentials ? new AmazonS3Client(credentials, config) : new AmazonS3Client(config);
    }
}
