using Amazon.S3.Model;
using Baton.Storage.Decorators;

namespace Baton.Storage.S3;

/// <summary>The body of a GET; disposing it closes the response (and its connection).</summary>
internal sealed class S3ReadStream(GetObjectResponse response) : ReadStreamDecorator(response.ResponseStream)
{
    protected override void OnDisposed() => response.Dispose();
}
