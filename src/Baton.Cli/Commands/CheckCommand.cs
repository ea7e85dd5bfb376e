using System.CommandLine;
using System.Text.Json.Serialization;
using Baton.Checking;
using Baton.Cli.Rendering;

namespace Baton.Cli.Commands;

internal static class CheckCommand
{
    public static Command Create()
    {
        var store = CommonOptions.Store();
        var readData = new Option<bool>("--read-data") { Description = "Download and verify every chunk, not only the structure" };
        var json = CommonOptions.Json();
        var quiet = CommonOptions.Quiet();
        var command = new Command("check", "Verify the repository; exit 4 when anything is missing or corrupt") { store, readData, json, quiet };
        var access = new RepositoryAccess(command);
        command.SetAction(BatonApp.Handler(async (result, cancellationToken) =>
        {
            await using var objects = Stores.Open(CommonOptions.StoreFrom(result, store));
            var repository = await access.OpenAsync(result, objects, cancellationToken);
            var display = ProgressDisplays.Create("check", result.GetValue(quiet), result.GetValue(json));
            var report = await display.RunAsync(progress => new Checker(repository).CheckAsync(result.GetValue(readData), progress, cancellationToken));
            var exitCode = report.IsHealthy ? ExitCodes.Success : ExitCodes.Integrity;
            if (result.GetValue(json))
            {
                JsonResultEvent.Write(CliConsole.Out, "check", CheckView.From(report), CheckJson.Default.CheckView);
                return exitCode;
            }

            foreach (var warning in report.Warnings)
            {
                CliConsole.WriteLine($"warning: {warning}");
            }

            foreach (var error in report.Errors)
            {
                CliConsole.WriteLine($"error: {error}");
            }

            if (report.DamagedPacks.Count > 0)
            {
                CliConsole.WriteLine($"hint: {report.DamagedPacks.Count} pack(s) are missing or damaged: run 'baton repair' with the same store{(result.GetValue(readData) ? " and --read-data" : "")} so that the next push stores their chunks again");
            }

            var verified = result.GetValue(readData) ? $", {Units.Bytes(report.BytesVerified)} read and verified" : "";
            // Warnings (such as packs a killed push left behind) never fail the check; errors do.
            var warnings = report.Warnings.Count > 0 ? $", {report.Warnings.Count} warning(s)" : "";
            CliConsole.WriteLine(
                $"{(report.IsHealthy ? "no errors" : $"{report.Errors.Count} error(s)")}{warnings}: {report.Snapshots} snapshots, {report.Packs} packs, {report.Blobs} chunks{verified}");
            return exitCode;
        }));
        return command;
    }
}

/// <summary>The JSON form of a check's result; the exit code says the same as <c>healthy</c>.</summary>
internal sealed record CheckView(bool Healthy, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings, int Snapshots, int Packs, int Chunks, long BytesVerified)
{
    public static CheckView From(CheckReport r) => new(r.IsHealthy, r.Errors, r.Warnings, r.Snapshots, r.Packs, r.Blobs, r.BytesVerified);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(CheckView))]
internal sealed partial class CheckJson : JsonSerializerContext;
