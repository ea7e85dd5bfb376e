using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Baton.Cli.Rendering;
using Baton.Repositories;

namespace Baton.Cli.Commands;

internal static class LsCommand
{
    public static Command Create()
    {
        var store = CommonOptions.Store();
        var run = CommonOptions.Run();
        var json = CommonOptions.Json();
        var command = new Command("ls", "List runs and their snapshots") { store, run, json };
        var access = new RepositoryAccess(command);
        command.SetAction(BatonApp.Handler(async (result, cancellationToken) =>
        {
            await using var objects = Stores.Open(CommonOptions.StoreFrom(result, store));
            var repository = await access.OpenAsync(result, objects, cancellationToken);
            var runName = CommonOptions.OptionalRunFrom(result, run);
            var snapshots = runName is null
                ? await repository.ListAllSnapshotsAsync(cancellationToken)
                : await repository.ListSnapshotsAsync(runName, cancellationToken);
            if (result.GetValue(json))
            {
                CliConsole.WriteLine(JsonSerializer.Serialize(snapshots.Select(SnapshotView.From).ToList(), CliJson.Default.ListSnapshotView));
                return ExitCodes.Success;
            }

            Print(snapshots);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static void Print(IReadOnlyList<Snapshot> snapshots)
    {
        if (snapshots.Count == 0)
        {
            CliConsole.WriteLine("no snapshots");
            return;
        }

        var rows = snapshots.Select(s => new[]
        {
            s.Id, s.Run, s.Sequence.ToString(CultureInfo.InvariantCulture), s.Manifest.Step?.ToString(CultureInfo.InvariantCulture) ?? "-",
            s.Manifest.Created.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture), s.Manifest.Host,
            s.Manifest.Stats.Files.ToString(CultureInfo.InvariantCulture), Units.Bytes(s.Manifest.Stats.Bytes),
        }).ToList();
        Table.Write(CliConsole.Out, ["ID", "RUN", "#", "STEP", "CREATED", "HOST", "FILES", "SIZE"], rows);
    }
}
