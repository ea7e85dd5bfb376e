using System.CommandLine;

namespace Baton.Cli.Commands;

internal static class InitCommand
{
    public static Command Create()
    {
        var store = CommonOptions.Store();
        var command = new Command("init", "Create an empty repository in a store (encrypted when a password or key file is given)") { store };
        var access = new RepositoryAccess(command);
        command.SetAction(BatonApp.Handler(async (result, cancellationToken) =>
        {
            await using var objects = Stores.Open(CommonOptions.StoreFrom(result, store));
            var repository = await access.InitAsync(result, objects, cancellationToken);
            var encrypted = repository.Cipher.IsEncrypted ? $" (encrypted, key {repository.Keys.Current.Id})" : "";
            CliConsole.WriteLine($"created repository {repository.Config.Id[..12]} at {objects.Location}{encrypted}");
            return ExitCodes.Success;
        }));
        return command;
    }
}
