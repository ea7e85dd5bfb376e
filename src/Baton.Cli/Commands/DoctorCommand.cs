using System.CommandLine;
using Baton.Storage;

namespace Baton.Cli.Commands;

internal static class DoctorCommand
{
    public static Command Create()
    {
        var store = CommonOptions.Store();
        var size = new Option<int>("--size")
        {
            Description = "MiB written and read back to measure throughput (0 to skip)",
            HelpName = "MIB",
            DefaultValueFactory = _ => 16,
        };
        var command = new Command("doctor",
            "Probe a store: reach, credentials, write/read/list/delete of a probe object, whether create-if-absent is enforced, throughput; exit 3 when Baton cannot use it safely")
        {
            store, size,
        };
        command.SetAction(BatonApp.Handler(async (result, cancellationToken) =>
        {
            var address = CommonOptions.StoreFrom(result, store);
            var mib = result.GetValue(size);
            if (mib is < 0 or > 1024)
            {
                throw new UsageException("--size must be between 0 and 1024 MiB");
            }

            IObjectStore objects;
            try
            {
                objects = Stores.OpenUnlimited(address);
            }
            catch (StoreException e)
            {
                Print(new ProbeVerdict("store", ProbeOutcome.Failed, e.Message));
                return ExitCodes.StoreAccess;
            }

            var failed = 0;
            var warned = 0;
            await using (objects)
            {
                var probe = new StoreProbe(objects, new StoreProbeOptions { ThroughputBytes = mib * 1024 * 1024 });
                await foreach (var verdict in probe.RunAsync(cancellationToken))
                {
                    Print(verdict);
                    failed += verdict.Outcome == ProbeOutcome.Failed ? 1 : 0;
                    warned += verdict.Outcome == ProbeOutcome.Warning ? 1 : 0;
                }
            }

            CliConsole.WriteLine(failed > 0
                ? $"verdict: Baton cannot use {objects.Location} safely ({failed} failed check(s))"
                : $"verdict: {objects.Location} is fit for Baton{(warned > 0 ? $" ({warned} warning(s))" : "")}");
            return failed > 0 ? ExitCodes.StoreAccess : ExitCodes.Success;
        }));
        return command;
    }

    private static void Print(ProbeVerdict verdict)
    {
        var outcome = verdict.Outcome switch
        {
            ProbeOutcome.Ok => "ok",
            ProbeOutcome.Warning => "warn",
            ProbeOutcome.Failed => "FAIL",
            _ => "skip",
        };
        CliConsole.WriteLine($"{outcome,-5} {verdict.Check,-17} {verdict.Detail.ReplaceLineEndings(" ")}");
    }
}
