using System.CommandLine;
using Baton.Checking;
using Baton.Cli.Rendering;
using Baton.Repositories;

namespace Baton.Cli.Commands;

internal static class CheckCommand
{
    public static Command Create()
    {
        var store = CommonOptions.Store();
        var readData = new Option<bool>("--read-data") { Description = "Download and verify every chunk, not only the structure" };
        var quiet = CommonOptions.Quiet();
        var command = new Command("check", "Verify the repository; exit 4 when anything is missing or corrupt") { store, readData, quiet };
        command.SetAction(BatonApp.Handler(async (result, cancellationToken) =>
        {
            await using var objects = Stores.Open(CommonOptions.StoreFrom(result, store));
            var repository = await Repository.OpenAsync(objects, cancellationToken: cancellationToken);
            using var progress = ProgressPrinter.Create("check", result.GetValue(quiet));
            var report = await new Checker(repository).CheckAsync(result.GetValue(readData), progress, cancellationToken);
            progress?.Dispose();
            foreach (var warning in report.Warnings)
            {
                Console.WriteLine($"warning: {warning}");
            }

            foreach (var error in report.Errors)
            {
                Console.WriteLine($"error: {error}");
            }

            var verified = result.GetValue(readData) ? $", {Units.Bytes(report.BytesVerified)} read and verified" : "";
            // Warnings (such as packs a killed push left behind) never fail the check; errors do.
            var warnings = report.Warnings.Count > 0 ? $", {report.Warnings.Count} warning(s)" : "";
            Console.WriteLine(
                $"{(report.IsHealthy ? "no errors" : $"{report.Errors.Count} error(s)")}{warnings}: {report.Snapshots} snapshots, {report.Packs} packs, {report.Blobs} chunks{verified}");
            return report.IsHealthy ? ExitCodes.Success : ExitCodes.Integrity;
        }));
        return command;
    }
}
