using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Serialization;
using Baton.Cli.Rendering;
using Baton.Repositories;
using Baton.Snapshots;

namespace Baton.Cli.Commands;

internal static class PullCommand
{
    public static Command Create()
    {
        var directory = new Argument<string>("DIR") { Description = "Directory to restore into (created if missing)" };
        var store = CommonOptions.Store();
        var run = CommonOptions.Run();
        var step = new Option<long?>("--step") { Description = "Restore the newest snapshot with this step", HelpName = "N" };
        var snapshotId = new Option<string?>("--snapshot") { Description = "Restore this snapshot (id or id prefix)", HelpName = "ID" };
        var overwrite = new Option<bool>("--overwrite")
        {
            Description = "Restore into a directory that holds files: it becomes exactly the snapshot, its other files are removed",
        };
        var json = CommonOptions.Json();
        var quiet = CommonOptions.Quiet();
        var command = new Command("pull", "Restore the newest (or a given) snapshot of a run into a directory, verifying every byte")
        {
            directory, store, run, step, snapshotId, overwrite, json, quiet,
        };
        var access = new RepositoryAccess(command);
        command.SetAction(BatonApp.Handler(async (result, cancellationToken) =>
        {
            var id = result.GetValue(snapshotId);
            if (id is not null && (id.Length == 0 || !id.All(char.IsAsciiHexDigit)))
            {
                throw new UsageException($"invalid snapshot id '{id}': give the hex id (or a prefix of it) that 'baton ls' shows");
            }

            if (id is not null && result.GetValue(step) is not null)
            {
                throw new UsageException("give either --step or --snapshot, not both");
            }

            // A snapshot id names one snapshot in the whole store: BATON_RUN, set for other commands, must not hide it.
            var runName = id is null ? CommonOptions.RunFrom(result, run) : result.GetValue(run);
            if (runName is not null)
            {
                RepositoryLayout.ValidateRunName(runName);
            }

            await using var objects = Stores.Open(CommonOptions.StoreFrom(result, store));
            var repository = await access.OpenAsync(result, objects, cancellationToken);
            var stepValue = result.GetValue(step);
            if (id is null && stepValue is null)
            {
                await RefuseVanishedNewestAsync(repository, runName!, cancellationToken);
            }

            var snapshot = await repository.FindSnapshotAsync(runName, stepValue, id, cancellationToken)
                ?? throw new UsageException(stepValue is null
                    ? $"run '{runName}' has no snapshots in {objects.Location}"
                    : $"run '{runName}' has no snapshot at step {stepValue} in {objects.Location}");
            var clock = Stopwatch.StartNew();
            var target = result.GetValue(directory)!;
            var display = ProgressDisplays.Create("pull", result.GetValue(quiet), result.GetValue(json));
            var restored = await display.RunAsync(progress => repository.RestoreAsync(snapshot, target, new RestoreOptions { Progress = progress, Overwrite = result.GetValue(overwrite) }, cancellationToken));
            if (result.GetValue(json))
            {
                JsonResultEvent.Write(CliConsole.Out, "pull", PullView.From(snapshot, Path.GetFullPath(target), restored, clock.Elapsed), PullJson.Default.PullView);
            }
            else if (!result.GetValue(quiet))
            {
                await CliConsole.Error.WriteLineAsync(
                    $"restored snapshot {snapshot.Id} of run '{snapshot.Run}' (#{snapshot.Sequence}{(snapshot.Manifest.Step is { } n ? $", step {n}" : "")}): " +
                    $"{restored.Files} files, {Units.Bytes(restored.Bytes)} verified in {Units.Duration(clock.Elapsed)}");
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    // "The newest" must not silently mean an older snapshot because the newest manifest was deleted or lost.
    private static async Task RefuseVanishedNewestAsync(Repository repository, string run, CancellationToken cancellationToken)
    {
        if (await Leases.CommitRecords.FindVanishedAsync(repository, run, cancellationToken) is { } vanished)
        {
            throw new IntegrityException(
                $"the newest snapshot of run '{run}' (#{vanished.Sequence}) is missing from {repository.Store.Location}: '{vanished.RecordKey}' records that it was committed; " +
                "to restore an older one anyway, name it with --snapshot ID or --step N ('baton ls' lists them)");
        }
    }
}

/// <summary>The JSON form of a pull's result: which snapshot went where.</summary>
internal sealed record PullView(string Snapshot, string Run, long Sequence, long? Step, string Directory, long Files, long Bytes, double Seconds)
{
    public static PullView From(Snapshot s, string directory, RestoreResult restored, TimeSpan elapsed) =>
        new(s.Id, s.Run, s.Sequence, s.Manifest.Step, directory, restored.Files, restored.Bytes, Math.Round(elapsed.TotalSeconds, 3));
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(PullView))]
internal sealed partial class PullJson : JsonSerializerContext;
