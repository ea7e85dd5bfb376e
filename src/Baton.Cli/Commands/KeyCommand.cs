using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Baton.Cli.Rendering;
using Baton.Encryption;

namespace Baton.Cli.Commands;

/// <summary><c>baton key add|list|remove</c>: the keys of an encrypted repository. Data is never re-encrypted.</summary>
internal static class KeyCommand
{
    public static Command Create()
    {
        var command = new Command("key", "Manage the keys (passwords and key files) of an encrypted repository");
        command.Subcommands.Add(CreateAdd());
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(CreateRemove());
        return command;
    }

    private static Command CreateAdd()
    {
        var store = CommonOptions.Store();
        var newPasswordFile = new Option<string?>("--new-password-file") { Description = "File holding the new password", HelpName = "FILE" };
        var newKeyFile = new Option<string?>("--new-key-file") { Description = "The new key file (at least 32 random bytes)", HelpName = "FILE" };
        var command = new Command("add", "Add a password or key file that opens the repository (give a current one to open it)")
        {
            store, newPasswordFile, newKeyFile,
        };
        var access = new RepositoryAccess(command);
        command.SetAction(BatonApp.Handler(async (result, cancellationToken) =>
        {
            var (password, key) = (result.GetValue(newPasswordFile), result.GetValue(newKeyFile));
            var added = (password, key) switch
            {
                (not null, null) => RepositoryCredentials.FromPasswordFile(password, $"--new-password-file {password}"),
                (null, not null) => RepositoryCredentials.FromKeyFile(key, $"--new-key-file {key}"),
                _ => throw new UsageException("give the new key with either --new-password-file FILE or --new-key-file FILE"),
            };
            await using var objects = Stores.Open(CommonOptions.StoreFrom(result, store));
            var repository = await access.OpenAsync(result, objects, cancellationToken);
            var slot = await repository.Keys.AddAsync(added, cancellationToken);
            CliConsole.WriteLine($"added key {slot.Id} ({slot.Kind}) to {objects.Location}");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command CreateList()
    {
        var store = CommonOptions.Store();
        var json = CommonOptions.Json();
        var command = new Command("list", "List the repository's keys; '*' marks the one given") { store, json };
        var access = new RepositoryAccess(command);
        command.SetAction(BatonApp.Handler(async (result, cancellationToken) =>
        {
            await using var objects = Stores.Open(CommonOptions.StoreFrom(result, store));
            var repository = await access.OpenAsync(result, objects, cancellationToken);
            var current = repository.Keys.Current.Id;
            var keys = (await repository.Keys.ListAsync(cancellationToken))
                .Select(k => new KeyView(k.Id, k.Kind, k.Created, k.Host, k.Id == current)).ToList();
            if (result.GetValue(json))
            {
                CliConsole.WriteLine(JsonSerializer.Serialize(keys, KeyJson.Default.ListKeyView));
                return ExitCodes.Success;
            }

            Table.Write(CliConsole.Out, [" ", "ID", "KIND", "CREATED", "HOST"], keys.Select(k => new[]
            {
                k.Current ? "*" : "", k.Id, k.Kind, k.Created.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture), k.Host,
            }).ToList());
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command CreateRemove()
    {
        var id = new Argument<string>("ID") { Description = "The key to remove (id or id prefix, from 'baton key list')" };
        var store = CommonOptions.Store();
        var command = new Command("remove", "Remove a key (never the last one, nor the one given to open the repository)") { id, store };
        var access = new RepositoryAccess(command);
        command.SetAction(BatonApp.Handler(async (result, cancellationToken) =>
        {
            await using var objects = Stores.Open(CommonOptions.StoreFrom(result, store));
            var repository = await access.OpenAsync(result, objects, cancellationToken);
            var removed = await repository.Keys.RemoveAsync(result.GetValue(id)!, cancellationToken);
            CliConsole.WriteLine($"removed key {removed.Id} ({removed.Kind}) from {objects.Location}");
            return ExitCodes.Success;
        }));
        return command;
    }
}

/// <summary>The JSON shape of a key in <c>key list --json</c>: no salt, check value or sealed secret.</summary>
internal sealed record KeyView(string Id, string Kind, DateTimeOffset Created, string Host, bool Current);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(List<KeyView>))]
internal sealed partial class KeyJson : JsonSerializerContext;
