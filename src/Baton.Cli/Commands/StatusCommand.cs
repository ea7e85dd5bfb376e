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
        var access = new RepositoryAccess(command);
        command.SetAction(BatonApp.Handler(async (result, cancellationToken) =>
        {
            var runName = CommonOptions.RunFrom(result, run);
            RepositoryLayout.ValidateRunName(runName);
            await using var objects = Stores.Open(CommonOptions.StoreFrom(result, store));
            var repository = await access.OpenAsync(result, objects, cancellationToken);
            var overview = await LoadAsync(repository, runName, TimeProvider.System, cancellationToken);
            var view = overview.View;
            RequireKnownRun(view, runName, objects.Location);

            var analysis = overview.Analyse();
            if (result.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(view with { Analysis = AnalysisView.From(analysis) }, StatusJson.Default.StatusView));
            }
            else
            {
                Print(view, Console.Out);
                PrintAnalysis(analysis, Console.Out);
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>Reads the run's snapshots and legs once, for the status view and its analysis alike.</summary>
    /// <summary>Refuses a run the store knows nothing of (a typo, most likely) instead of describing it as empty.</summary>
    /// <exception cref="UsageException">The run has neither snapshots nor legs.</exception>
    public static void RequireKnownRun(StatusView view, string runName, string location)
    {
        if (view.Snapshots == 0 && view.Legs.Count == 0)
        {
            throw new UsageException($"run '{runName}' has no snapshots and no legs in {location}: 'baton ls' lists the runs");
        }
    }

    public static async Task<RunOverview> LoadAsync(Repository repository, string run, TimeProvider clock, CancellationToken cancellationToken)
    {
        var snapshots = await repository.ListSnapshotsAsync(run, cancellationToken);
        var legs = await new RunJournal(repository, run).ListLegsAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var newest = snapshots.Count > 0 ? snapshots[^1] : null;
        var views = legs.Select((leg, i) => LegView.From(leg, i + 1, State(leg, i == legs.Count - 1, now))).ToList();
        var view = new StatusView(run, snapshots.Count, newest?.Manifest.Step, newest?.Id, newest?.Manifest.Created,
            newest is null ? null : Math.Round((now - newest.Manifest.Created).TotalSeconds, 1), views);
        return new RunOverview(view, legs, snapshots);
    }

    /// <summary>Work lost, push cost, machine lifetimes and the Young/Daly interval advice.</summary>
    public static RunAnalysis Analyse(StatusView view, IReadOnlyList<Leg> legs, IReadOnlyList<Snapshots.Snapshot> snapshots)
    {
        var lost = view.Legs.Where(l => l.State == "lost").Select(l => l.Id).ToHashSet(StringComparer.Ordinal);
        return RunAnalysis.Of(legs, snapshots, leg => lost.Contains(leg.Id));
    }

    public static void PrintAnalysis(RunAnalysis analysis, TextWriter output)
    {
        output.WriteLine();
        if (analysis.Losses.Count > 0)
        {
            output.WriteLine($"work lost at preemptions: {string.Join(", ", analysis.Losses.Select(l => Units.Duration(l.Lost)))}");
        }

        if (analysis.PushSeconds is { } cost)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"push cost: {cost:F2}s per checkpoint on average"));
        }

        output.WriteLine($"store use: {Units.Bytes(analysis.StoredBytes)} stored for {Units.Bytes(analysis.LogicalBytes)} of checkpoints" +
            (analysis.DedupRatio is { } d ? string.Create(CultureInfo.InvariantCulture, $" (dedup {d:F2}x") : " (") +
            (analysis.CompressionRatio is { } r ? string.Create(CultureInfo.InvariantCulture, $", compression {r:F2}x)") : ")"));
        if (analysis.YoungInterval is { } young && analysis.DalyInterval is { } daly)
        {
            output.WriteLine($"checkpoint interval: used {(analysis.ActualInterval is { } used ? Units.Duration(used) : "-")}; " +
                $"optimal for a {Units.Duration(analysis.MeanTimeBetweenFailures!.Value)} mean time between failures: {Units.Duration(young)} (Young), {Units.Duration(daly)} (Daly)");
        }
        else if (analysis.ActualInterval is { } used)
        {
            output.WriteLine($"checkpoint interval: used {Units.Duration(used)}; no failure seen yet, so no optimum to suggest");
        }
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
    IReadOnlyList<LegView> Legs)
{
    public AnalysisView? Analysis { get; init; }
}

/// <summary>The analysis in <c>baton status --json</c>; durations in seconds.</summary>
internal sealed record AnalysisView(
    IReadOnlyList<double> LostSeconds, double? PushSeconds, double? MeanTimeBetweenFailuresSeconds, double? IntervalSeconds,
    double? YoungSeconds, double? DalySeconds, long LogicalBytes, long NewBytes, long StoredBytes)
{
    public static AnalysisView From(RunAnalysis a) => new(
        a.Losses.Select(l => Math.Round(l.Lost.TotalSeconds, 1)).ToList(), a.PushSeconds, a.MeanTimeBetweenFailures?.TotalSeconds,
        a.ActualInterval?.TotalSeconds, a.YoungInterval?.TotalSeconds, a.DalyInterval?.TotalSeconds, a.LogicalBytes, a.NewBytes, a.StoredBytes);
}

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

/// <summary>A run as read from the store: its legs and snapshots, and the status view made of them.</summary>
internal sealed record RunOverview(StatusView View, IReadOnlyList<Leg> Legs, IReadOnlyList<Snapshots.Snapshot> Snapshots)
{
    /// <summary>Work lost, push cost, machine lifetimes and the Young/Daly interval advice.</summary>
    public RunAnalysis Analyse() => StatusCommand.Analyse(View, Legs, Snapshots);
}
