using System.CommandLine;
using Baton.Repositories;

namespace Baton.Cli.Commands;

internal static class InitCommand
{
    public static Command Create()
    {
        var store = CommonOptions.Store();
        var command = new Command("init", "Create an empty repository in a store") { store };
        command.SetAction(BatonApp.Handler(async (result, cancellationToken) =>
        {
            await using var objects = Stores.Open(CommonOptions.StoreFrom(result, store));
            var repository = await Repository.InitAsync(objects, cancellationToken: cancellationToken);
            Console.WriteLine($"created repository {repository.Config.Id[..12]} at {objects.Location}");
            return ExitCodes.Success;
        }));
        return command;
    }
}
