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
                CliConsole.WriteLine(JsonSerializer.Serialize(view with { Analysis = AnalysisView.From(analysis) }, StatusJson.Default.StatusView));
            }
            else
            {
                Print(view, CliConsole.Out);
                PrintGaps(overview, CliConsole.Out);
                PrintAnalysis(analysis, CliConsole.Out);
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
        var states = LegStates.Of(legs, now, repository.Options.HostName);
        var views = legs.Select((leg, i) => LegView.From(leg, i + 1, states[i])).ToList();
        var view = new StatusView(run, snapshots.Count, newest?.Manifest.Step, newest?.Id, newest?.Manifest.Created,
            newest is null ? null : Math.Round((now - newest.Manifest.Created).TotalSeconds, 1), views);
        return new RunOverview(view, legs, snapshots);
    }

    /// <summary>Work lost, push cost, machine lifetimes and the Young/Daly interval advice.</summary>
    public static RunAnalysis Analyse(StatusView view, IReadOnlyList<Leg> legs, IReadOnlyList<Repositories.Snapshot> snapshots)
    {
        var lost = view.Legs.Where(l => l.State == LegStates.Lost).Select(l => l.Id).ToHashSet(StringComparer.Ordinal);
        return RunAnalysis.Of(legs, snapshots, leg => lost.Contains(leg.Id));
    }

    /// <summary>
    /// Explains missing sequence numbers: <c>baton ls</c> shows snapshots only, and a take-over's fence takes a number
    /// (as a pruned snapshot leaves one free).
    /// </summary>
    public static void PrintGaps(RunOverview overview, TextWriter output)
    {
        var sequences = overview.Snapshots.Select(s => s.Sequence).Order().ToList();
        var missing = sequences.Zip(sequences.Skip(1), (a, b) => b - a - 1).Sum();
        var legs = overview.View.Legs;
        var fenced = legs.Where(l => l.EndReason == LegEndReasons.Fenced).ToList();
        foreach (var leg in fenced)
        {
            var next = legs.FirstOrDefault(l => l.Number == leg.Number + 1);
            output.WriteLine($"fence: leg {leg.Number} on {leg.Host} was taken over" +
                (next is null ? "" : $" by leg {next.Number} on {next.Host}") + $" at {Time(leg.Ended ?? leg.Updated)}; the fence took one sequence number");
        }

        if (missing > 0)
        {
            output.WriteLine($"{missing.ToString(CultureInfo.InvariantCulture)} sequence number(s) between the first and newest snapshot are not snapshots: " +
                "fences written at take-overs (--take-over), or snapshots pruned");
        }
    }

    public static void PrintAnalysis(RunAnalysis analysis, TextWriter output)
    {
        output.WriteLine();
        if (analysis.Losses.Count > 0)
        {
            output.WriteLine($"work lost at preemptions: {string.Join(", ", analysis.Losses.Select(LostText))}");
        }

        output.WriteLine("checkpoint cost to training: " + (analysis.SaveSeconds is { } save
            ? string.Create(CultureInfo.InvariantCulture, $"{save:0.###}s per save on average (the trainer's own write time)")
            : "unknown (no checkpoint write was measured)"));
        if (analysis.PushSeconds is { } cost)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"push time: {cost:F2}s per checkpoint on average (in the background; training goes on)"));
        }

        output.WriteLine($"store use: {Units.Bytes(analysis.StoredBytes)} stored for {Units.Bytes(analysis.LogicalBytes)} of checkpoints" +
            (analysis.DedupRatio is { } d ? string.Create(CultureInfo.InvariantCulture, $" (dedup {d:F2}x") : " (") +
            (analysis.CompressionRatio is { } r ? string.Create(CultureInfo.InvariantCulture, $", compression {r:F2}x)") : ")"));
        if (analysis.YoungInterval is { } young && analysis.DalyInterval is { } daly)
        {
            output.WriteLine($"checkpoint interval: used {(analysis.ActualInterval is { } used ? Units.Duration(used) : "-")}; " +
                $"optimal for a {Units.Duration(analysis.MeanTimeBetweenFailures!.Value)} mean time between failures: {Units.Duration(young)} (Young), {Units.Duration(daly)} (Daly)");
        }
        else if (analysis.MeanTimeBetweenFailures is { } mtbf)
        {
            output.WriteLine($"checkpoint interval: used {(analysis.ActualInterval is { } used ? Units.Duration(used) : "-")}; " +
                $"optimum for a {Units.Duration(mtbf)} mean time between failures unknown (the checkpoint cost is unknown)");
        }
        else if (analysis.ActualInterval is { } used)
        {
            output.WriteLine($"checkpoint interval: used {Units.Duration(used)}; no failure seen yet, so no optimum to suggest");
        }
    }

    /// <summary>"25 steps (30s)", or "unknown" where the leg did not record what it reached.</summary>
    public static string LostText(LostWork loss) => (loss.NodeRank is { } node
        ? $"node {node.ToString(CultureInfo.InvariantCulture)} of '{loss.GroupId}' lost; the group resumes from step {Step(loss.DurableStep)}: "
        : "") + loss.Steps switch
    {
        null => loss.ReachedStep is { } reached ? $"unknown (reached step {reached.ToString(CultureInfo.InvariantCulture)})" : "unknown",
        { } steps => $"{steps.ToString(CultureInfo.InvariantCulture)} steps ({(loss.Lost is { } lost ? Units.Duration(lost) : "time unknown")})",
    };

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
        // A multi-node run's legs run side by side, one per node: the table says which node and job attempt each is.
        var grouped = view.Legs.Any(l => l.NodeRank is not null);
        var rows = view.Legs.Select(l => new[]
        {
            l.Number.ToString(CultureInfo.InvariantCulture), l.Host, Time(l.Started), Units.Duration((l.Ended ?? l.Updated) - l.Started),
            l.State == "ended" ? l.EndReason ?? "ended" : l.State, Step(l.RestoredStep) + " -> " + Step(l.NewestStep),
            l.CheckpointsPushed.ToString(CultureInfo.InvariantCulture), l.Restarts.ToString(CultureInfo.InvariantCulture),
        }.Concat(grouped ? [l.NodeRank is { } n ? $"{n}/{l.Nodes}" : "-", l.GroupId ?? "-"] : []).ToArray()).ToList();
        Table.Write(output, ["LEG", "HOST", "STARTED", "LASTED", "END", "STEPS", "PUSHED", "RESTARTS", .. grouped ? new[] { "NODE", "ATTEMPT" } : []], rows);
    }

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
/// <c>lostSeconds</c> and <c>losses</c> hold null where a figure is unknown.
internal sealed record AnalysisView(
    IReadOnlyList<double?> LostSeconds, IReadOnlyList<LossView> Losses, double? PushSeconds, double? SaveSeconds,
    double? MeanTimeBetweenFailuresSeconds, double? IntervalSeconds,
    double? YoungSeconds, double? DalySeconds, long LogicalBytes, long NewBytes, long StoredBytes)
{
    public static AnalysisView From(RunAnalysis a) => new(
        a.Losses.Select(l => l.Lost is { } lost ? Math.Round(lost.TotalSeconds, 1) : (double?)null).ToList(),
        a.Losses.Select(l => new LossView(l.Leg, l.ReachedStep, l.DurableStep, l.Steps, l.Lost is { } lost ? Math.Round(lost.TotalSeconds, 1) : null) { NodeRank = l.NodeRank }).ToList(),
        a.PushSeconds, a.SaveSeconds, a.MeanTimeBetweenFailures?.TotalSeconds,
        a.ActualInterval?.TotalSeconds, a.YoungInterval?.TotalSeconds, a.DalyInterval?.TotalSeconds, a.LogicalBytes, a.NewBytes, a.StoredBytes);
}

