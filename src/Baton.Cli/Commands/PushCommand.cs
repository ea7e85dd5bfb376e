using System.CommandLine;
using Baton.Cli.Rendering;
using Baton.Snapshots;

namespace Baton.Cli.Commands;

internal static class PushCommand
{
    public static Command Create()
    {
        var directory = new Argument<string>("DIR") { Description = "Directory to push (a checkpoint directory)" };
        var store = CommonOptions.Store();
        var run = CommonOptions.Run();
        var step = new Option<long?>("--step") { Description = "Training step of this checkpoint", HelpName = "N" };
        var json = CommonOptions.Json();
        var quiet = CommonOptions.Quiet();
        var takeOver = new Option<bool>("--take-over") { Description = "Fence the run's current writer instead of refusing to push" };
        var compression = CommonOptions.Compression();
        var command = new Command("push", "Push a directory as a new snapshot of a run; prints the snapshot id")
        {
            directory, store, run, step, json, quiet, takeOver, compression,
        };
        var access = new RepositoryAccess(command);
        command.SetAction(BatonApp.Handler(async (result, cancellationToken) =>
        {
            var dir = result.GetValue(directory)!;
            var runName = CommonOptions.RunFrom(result, run);
            RepositoryLayout.ValidateRunName(runName);
            var choice = CommonOptions.CompressionFrom(result, compression);
            if (!Directory.Exists(dir))
            {
                throw new UsageException(File.Exists(dir) ? $"'{dir}' is a file: push takes a directory" : $"directory '{dir}' does not exist");
            }

            // Names a restore would refuse stop the push before anything is written, a new repository included.
            EntryNames.CheckTree(dir);
            await using var objects = Stores.Open(CommonOptions.StoreFrom(result, store));
            StoreInsideDirectory.Refuse(objects, dir, "the directory being pushed");
            var repository = await access.OpenOrInitAsync(result, objects, cancellationToken);
            if (!objects.Capabilities.AtomicCreate && !result.GetValue(quiet))
            {
                await CliConsole.Error.WriteLineAsync($"baton: warning: {objects.Location} cannot enforce create-if-absent, so one writer per run is advisory there");
            }

            var display = ProgressDisplays.Create("push", result.GetValue(quiet), result.GetValue(json));
            var snapshot = await display.RunAsync(progress => repository.PushAsync(
                dir, runName, new PushOptions
                {
                    Step = result.GetValue(step), Progress = progress, TakeOver = result.GetValue(takeOver), Compression = choice,
                    OnReservedNameSkipped = path => CliConsole.Error.WriteLine($"baton: warning: left out '{path}': Baton reserves that name for its own files (README, \"Reserved names\")"),
                }, cancellationToken));
            if (result.GetValue(json))
            {
                JsonResultEvent.Write(CliConsole.Out, "push", SnapshotView.From(snapshot), CliJson.Default.SnapshotView);
            }
            else
            {
                var s = snapshot.Manifest.Stats;
                CliConsole.WriteLine(snapshot.Id);
                if (!result.GetValue(quiet))
                {
                    await CliConsole.Error.WriteLineAsync(
                        $"snapshot {snapshot.Id} of run '{snapshot.Run}' (#{snapshot.Sequence}{(snapshot.Manifest.Step is { } n ? $", step {n}" : "")}): " +
                        $"{s.Files} files, {Units.Bytes(s.Bytes)}; read {Units.Bytes(s.BytesRead)}, new {Units.Bytes(s.BytesNew)}, " +
                        $"stored {Units.Bytes(s.BytesStored)} in {Units.Duration(TimeSpan.FromSeconds(s.Seconds))}");
                }
            }

            return ExitCodes.Success;
        }));
        return command;
    }
}
