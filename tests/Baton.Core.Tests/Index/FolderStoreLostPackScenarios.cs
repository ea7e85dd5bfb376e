using Baton.Storage;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Index;

public sealed class FolderStoreLostPackScenarios : LostPackScenarios
{
    private readonly TempDirectory _temp = new();

    protected override IObjectStore OpenStore() => new FolderStore(_temp.Combine("store-" + Guid.NewGuid().ToString("N")[..8]));
}
