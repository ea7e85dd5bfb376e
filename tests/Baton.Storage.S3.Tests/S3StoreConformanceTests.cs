using Baton.Testing;

namespace Baton.Storage.S3.Tests;

[Collection("s3rver")]
public sealed class S3StoreConformanceTests(S3rverFixture s3) : ObjectStoreConformance
{
    protected override bool ServerKeepsPartialUploads => true;

    protected override Task<IObjectStore> CreateStoreAsync() => Task.FromResult<IObjectStore>(s3.CreateStore());
}

/// <summary>The conformance suite again, through 10% injected faults of every kind and the retry decorator.</summary>
[Collection("s3rver")]
public sealed class S3StoreWithFaultsConformanceTests(S3rverFixture s3) : ObjectStoreConformance
{
    private static int _seed;

    protected override bool ServerKeepsPartialUploads => true;

    protected override Task<IObjectStore> CreateStoreAsync() =>
        Task.FromResult(Storage.Decorators.StoreStack.Wrap(s3.CreateStore(), StoreFaultScenarios.FaultyStack(Interlocked.Increment(ref _seed))));
}

[Collection("s3rver")]
public sealed class S3StoreFaultScenarios(S3rverFixture s3) : StoreFaultScenarios
{
    protected override IObjectStore OpenStore(string name) => new S3Store(s3.Options("faults", name));
}
