using System.CommandLine;

namespace Baton.Cli;

/// <summary>
/// Finds the usual command-line slips before the parser sees them, so that each gets a message saying what to type:
/// an unknown command or option (with the closest known one), and a trainer command given to <c>baton run</c>
/// without <c>--</c> whose flags would be taken for Baton's own. Without this, a misspelt option before <c>--</c> is
/// quietly taken for part of the trainer command.
/// </summary>
internal static class CommandLineMistakes
{
    private const string Separator = "--";

    // The help and version flags the parser adds to every command.
    private static readonly string[] BuiltInFlags = ["-h", "--help", "-?", "/?", "/h", "--version"];

    /// <summary>The one-line error for the first mistake in <paramref name="args"/>; null when there is none.</summary>
    public static string? Find(Command root, IReadOnlyList<string> args)
    {
        if (args.Count == 0)
        {
            return $"no command given: write 'baton COMMAND ...' with one of {string.Join(", ", root.Subcommands.Select(c => c.Name))} (see 'baton --help')";
        }

        Command command = root;
        var at = 0;
        while (at < args.Count && !args[at].StartsWith('-') && command.Subcommands.Count > 0)
        {
            var next = command.Subcommands.FirstOrDefault(c => c.Name == args[at] || c.Aliases.Contains(args[at]));
            if (next is null)
            {
                var path = command == root ? "baton" : $"baton {command.Name}";
                return $"unknown command '{args[at]}'{Suggest(args[at], command.Subcommands.Select(c => c.Name))}: see '{path} --help' for the commands";
            }

            command = next;
            at++;
        }

        if (command == root)
        {
            return null; // root flags such as --help and --version; the parser answers the rest
        }

        return FindInOptions(command, args, at);
    }

    private static string? FindInOptions(Command command, IReadOnlyList<string> args, int at)
    {
        var usage = command.Name == "run" ? " (baton run [OPTIONS] -- COMMAND [ARGS...])" : "";
        string? firstPositional = null;
        for (var i = at; i < args.Count; i++)
        {
            var token = args[i];
            if (token == Separator)
            {
                return null; // everything after '--' belongs to the trainer
            }

            if (!IsOptionLike(token))
            {
                firstPositional ??= token;
                continue;
            }

            var name = token.StartsWith("--", StringComparison.Ordinal) && token.IndexOf('=', StringComparison.Ordinal) is > 2 and var eq ? token[..eq] : token;
            var option = command.Options.FirstOrDefault(o => o.Name == name || o.Aliases.Contains(name));
            if (command.Name == "run" && firstPositional is not null && (option is not null || !BuiltInFlags.Contains(name)))
            {
                return $"'{token}' follows the trainer command '{firstPositional}' and would be read as baton's own option: put the trainer command after '--'{usage}";
            }

            if (option is null)
            {
                if (BuiltInFlags.Contains(name))
                {
                    continue;
                }

                var hint = command.Name == "run" ? "; if it is the trainer's, put the trainer command after '--'" + usage : $"; see 'baton {command.Name} --help' for the options";
                return $"unknown option {name} for 'baton {command.Name}'{Suggest(name, command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)))}{hint}";
            }

            if (name == token && TakesValue(option, i + 1 < args.Count ? args[i + 1] : null))
            {
                i++; // the option's value, which may itself start with '-'
            }
        }

        return null;
    }

    // '-' alone (standard input) and negative numbers are values, not options.
    private static bool IsOptionLike(string token) =>
        token.Length > 1 && ((token[0] == '-' && !char.IsAsciiDigit(token[1])) || token is "/?" or "/h");

    // A flag (bool) takes the next token only when it spells a truth value, as the parser does.
    private static bool TakesValue(Option option, string? next) =>
        next is not null && option.Arity.MaximumNumberOfValues > 0
        && (option.ValueType != typeof(bool) || bool.TryParse(next, out _));

    private static string Suggest(string given, IEnumerable<string> known)
    {
        var best = known.Distinct(StringComparer.Ordinal)
            .Select(k => (Name: k, Distance: Distance(given.TrimStart('-'), k.TrimStart('-'))))
            .Where(k => k.Distance <= Math.Max(1, k.Name.TrimStart('-').Length / 3)
                || (given.TrimStart('-').Length >= 2 && k.Name.TrimStart('-').StartsWith(given.TrimStart('-'), StringComparison.Ordinal)))
            .OrderBy(k => k.Distance)
            .ThenBy(k => k.Name, StringComparer.Ordinal)
            .FirstOrDefault();
        return best.Name is null ? "" : $" (did you mean {(given.StartsWith('-') ? best.Name : $"'{best.Name}'")}?)";
    }

    // Levenshtein distance with adjacent transpositions (optimal string alignment), in one flat table.
    private static int Distance(string a, string b)
    {
        var width = b.Length + 1;
        var d = new int[(a.Length + 1) * width];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i * width] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                var best = Math.Min(Math.Min(d[((i - 1) * width) + j] + 1, d[(i * width) + j - 1] + 1), d[((i - 1) * width) + j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    best = Math.Min(best, d[((i - 2) * width) + j - 2] + 1);
                }

                d[(i * width) + j] = best;
            }
        }

        return d[^1];
    }
}
