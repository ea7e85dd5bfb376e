using System.CommandLine;
using System.Text.Json.Serialization;
using Baton.Cli.Rendering;
using Baton.Maintenance;
using Baton.Retention;

namespace Baton.Cli.Commands;

internal static class PruneCommand
{
    public static Command Create()
    {
        var store = CommonOptions.Store();
        var run = CommonOptions.Run();
        var retention = new RetentionOptions();
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "Print what would be removed and freed; change nothing" };
        var json = CommonOptions.Json();
        var quiet = CommonOptions.Quiet();
        var command = new Command("prune", "Remove snapshots a retention policy does not keep, then delete data no snapshot needs")
        {
            store, run, dryRun, json, quiet,
        };
        retention.AddTo(command);
        var access = new RepositoryAccess(command);
        command.SetAction(BatonApp.Handler(async (result, cancellationToken) =>
        {
            var runName = CommonOptions.RunFrom(result, run);
            RepositoryLayout.ValidateRunName(runName);
            var policy = retention.Read(result);
            await using var objects = Stores.Open(CommonOptions.StoreFrom(result, store));
            var repository = await access.OpenAsync(result, objects, cancellationToken);
            var display = ProgressDisplays.Create("prune", result.GetValue(quiet), result.GetValue(json));
            var pruned = await display.RunAsync(progress => new Pruner(repository) { Progress = progress }.PruneAsync(runName, policy, result.GetValue(dryRun), cancellationToken));
            if (result.GetValue(json))
            {
                JsonResultEvent.Write(CliConsole.Out, "prune", PruneView.From(pruned, policy), PruneJson.Default.PruneView);
            }
            else
            {
                Print(pruned, policy);
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static void Print(PruneResult result, RetentionPolicy policy)
    {
        var verb = result.DryRun ? "would remove" : "removed";
        var removed = result.Removed.OrderBy(s => s.Sequence).ToList();
        CliConsole.WriteLine($"policy: {policy}");
        foreach (var snapshot in removed)
        {
            CliConsole.WriteLine($"{verb} snapshot {snapshot.Id} (#{snapshot.Sequence}, step {snapshot.Manifest.Step?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"})");
        }

        var kept = result.Decisions.Count - removed.Count;
        var c = result.Collection;
        CliConsole.WriteLine(result.DryRun
            ? $"{removed.Count} snapshot(s) would be removed, {kept} kept; {Units.Bytes(c.BytesPending)} in {c.PacksCondemned} pack(s) would be freed"
            : $"{removed.Count} snapshot(s) removed, {kept} kept; freed {Units.Bytes(c.BytesFreed)} ({c.PacksDeleted} pack(s))");
        if (!result.DryRun && c.Deferred is not null && c.PacksCondemned > 0)
        {
            CliConsole.WriteLine($"{Units.Bytes(c.BytesPending)} in {c.PacksCondemned} pack(s) marked for deletion: {c.Deferred}");
        }

        if (c.PacksToRepack > 0)
        {
            CliConsole.WriteLine(result.DryRun
                ? $"{c.PacksToRepack} mostly-empty pack(s) would be repacked, reclaiming about {Units.Bytes(c.BytesToReclaim)}"
                : $"{c.PacksToRepack} mostly-empty pack(s) marked for repacking (about {Units.Bytes(c.BytesToReclaim)} to reclaim): {c.Deferred}");
        }

        if (c.PacksRepacked > 0)
        {
            CliConsole.WriteLine($"repacked {c.PacksRepacked} pack(s) into {c.PacksWritten}: copied {Units.Bytes(c.BytesCopied)} still in use, reclaimed {Units.Bytes(c.BytesReclaimed)}");
        }
    }
}

/// <summary>The JSON form of a prune's result.</summary>
internal sealed record PruneView(
    string Policy, bool DryRun, IReadOnlyList<PrunedSnapshotView> Removed, int Kept,
    int PacksDeleted, long BytesFreed, int PacksCondemned, long BytesPending,
    int PacksRepacked, int PacksWritten, long BytesCopied, long BytesReclaimed, int PacksToRepack, long BytesToReclaim, string? Deferred)
{
    public static PruneView From(PruneResult r, RetentionPolicy policy)
    {
        var removed = r.Removed.OrderBy(s => s.Sequence).Select(s => new PrunedSnapshotView(s.Id, s.Sequence, s.Manifest.Step)).ToList();
        var c = r.Collection;
        return new(policy.ToString(), r.DryRun, removed, r.Decisions.Count - removed.Count, c.PacksDeleted, c.BytesFreed, c.PacksCondemned, c.BytesPending,
            c.PacksRepacked, c.PacksWritten, c.BytesCopied, c.BytesReclaimed, c.PacksToRepack, c.BytesToReclaim, c.Deferred);
    }
}

/// <summary>A snapshot a prune removed (or would remove).</summary>
internal sealed record PrunedSnapshotView(string Id, long Sequence, long? Step);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(PruneView))]
internal sealed partial class PruneJson : JsonSerializerContext;

/// <summary>The retention flags, shared by <c>prune</c> and <c>run</c>.</summary>
internal sealed class RetentionOptions
{
    private readonly Option<int?> _keepLast = new("--keep-last") { Description = "Keep the newest N snapshots", HelpName = "N" };
    private readonly Option<long?> _keepEvery = new("--keep-every") { Description = "Keep the newest snapshot of every span of this many steps", HelpName = "STEPS" };
    private readonly Option<string?> _keepWithin = new("--keep-within") { Description = "Keep every snapshot younger than this (e.g. 12h, 7d)", HelpName = "DURATION" };

    public void AddTo(Command command)
    {
        command.Options.Add(_keepLast);
        command.Options.Add(_keepEvery);
        command.Options.Add(_keepWithin);
    }

    /// <summary>The policy from the flags, or from baton.toml's [keep] table when no flag is given.</summary>
    public RetentionPolicy Read(ParseResult result)
    {
        var file = Configuration.ConfigFile.Current.Keep;
        var flagged = result.GetResult(_keepLast) is not null || result.GetResult(_keepEvery) is not null || result.GetResult(_keepWithin) is not null;
        var within = flagged ? result.GetValue(_keepWithin) : file?.Within;
        var policy = new RetentionPolicy
        {
            KeepLast = flagged ? result.GetValue(_keepLast) : file?.Last,
            KeepEvery = flagged ? result.GetValue(_keepEvery) : file?.Every,
            KeepWithin = within is not null ? Supervision.Durations.Parse(within, "--keep-within") : null,
        };
        policy.Validate();
        return policy;
    }
}
