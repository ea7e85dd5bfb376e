using System.CommandLine;
using Baton.Cli.Rendering;

namespace Baton.Cli.Commands;

/// <summary><c>baton report</c>: a self-contained HTML page about a run.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var store = CommonOptions.Store();
        var run = CommonOptions.Run();
        var output = new Option<string>("--output", "-o") { Description = "The HTML file to write", HelpName = "FILE", DefaultValueFactory = _ => "report.html" };
        var command = new Command("report", "Write a self-contained HTML page: timeline of legs, checkpoints and preemptions, bytes and time per push")
        {
            store, run, output,
        };
        var access = new RepositoryAccess(command);
        command.SetAction(BatonApp.Handler(async (result, cancellationToken) =>
        {
            var runName = CommonOptions.RunFrom(result, run);
            RepositoryLayout.ValidateRunName(runName);
            await using var objects = Stores.Open(CommonOptions.StoreFrom(result, store));
            var repository = await access.OpenAsync(result, objects, cancellationToken);
            var now = TimeProvider.System.GetUtcNow();
            var overview = await StatusCommand.LoadAsync(repository, runName, TimeProvider.System, cancellationToken);
            var (status, snapshots) = (overview.View, overview.Snapshots);
            StatusCommand.RequireKnownRun(status, runName, objects.Location);
            var analysis = overview.Analyse();
            var path = result.GetValue(output)!;
            await File.WriteAllTextAsync(path, HtmlReport.Render(status, snapshots, analysis, now), cancellationToken);
            CliConsole.WriteLine($"wrote {path}: {status.Legs.Count} legs, {snapshots.Count} checkpoints");
            return ExitCodes.Success;
        }));
        return command;
    }
}
