using Baton.Testing;

namespace Baton.Storage.S3.Tests;

/// <summary>The lost and damaged pack scenarios against s3rver.</summary>
[Collection("s3rver")]
public sealed class S3LostPackScenarios(S3rverFixture s3) : LostPackScenarios
{
    protected override IObjectStore OpenStore() => s3.CreateStore();
}
