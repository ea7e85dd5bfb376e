using Amazon.S3.Model;
using Baton.Storage.Decorators;

namespace Baton.Storage.S3;

/// <summary>
/// The body of a GET; disposing it closes the response (and its connection). The SDK verifies the body while it is
/// read (a checksum at its end), so failures of a read are classified like those of the request.
/// </summary>
internal sealed class S3ReadStream(GetObjectResponse response, Func<Exception, StoreException> classify) : ReadStreamDecorator(response.ResponseStream)
{
    public override int Read(Span<byte> buffer)
    {
        try
        {
            return Inner.Read(buffer);
        }
        catch (Exception e) when (IsSdkFailure(e))
        {
            throw classify(e);
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsSdkFailure(e) && !cancellationToken.IsCancellationRequested)
        {
            throw classify(e);
        }
    }

    protected override void OnDisposed() => response.Dispose();

    // A dropped connection stays an IOException, which the resuming reader above knows how to continue.
    private static bool IsSdkFailure(Exception e) => e is Amazon.Runtime.AmazonClientException;
}
