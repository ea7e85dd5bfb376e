using System.CommandLine;
using Baton.Cli.Configuration;
using Baton.Cli.Rendering;
using Baton.Storage;

namespace Baton.Cli.Commands;

/// <summary><c>baton config</c>: the effective settings and where each comes from, with secrets redacted.</summary>
internal static class ConfigCommand
{
    public static Command Create()
    {
        var command = new Command("config", "Print the effective configuration (flags > environment > baton.toml), secrets redacted");
        command.SetAction(BatonApp.Handler((_, _) =>
        {
            var file = ConfigFile.Current;
            var source = file.Path ?? $"{ConfigFile.FileName} (none in {CliContext.Current.CurrentDirectory})";
            var rows = new List<string[]>
            {
                Row("store", "BATON_STORE", file.Store, value => StoreUri.Parse(value).Redacted),
                Row("run", "BATON_RUN", file.Run),
                Row("dir", null, file.Dir),
                Row("format", null, file.Format),
                Defaulted(Row("compression", CommonOptions.CompressionVariable, file.Compression), "auto"),
                Row("resume_args", null, file.ResumeArgs),
                Row("data", null, file.Data is { Count: > 0 } data ? string.Join(", ", data) : null),
                Row("keep", null, file.Keep is { } keep ? Keep(keep) : null),
                Secret("password", "BATON_PASSWORD", null),
                Secret("password_file", null, file.PasswordFile),
                Secret("key_file", null, file.KeyFile),
            };
            var group = Groups.GroupEnvironment.Resolve(null, null, null, CliContext.Current.GetEnvironmentVariable);
            rows.Add(["nodes", group.Nodes.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), group.Nodes.Source]);
            rows.Add(["node_rank", group.Rank.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), group.Rank.Source]);
            rows.Add(["group_id", group.GroupId.Value ?? "-", group.GroupId.Source]);
            CliConsole.WriteLine($"file: {source}");
            Table.Write(CliConsole.Out, ["SETTING", "VALUE", "FROM"], rows);
            return Task.FromResult(ExitCodes.Success);
        }));
        return command;
    }

    private static string[] Row(string name, string? variable, string? fromFile, Func<string, string>? show = null)
    {
        show ??= v => v;
        var fromEnv = variable is null ? null : CliContext.Current.GetEnvironmentVariable(variable);
        return !string.IsNullOrEmpty(fromEnv) ? [name, show(fromEnv), variable!]
            : fromFile is not null ? [name, show(fromFile), ConfigFile.FileName]
            : [name, "-", "unset"];
    }

    // A setting with a default shows it instead of "unset".
    private static string[] Defaulted(string[] row, string value) => row[2] == "unset" ? [row[0], value, "default"] : row;

    // Paths to secret files are shown (they are not secrets); the secrets themselves never are.
    private static string[] Secret(string name, string? variable, string? fromFile) =>
        Row(name, variable, fromFile, value => variable is not null ? "(set, hidden)" : value);

    private static string Keep(KeepSection keep) => string.Join(", ", new[]
    {
        keep.Last is { } last ? $"last {last}" : null,
        keep.Every is { } every ? $"every {every} steps" : null,
        keep.Within is { } within ? $"within {within}" : null,
    }.Where(p => p is not null));
}
