using Baton.Storage.Decorators;
using Baton.Testing;

namespace Baton.Storage.Azure.Tests;

[Collection("azurite")]
public sealed class AzureBlobStoreConformanceTests(AzuriteFixture azurite) : ObjectStoreConformance
{
    protected override bool ServerRefusesCreateOverAnAbandonedUpload => true;

    protected override Task<IObjectStore> CreateStoreAsync() => Task.FromResult<IObjectStore>(azurite.CreateStore());
}

/// <summary>The conformance suite again, through 10% injected faults of every kind and the retry decorator.</summary>
[Collection("azurite")]
public sealed class AzureBlobStoreWithFaultsConformanceTests(AzuriteFixture azurite) : ObjectStoreConformance
{
    private static int _seed;

    protected override bool ServerRefusesCreateOverAnAbandonedUpload => true;

    protected override Task<IObjectStore> CreateStoreAsync() =>
        Task.FromResult(StoreStack.Wrap(azurite.CreateStore(), StoreFaultScenarios.FaultyStack(Interlocked.Increment(ref _seed))));
}

[Collection("azurite")]
public sealed class AzureBlobStoreFaultScenarios(AzuriteFixture azurite) : StoreFaultScenarios
{
    protected override IObjectStore OpenStore(string name) => new AzureBlobStore(azurite.Options("faults", name));
}