/// <summary>Work lost at one lost leg in <c>baton status --json</c>: steps and seconds, null where unknown.</summary>
internal sealed record LossView(string Leg, long? ReachedStep, long? DurableStep, long? Steps, double? Seconds)
{
    /// <summary>In a multi-node run: the node whose leg was lost.</summary>
    public int? NodeRank { get; init; }
}

/// <summary>One leg in <c>baton status --json</c>. <c>state</c> is ended, running or lost (killed without a word).</summary>
internal sealed record LegView(
    int Number, string Id, string Host, DateTimeOffset Started, DateTimeOffset Updated, DateTimeOffset? Ended, string State,
    string? EndReason, string? Message, string? Format, long? RestoredStep, long? NewestStep, long? ReachedStep, DateTimeOffset? ReachedAt,
    double? SaveSeconds, int CheckpointsPushed, int PushesAbandoned, int PushFailures, int Restarts, IReadOnlyList<TrainerExit> TrainerExits)
{
    /// <summary>In a multi-node run: the node's rank (absent for single-node legs).</summary>
    public int? NodeRank { get; init; }

    /// <summary>In a multi-node run: the job attempt's node count.</summary>
    public int? Nodes { get; init; }

    /// <summary>In a multi-node run: the job attempt's group id.</summary>
    public string? GroupId { get; init; }

    public static LegView From(Leg leg, int number, string state) => new(
        number, leg.Id, leg.Host, leg.Started, leg.Updated, leg.Ended, state, leg.EndReason, leg.Message, leg.Format,
        leg.RestoredStep, leg.NewestStep, leg.ReachedStep, leg.ReachedAt, leg.SaveSeconds, leg.CheckpointsPushed, leg.PushesAbandoned,
        leg.PushFailures, leg.Restarts, leg.TrainerExits)
    {
        NodeRank = leg.NodeRank, Nodes = leg.Nodes, GroupId = leg.GroupId,
    };
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(StatusView))]
internal sealed partial class StatusJson : JsonSerializerContext;

/// <summary>A run as read from the store: its legs and snapshots, and the status view made of them.</summary>
internal sealed record RunOverview(StatusView View, IReadOnlyList<Leg> Legs, IReadOnlyList<Repositories.Snapshot> Snapshots)
{
    /// <summary>Work lost, push cost, machine lifetimes and the Young/Daly interval advice.</summary>
    public RunAnalysis Analyse() => StatusCommand.Analyse(View, Legs, Snapshots);
}
