using Baton.Testing;

namespace Baton.Storage.S3.Tests;

[Collection("s3rver")]
public sealed class S3StoreConformanceTests(S3rverFixture s3) : ObjectStoreConformance
{
    protected override Task<IObjectStore> CreateStoreAsync() => Task.FromResult<IObjectStore>(s3.CreateStore());
}
