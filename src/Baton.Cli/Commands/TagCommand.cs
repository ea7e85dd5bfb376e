using System.CommandLine;
using Baton.Retention;

namespace Baton.Cli.Commands;

internal static class TagCommand
{
    public static Command CreateTag()
    {
        var name = new Argument<string>("NAME") { Description = "Tag name" };
        var store = CommonOptions.Store();
        var run = CommonOptions.Run();
        var snapshotId = new Option<string?>("--snapshot") { Description = "Snapshot to tag (default: the run's newest)", HelpName = "ID" };
        var command = new Command("tag", "Name a snapshot; named snapshots are kept forever by prune") { name, store, run, snapshotId };
        var access = new RepositoryAccess(command);
        command.SetAction(BatonApp.Handler(async (result, cancellationToken) =>
        {
            var runName = CommonOptions.RunFrom(result, run);
            RepositoryLayout.ValidateRunName(runName);
            await using var objects = Stores.Open(CommonOptions.StoreFrom(result, store));
            var repository = await access.OpenAsync(result, objects, cancellationToken);
            var snapshot = await repository.FindSnapshotAsync(runName, id: result.GetValue(snapshotId), cancellationToken: cancellationToken)
                ?? throw new UsageException($"run '{runName}' has no snapshots in {objects.Location}");
            var tag = await new SnapshotTags(repository).TagAsync(snapshot, result.GetValue(name)!, cancellationToken);
            CliConsole.WriteLine($"tagged snapshot {tag.SnapshotId} (#{tag.Sequence}) of run '{tag.Run}' as '{tag.Name}'");
            return ExitCodes.Success;
        }));
        return command;
    }

    public static Command CreateUntag()
    {
        var name = new Argument<string>("NAME") { Description = "Tag name" };
        var store = CommonOptions.Store();
        var run = CommonOptions.Run();
        var command = new Command("untag", "Remove a snapshot name (the snapshot stays until prune removes it)") { name, store, run };
        var access = new RepositoryAccess(command);
        command.SetAction(BatonApp.Handler(async (result, cancellationToken) =>
        {
            var runName = CommonOptions.RunFrom(result, run);
            await using var objects = Stores.Open(CommonOptions.StoreFrom(result, store));
            var repository = await access.OpenAsync(result, objects, cancellationToken);
            var tagName = result.GetValue(name)!;
            if (!await new SnapshotTags(repository).UntagAsync(runName, tagName, cancellationToken))
            {
                throw new UsageException($"run '{runName}' has no tag '{tagName}'");
            }

            CliConsole.WriteLine($"removed tag '{tagName}' of run '{runName}'");
            return ExitCodes.Success;
        }));
        return command;
    }
}
