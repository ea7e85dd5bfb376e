using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Baton.Cli.Rendering;
using Baton.Journal;
using Baton.Repositories;

namespace Baton.Cli.Commands;

/// <summary><c>baton status</c>: a run's legs, its newest committed step and the age of its last durable checkpoint.</summary>
internal static class StatusCommand
{
    // A leg that has not written for this long without ending was killed (the supervisor refreshes it every minute).
    private static readonly TimeSpan Silence = TimeSpan.FromMinutes(3);

    public static Command Create()
    {
        var store = CommonOptions.Store();
        var run = CommonOptions.Run();
        var json = CommonOptions.Json();
        var command = new Command("status", "Show a run: its legs (one per machine lifetime), newest committed step, age of the last durable checkpoint")
        {
            store, run, json,
        };
        command.SetAction(BatonApp.Handler(async (result, cancellationToken) =>
        {
            var runName = CommonOptions.RunFrom(result, run);
            RepositoryLayout.ValidateRunName(runName);
            await using var objects = Stores.Open(CommonOptions.StoreFrom(result, store));
            var repository = await Repository.OpenAsync(objects, cancellationToken: cancellationToken);
            var view = await LoadAsync(repository, runName, TimeProvider.System, cancellationToken);
            if (view.Snapshots == 0 && view.Legs.Count == 0)
            {
                throw new UsageException($"run '{runName}' has no snapshots and no legs in {objects.Location}: 'baton ls' lists the runs");
            }

            if (result.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(view, StatusJson.Default.StatusView));
            }
            else
            {
                Print(view, Console.Out);
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    public static async Task<StatusView> LoadAsync(Repository repository, string run, TimeProvider clock, CancellationToken cancellationToken)
    {
        var snapshots = await repository.ListSnapshotsAsync(run, cancellationToken);
        var legs = await new RunJournal(repository, run).ListLegsAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var newest = snapshots.Count > 0 ? snapshots[^1] : null;
        var views = legs.Select((leg, i) => LegView.From(leg, i + 1, State(leg, i == legs.Count - 1, now))).ToList();
        return new StatusView(run, snapshots.Count, newest?.Manifest.Step, newest?.Id, newest?.Manifest.Created,
            newest is null ? null : Math.Round((now - newest.Manifest.Created).TotalSeconds, 1), views);
    }

    public static void Print(StatusView view, TextWriter output)
    {
        output.WriteLine($"run '{view.Run}': {view.Snapshots} snapshots");
        if (view.NewestSnapshot is not null)
        {
            output.WriteLine($"newest committed step: {view.NewestStep?.ToString(CultureInfo.InvariantCulture) ?? "-"} (snapshot {view.NewestSnapshot})");
            output.WriteLine($"last durable checkpoint: {Units.Duration(TimeSpan.FromSeconds(view.LastCheckpointAgeSeconds ?? 0))} ago ({Time(view.LastCheckpoint!.Value)})");
        }

        if (view.Legs.Count == 0)
        {
            output.WriteLine("no legs recorded (snapshots were pushed without baton run)");
            return;
        }

        output.WriteLine();
        var rows = view.Legs.Select(l => new[]
        {
            l.Number.ToString(CultureInfo.InvariantCulture), l.Host, Time(l.Started), Units.Duration((l.Ended ?? l.Updated) - l.Started),
            l.State == "ended" ? l.EndReason ?? "ended" : l.State, Step(l.RestoredStep) + " -> " + Step(l.NewestStep),
            l.CheckpointsPushed.ToString(CultureInfo.InvariantCulture), l.Restarts.ToString(CultureInfo.InvariantCulture),
        }).ToList();
        Table.Write(output, ["LEG", "HOST", "STARTED", "LASTED", "END", "STEPS", "PUSHED", "RESTARTS"], rows);
    }

    // Ended legs say why; an open leg is running while it keeps writing, and was killed when it fell silent or a later leg began.
    private static string State(Leg leg, bool last, DateTimeOffset now) =>
        leg.Ended is not null ? "ended" : last && now - leg.Updated < Silence ? "running" : "lost";

    private static string Step(long? step) => step?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

/// <summary>The JSON shape of <c>baton status --json</c>; stable for tooling.</summary>
internal sealed record StatusView(
    string Run, int Snapshots, long? NewestStep, string? NewestSnapshot, DateTimeOffset? LastCheckpoint, double? LastCheckpointAgeSeconds,
    IReadOnlyList<LegView> Legs);

/// <summary>One leg in <c>baton status --json</c>. <c>state</c> is ended, running or lost (killed without a word).</summary>
internal sealed record LegView(
    int Number, string Id, string Host, DateTimeOffset Started, DateTimeOffset Updated, DateTimeOffset? Ended, string State,
    string? EndReason, string? Message, string? Format, long? RestoredStep, long? NewestStep, int CheckpointsPushed,
    int PushesAbandoned, int PushFailures, int Restarts, IReadOnlyList<TrainerExit> TrainerExits)
{
    public static LegView From(Leg leg, int number, string state) => new(
        number, leg.Id, leg.Host, leg.Started, leg.Updated, leg.Ended, state, leg.EndReason, leg.Message, leg.Format,
        leg.RestoredStep, leg.NewestStep, leg.CheckpointsPushed, leg.PushesAbandoned, leg.PushFailures, leg.Restarts, leg.TrainerExits);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(StatusView))]
internal sealed partial class StatusJson : JsonSerializerContext;
