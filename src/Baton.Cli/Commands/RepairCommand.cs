using System.CommandLine;
using System.Globalization;
using System.Text.Json.Serialization;
using Baton.Checking;
using Baton.Cli.Rendering;

namespace Baton.Cli.Commands;

internal static class RepairCommand
{
    public static Command Create()
    {
        var store = CommonOptions.Store();
        var readData = new Option<bool>("--read-data") { Description = "Download and verify every pack, and drop damaged ones too, not only missing ones" };
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "Print what would be dropped; change nothing" };
        var json = CommonOptions.Json();
        var quiet = CommonOptions.Quiet();
        var command = new Command("repair",
            "Drop missing or damaged packs from the index so that the next push stores their chunks again; name the snapshots that lost files")
        {
            store, readData, dryRun, json, quiet,
        };
        var access = new RepositoryAccess(command);
        command.SetAction(BatonApp.Handler(async (result, cancellationToken) =>
        {
            await using var objects = Stores.Open(CommonOptions.StoreFrom(result, store));
            var repository = await access.OpenAsync(result, objects, cancellationToken);
            var display = ProgressDisplays.Create("repair", result.GetValue(quiet), result.GetValue(json));
            var report = await display.RunAsync(progress =>
                new Repairer(repository).RepairAsync(result.GetValue(readData), result.GetValue(dryRun), progress, cancellationToken));
            var exitCode = report.IsRepaired ? ExitCodes.Success : ExitCodes.Integrity;
            if (result.GetValue(json))
            {
                JsonResultEvent.Write(CliConsole.Out, "repair", RepairView.From(report), RepairJson.Default.RepairView);
            }
            else
            {
                Print(report, result.GetValue(readData));
            }

            return exitCode;
        }));
        return command;
    }

    private static void Print(RepairReport report, bool readData)
    {
        var verb = report.DryRun ? "would drop" : "dropped";
        foreach (var pack in report.DroppedPacks)
        {
            var salvaged = pack.Salvaged > 0 ? $", {pack.Salvaged} intact one(s) {(report.DryRun ? "would be" : "were")} copied into a new pack" : "";
            CliConsole.WriteLine($"{verb} pack {pack.Key} from the index ({pack.Chunks} chunk(s){salvaged}): {pack.Problem}");
        }

        foreach (var snapshot in report.DamagedSnapshots)
        {
            var step = snapshot.Step?.ToString(CultureInfo.InvariantCulture) ?? "-";
            CliConsole.WriteLine(
                $"snapshot {snapshot.Id} (run '{snapshot.Run}', #{snapshot.Sequence}, step {step}) lost {snapshot.Files.Count} file(s): {string.Join(", ", snapshot.Files.Select(f => $"'{f}'"))}");
        }

        foreach (var warning in report.Warnings)
        {
            CliConsole.WriteLine($"warning: {warning}");
        }

        foreach (var problem in report.Unrepaired)
        {
            CliConsole.WriteLine($"error: {problem}");
        }

        var scope = readData ? $", {Units.Bytes(report.BytesVerified)} read and verified" : " (existence and size only; --read-data also verifies contents)";
        if (report.DroppedPacks.Count == 0)
        {
            CliConsole.WriteLine($"nothing to repair in the packs{scope}");
        }
        else
        {
            CliConsole.WriteLine(report.DryRun
                ? $"{report.DroppedPacks.Count} pack(s) would be dropped from the index{scope}; nothing was changed"
                : $"{report.DroppedPacks.Count} pack(s) dropped from the index ({report.IndexObjectsWritten} index object(s) written, {report.IndexObjectsDeleted} replaced){scope}; the next push stores their chunks again and prune deletes the damaged packs");
        }

        if (report.DamagedSnapshots.Count > 0)
        {
            CliConsole.WriteLine(
                $"{report.DamagedSnapshots.Count} snapshot(s) lost files; they are kept and become whole again when a push stores the same bytes (push the intact checkpoint again), or prune removes them");
        }

        if (!report.IsRepaired)
        {
            CliConsole.WriteLine($"{report.Unrepaired.Count} problem(s) remain that repair cannot fix");
        }
    }
}

/// <summary>The JSON form of a repair's result; the exit code is 0 when <c>repaired</c>, 4 otherwise.</summary>
internal sealed record RepairView(
    bool Repaired, bool DryRun, IReadOnlyList<DroppedPack> DroppedPacks, IReadOnlyList<DamagedSnapshot> DamagedSnapshots, IReadOnlyList<string> Unrepaired,
    IReadOnlyList<string> Warnings, int IndexObjectsWritten, int IndexObjectsDeleted, long BytesVerified)
{
    public static RepairView From(RepairReport r) => new(r.IsRepaired, r.DryRun, r.DroppedPacks, r.DamagedSnapshots, r.Unrepaired, r.Warnings,
        r.IndexObjectsWritten, r.IndexObjectsDeleted, r.BytesVerified);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(RepairView))]
internal sealed partial class RepairJson : JsonSerializerContext;
